"""Answering while the index is rebuilt: questions never wait for a long rebuild.

When the corpus changed but the previous index is still whole, ``LiveEngine.open``
answers from the previous index at once, with a notice that says so, and either

- rebuilds in a background thread and switches to the new index when it is ready
  (``background=True``: the chat app, a long-lived process), or
- leaves the rebuild to ``csto-qa index`` and says how long it will take, when the
  rebuild would take longer than ``wait_seconds`` (the CLI: a one-shot command that
  exits before a background build could finish).

A rebuild expected to be short runs in the foreground, as before. The estimate comes
from the corpus size: a build here encodes ~8,000 characters of text a second on 2 cores
(the 74 KB bundled corpus: 9 s), so the default ``wait_seconds`` of 30 s covers corpora
up to ~240 KB and a 5 MB corpus (~10 min) is answered from the previous index.
A missing or damaged index has nothing to serve meanwhile and is always rebuilt first.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from csto_qa.config import EngineSettings, default_corpus_dir, default_index_dir
from csto_qa.embedding.encoder import TextEncoder, load_encoder, resolve_model_name
from csto_qa.engine import Engine
from csto_qa.errors import CstoQaError
from csto_qa.index.build import Reporter, open_index, stale_reason, stderr_reporter
from csto_qa.index.folders import check_location, recover_interrupted_swap
from csto_qa.index.manifest import read_manifest
from csto_qa.index.storage import StoredIndex, load_index
from csto_qa.ingest.chunking import ChunkParams
from csto_qa.ingest.corpus import corpus_files
from csto_qa.records import Answer, Document

BUILD_CHARS_PER_SECOND = 8_000
WAIT_SECONDS = 30.0


def estimate_build_seconds(corpus_dir: Path) -> float:
    """Seconds a full build of ``corpus_dir`` is expected to take here (from its size)."""
    total = 0
    for path in corpus_files(corpus_dir):
        try:
            total += path.stat().st_size
        except OSError:
            continue
    return total / BUILD_CHARS_PER_SECOND


def _minutes(seconds: float) -> str:
    return f"about {max(1, round(seconds / 60))} min" if seconds >= 60 else f"about {seconds:.0f} s"


class LiveEngine:
    """An ``Engine`` that can be switched to a rebuilt index while it keeps answering.

    It answers as the ``Engine`` it holds (``ask``, ``document``, ``stored``, ``settings``,
    ``encoder``). The switch is one reference assignment, so a question in flight
    finishes on the index it started with.
    """

    def __init__(self, engine: Engine, notice: str = "") -> None:
        self._engine = engine
        self.notice = notice  # what the user should know about the index in use ('' = none)
        self.updating = False
        self.error = ""  # why the last background rebuild failed ('' = it did not)
        self._thread: threading.Thread | None = None

    @property
    def current(self) -> Engine:
        return self._engine

    # What the app and the CLI use of an engine, each read from the current one at the call.
    @property
    def stored(self) -> StoredIndex:
        return self._engine.stored

    @property
    def settings(self) -> EngineSettings:
        return self._engine.settings

    @property
    def encoder(self) -> TextEncoder:
        return self._engine.encoder

    def ask(
        self,
        question: str,
        k: int = 5,
        mode: str = "hybrid",
        history: list[str] | None = None,
        abstain: bool = True,
    ) -> Answer:
        return self._engine.ask(question, k=k, mode=mode, history=history, abstain=abstain)

    def document(self, doc_id: str) -> Document:
        return self._engine.document(doc_id)

    def with_settings(self, **changes: Any) -> LiveEngine:
        return LiveEngine(self._engine.with_settings(**changes), self.notice)

    @classmethod
    def open(
        cls,
        index_dir: str | Path | None = None,
        corpus_dir: str | Path | None = None,
        model: str | None = None,
        settings: EngineSettings | None = None,
        chunking: ChunkParams | None = None,
        background: bool = False,
        wait_seconds: float = WAIT_SECONDS,
        report: Reporter = stderr_reporter,
        progress: bool = True,
    ) -> LiveEngine:
        """Open the index, answering from the previous one while a long rebuild is due."""
        corpus = Path(corpus_dir) if corpus_dir else default_corpus_dir()
        index = Path(index_dir) if index_dir else default_index_dir(corpus)
        encoder = load_encoder(resolve_model_name(model))
        check_location(index, corpus)
        recover_interrupted_swap(index)
        chunking = chunking or ChunkParams()
        try:
            reason = stale_reason(read_manifest(index), corpus, encoder.name, chunking)
        except CstoQaError:
            reason = ""  # missing or unreadable: nothing to serve, the build below runs first
        seconds = estimate_build_seconds(corpus) if reason else 0.0
        previous = None
        # Load the previous index only to serve it: once when up to date (the staleness
        # check above is not repeated), and for a rebuild that is not run first.
        if reason is None or (reason and (background or seconds > wait_seconds)):
            try:
                previous = load_index(index)
            except CstoQaError:
                previous = None
        if previous is None or reason is None:
            stored = previous or open_index(corpus, index, encoder, chunking, True, report, progress)
            return cls(Engine(stored, encoder, settings))
        old = Engine(previous, encoder, settings)
        if not background:
            notice = (
                f"The index is out of date ({reason}); these answers come from the previous index. "
                f"Update it with: csto-qa index ({_minutes(seconds)})"
            )
            return cls(old, notice)
        notice = (
            f"The index is being updated ({reason}); until it is done ({_minutes(seconds)}), "
            "answers come from the previous index."
        )
        live = cls(old, notice)

        def rebuild() -> Engine:
            stored = open_index(corpus, index, encoder, chunking, True, report, False)
            return Engine(stored, encoder, settings)

        live._start(rebuild)
        return live

    def _start(self, rebuild: Callable[[], Engine]) -> None:
        def run() -> None:
            try:
                fresh = rebuild()
            except Exception as exc:  # the thread must say why, never die silently
                self.error = str(exc) or type(exc).__name__
                self.notice = (
                    f"Updating the index failed ({self.error}); answers come from the previous index. "
                    "Fix the cause and run: csto-qa index"
                )
            else:
                self._engine, self.notice = fresh, ""
            finally:
                self.updating = False

        self.updating = True
        self._thread = threading.Thread(target=run, name="csto-qa-rebuild", daemon=True)
        self._thread.start()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for a background rebuild; True when none is running any more."""
        if self._thread is not None:
            self._thread.join(timeout)
        return not self.updating

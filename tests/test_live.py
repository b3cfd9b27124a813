"""Questions are answered from the previous index while a long rebuild is due (live.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fakes import FakeEncoder

from csto_qa.index.build import build, quiet
from csto_qa.live import LiveEngine, estimate_build_seconds

OLD_TEXT = (
    "The Collective Security Treaty Organization was founded in 2002 by six states. "
    "Armenia, Belarus, Kazakhstan, Kyrgyzstan, Russia and Tajikistan are its members. "
    "Its secretariat works in Moscow and its members hold joint military exercises every year.\n"
)
NEW_FACT = (
    "In the spring the zebra council held its summit in Astana, the capital of Kazakhstan. "
    "The delegates of the zebra council discussed border security and joint training at length. "
    "They agreed to meet again the following year in Minsk to review the progress of the plan.\n"
)


@pytest.fixture()
def changed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """(corpus, index): an index built, then a document added to the corpus."""
    monkeypatch.setattr("csto_qa.live.load_encoder", lambda name=None: FakeEncoder())
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text(OLD_TEXT, encoding="utf-8")
    # BM25's IDF is 0 for a term in one of two documents: a third keeps the scores positive.
    (corpus / "c.txt").write_text(OLD_TEXT.replace("2002", "1992").replace("six", "nine"), encoding="utf-8")
    build(corpus, tmp_path / "index", FakeEncoder(), report=quiet, progress=False)
    (corpus / "b.txt").write_text(NEW_FACT, encoding="utf-8")
    return corpus, tmp_path / "index"


def top_doc(engine: LiveEngine) -> str:
    passages = engine.ask("zebra council summit", mode="bm25", abstain=False).passages
    return passages[0].doc if passages else "(none)"


def test_a_short_rebuild_runs_first_and_there_is_no_notice(changed: tuple[Path, Path]) -> None:
    corpus, index = changed
    engine = LiveEngine.open(index_dir=index, corpus_dir=corpus, report=quiet, progress=False)
    assert engine.notice == "" and top_doc(engine) == "b"


def test_a_long_rebuild_is_left_to_the_index_command_with_a_notice(changed: tuple[Path, Path]) -> None:
    corpus, index = changed
    engine = LiveEngine.open(index_dir=index, corpus_dir=corpus, wait_seconds=0, report=quiet, progress=False)
    assert "out of date" in engine.notice and "csto-qa index" in engine.notice and "b.txt" in engine.notice
    assert top_doc(engine) == "(none)"  # the previous index: the new document is not in it yet
    assert not engine.updating


def test_in_the_background_the_previous_index_answers_until_the_new_one_is_ready(
    changed: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    corpus, index = changed
    gate = threading.Event()
    real_open = __import__("csto_qa.live", fromlist=["open_index"]).open_index

    def slow_open(*args: object, **kwargs: object):  # the rebuild waits until the test lets it go
        gate.wait(30)
        return real_open(*args, **kwargs)

    monkeypatch.setattr("csto_qa.live.open_index", slow_open)
    engine = LiveEngine.open(
        index_dir=index, corpus_dir=corpus, background=True, report=quiet, progress=False
    )
    assert engine.updating and "being updated" in engine.notice
    assert top_doc(engine) == "(none)"
    gate.set()
    assert engine.wait(60)
    assert engine.notice == "" and engine.error == "" and top_doc(engine) == "b"


def test_a_failed_background_rebuild_says_why_and_keeps_answering(
    changed: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus, index = changed

    def failing(*args: object, **kwargs: object):
        raise OSError("disk full")

    monkeypatch.setattr("csto_qa.live.open_index", failing)
    engine = LiveEngine.open(
        index_dir=index, corpus_dir=corpus, background=True, report=quiet, progress=False
    )
    assert engine.wait(30)
    assert "disk full" in engine.notice and "csto-qa index" in engine.notice
    assert top_doc(engine) == "(none)"


def test_the_estimate_grows_with_the_corpus(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("x" * 8_000, encoding="utf-8")
    assert estimate_build_seconds(tmp_path) == pytest.approx(1.0)
    (tmp_path / "b.txt").write_text("x" * 16_000, encoding="utf-8")
    assert estimate_build_seconds(tmp_path) == pytest.approx(3.0)


def test_an_up_to_date_index_is_checked_and_loaded_once(
    changed: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    import csto_qa.index.build as indexing

    corpus, index = changed
    LiveEngine.open(index_dir=index, corpus_dir=corpus, report=quiet, progress=False)  # rebuilt
    calls: list[Path] = []
    real = indexing.corpus_fingerprint
    monkeypatch.setattr(indexing, "corpus_fingerprint", lambda folder: calls.append(folder) or real(folder))
    engine = LiveEngine.open(index_dir=index, corpus_dir=corpus, report=quiet, progress=False)
    assert len(calls) == 1 and engine.notice == "" and top_doc(engine) == "b"


def test_a_damaged_up_to_date_index_is_rebuilt(changed: tuple[Path, Path]) -> None:
    corpus, index = changed
    LiveEngine.open(index_dir=index, corpus_dir=corpus, report=quiet, progress=False)
    (index / "chunks.jsonl").write_text("{}\n", encoding="utf-8")
    said: list[str] = []
    engine = LiveEngine.open(index_dir=index, corpus_dir=corpus, report=said.append, progress=False)
    assert any("build" in m for m in said) and top_doc(engine) == "b"

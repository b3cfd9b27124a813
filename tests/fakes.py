"""Test doubles shared by the test modules."""

from __future__ import annotations

import hashlib
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import numpy as np

from benchmarks.processes import free_port
from csto_qa.config import EngineSettings
from csto_qa.evaluation.questions import EvalQuestion
from csto_qa.index.manifest import (
    BM25Info,
    CorpusInfo,
    Counts,
    DenseInfo,
    IndexManifest,
    ModelInfo,
)
from csto_qa.ingest.chunking import ChunkParams
from csto_qa.records import Answer, Chunk, Document, Passage, SourceRef

if TYPE_CHECKING:
    from csto_qa.engine import Engine

__all__ = [
    "DOC_TEXT",
    "EVAL_QUESTIONS",
    "EVAL_RANKINGS",
    "EVAL_TEXTS",
    "TINY_CORPUS",
    "TINY_DOCS",
    "FakeEncoder",
    "RankingEngine",
    "eval_question",
    "fake_manifest",
    "free_port",
    "open_with_messages",
    "sample_answer",
    "sample_lookup",
    "sample_passage",
    "scripted_engine",
    "write_tiny_corpus",
]


class FakeEncoder:
    """The Encoder interface with text-seeded random unit vectors: deterministic, instant."""

    name, weights_sha256, dim = "fake-encoder", "", 16

    def encode(self, texts: list[str], batch_size: int = 32, progress: bool = False) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            seed = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest()
            vector = np.random.default_rng(int.from_bytes(seed, "little")).standard_normal(self.dim)
            out[row] = vector / np.linalg.norm(vector)
        return out

    def encode_query(self, text: str) -> np.ndarray:
        return self.encode([text])[0]


def fake_manifest(documents: int = 1, sentences: int = 1, chunks: int = 1) -> IndexManifest:
    """The manifest of an index built with ``FakeEncoder`` and default chunking, for stand-ins."""
    encoder = FakeEncoder()
    return IndexManifest.new(
        model=ModelInfo(encoder.name, encoder.weights_sha256, encoder.dim),
        corpus=CorpusInfo(files={}, skipped=(), manifest=False, accounts=()),
        chunking=ChunkParams(),
        bm25=BM25Info(1.5, 0.75, 0.25, 0),
        dense=DenseInfo("flat", "inner_product", normalized=True),
        counts=Counts(documents, sentences, chunks),
    )


# free_port (above) is the benchmarks' own: one definition for the tests and the tools.

TINY_CORPUS = Path(__file__).resolve().parent / "data" / "tiny"
# The tiny corpus of the fast tests, as files (tests/data/tiny): three short documents about
# the CSTO (two .txt, one Markdown with headings), by file name.
TINY_DOCS = {p.name: p.read_text(encoding="utf-8") for p in sorted(TINY_CORPUS.iterdir())}


def write_tiny_corpus(folder: Path) -> Path:
    """A copy of the tiny corpus in ``folder`` (created), for tests that change or index it."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in TINY_DOCS.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def open_with_messages(tmp_path: Path, corpus: Path) -> tuple[Engine, list[str]]:
    """``Engine.open`` of ``corpus`` into ``tmp_path/index`` (use with the ``fake_model``
    fixture), and every message it reported."""
    from csto_qa.engine import Engine

    messages: list[str] = []
    engine = Engine.open(
        index_dir=tmp_path / "index", corpus_dir=corpus, report=messages.append, progress=False
    )
    return engine, messages


def scripted_engine(ask: Any) -> Any:
    """Just enough of an engine for the app, with a scripted ``ask``."""
    return SimpleNamespace(
        ask=ask,
        document=lambda doc_id: Document(doc_id, doc_id, ""),
        settings=EngineSettings(),
        stored=SimpleNamespace(documents={}, chunks=[]),
        encoder=SimpleNamespace(name="fake-model"),
    )


# Records for the rendering tests: a passage of DOC_TEXT with markup in every field.
DOC_TEXT = (
    "Intro sentence one. Intro two.\nThe passage starts. The <b>answer</b> is here. Passage ends.\nOutro."
)


def sample_passage(**changes: Any) -> Passage:
    start = DOC_TEXT.index("The passage")
    end = DOC_TEXT.index("\nOutro")
    h_start = DOC_TEXT.index("The <b>")
    h_end = DOC_TEXT.index(" Passage ends")
    fields = dict(
        rank=1, doc="doc-a", title="Doc <A>", section="History & <i>more</i>", start=start, end=end,
        text=DOC_TEXT[start:end], highlight=DOC_TEXT[h_start:h_end], highlight_start=h_start,
        highlight_end=h_end, score=0.75, bm25_score=3.5, bm25_rank=2, dense_score=0.61, dense_rank=1,
        sources=["doc-a", "doc-b"], chunk_id=7, matched_terms=["answer", "<x>"],
        copies=[SourceRef("doc-b", "Doc B", "Sec B", 0, 10)],
    )  # fmt: skip
    fields.update(changes)
    return Passage(**fields)


def sample_answer(**changes: Any) -> Answer:
    fields: dict[str, Any] = dict(
        question="What is it?", query="What is it?", mode="hybrid", abstained=False,
        passages=[sample_passage()], confidence=0.8, message="", timings_ms={"total": 12.0},
    )  # fmt: skip
    fields.update(changes)
    return Answer(**fields)


def sample_lookup(doc_id: str) -> Document | None:
    return Document(doc_id, "Doc <A>", DOC_TEXT) if doc_id == "doc-a" else None


# A stand-in engine for the evaluation and its report: fixed rankings per (query, mode).
EVAL_TEXTS = {
    "a": "The treaty was signed on 15 May 1992 in Tashkent.",
    "b": "Members meet every year in Moscow.",
    "c": "Armenia froze its participation in 2024.",
}


class RankingEngine:
    """Enough of ``Engine`` for :func:`evaluate`: a fixed ranking per (question, mode).

    It declines below its own ``decline_below``, not at ``settings.abstain_threshold`` (0.0
    here): the evaluation must report the engine's decision, not recompute one. A ranking
    entry "key:highlight" highlights only that part of the passage; ``phrases`` gives the
    answer phrase marked on the first passage of a question.
    """

    def __init__(
        self,
        rankings: dict[tuple[str, str], tuple[list[str], float]],
        phrases: dict[str, str] | None = None,
        decline_below: float = 0.4,
    ) -> None:
        self.rankings = rankings
        self.phrases = phrases or {}
        self.decline_below = decline_below
        self.settings = EngineSettings(abstain_threshold=0.0)
        self.calls: list[tuple[str, tuple[str, ...], bool]] = []
        chunks = [Chunk(i, "doc", "Doc", "", 0, len(t), t) for i, t in enumerate(EVAL_TEXTS.values())]
        self.stored = SimpleNamespace(chunks=chunks, manifest=fake_manifest(1, len(chunks), len(chunks)))
        self.encoder = SimpleNamespace(name="fake-model")

    def ask(
        self,
        question: str,
        k: int = 5,
        mode: str = "hybrid",
        history: list[str] | None = None,
        abstain: bool = True,
    ) -> Answer:
        self.calls.append((question, tuple(history or ()), abstain))
        query = " ".join([*(history or [])[-1:], question])  # a stand-in for the rewrite
        keys, confidence = self.rankings[(query, mode)]
        if abstain and confidence < self.decline_below:
            return Answer(question, query, mode, True, [], confidence, "declined")
        passages = []
        for r, entry in enumerate(keys[:k], start=1):
            key, _, highlight = entry.partition(":")
            text = EVAL_TEXTS[key]
            passage = Passage(
                r, "doc", "Doc", "", 0, 1, text, highlight or text, 0, 1, 1.0, None, None, None, None, ["doc"]
            )
            if r == 1 and question in self.phrases:
                passage.answer = self.phrases[question]  # type: ignore[attr-defined]
            passages.append(passage)
        return Answer(question, query, mode, False, passages, confidence)


def eval_question(qid: str, question: str, answers: list[str], category: str) -> EvalQuestion:
    answerable = category != "unanswerable"
    return EvalQuestion(qid, question, tuple(answers), ("doc",) if answerable else (), category, answerable)


EVAL_QUESTIONS = [
    eval_question("q1", "when signed", ["15 May 1992"], "dates_numbers"),
    eval_question("q2", "armenia", ["froze its participation"], "people_countries"),
    eval_question("q3", "budget", [], "unanswerable"),
]
EVAL_RANKINGS = {
    ("when signed", "hybrid"): (["a", "b"], 0.8),
    ("armenia", "hybrid"): (["b", "c"], 0.35),  # found at rank 2, but would be declined
    ("budget", "hybrid"): (["b"], 0.2),  # declined, correctly
    ("when signed", "bm25"): (["b", "a"], 0.8),
    ("armenia", "bm25"): (["b"], 0.5),  # missed
    ("budget", "bm25"): (["b"], 0.6),  # answered, wrongly
}

"""The engine: one object that the CLI, the chat app, the evaluation and the benchmark call.

engine = Engine.open()                  # loads (or builds) index/ and the model
answer = engine.ask("When did Uzbekistan suspend its membership?", k=5, mode="hybrid")
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from csto_qa.answer.assemble import AnswerBuilder
from csto_qa.answer.decline import confidence as decline_score
from csto_qa.answer.decline import decline_message
from csto_qa.config import EngineSettings, check_request, default_corpus_dir, default_index_dir
from csto_qa.embedding.encoder import TextEncoder, load_encoder, resolve_model_name
from csto_qa.errors import QueryError
from csto_qa.index.build import Reporter, open_index, stderr_reporter
from csto_qa.index.storage import StoredIndex
from csto_qa.ingest.chunking import ChunkParams
from csto_qa.records import Answer, Document
from csto_qa.retrieval.followup import contextualize
from csto_qa.retrieval.retriever import Retriever
from csto_qa.retrieval.tokenizing import clean_query, tokenize

MAX_HISTORY = 10  # earlier questions a follow-up may lean on (the latest ones)
EMPTY_QUESTION = "Please type a question about the CSTO, for example: When was the CSTO founded?"
NOT_FOUND = "The documents do not answer this question."
WEAK_MATCH = "These are the closest passages, but they may not answer the question directly."


def cut_note(length: int, limit: int) -> str:
    """Said with every answer to a question over the limit, so the cut is never silent."""
    return (
        f"Only the first {limit:,} characters of the question were searched (it has {length:,}); "
        "ask a shorter question to search all of it."
    )


def _say(*parts: str) -> str:
    return " ".join(p for p in parts if p)


EMPTY_CORPUS = "The corpus is empty: add .txt or .md files to corpus/ and run: csto-qa index"


class Answerer(Protocol):
    """What the app needs of an engine: ``Engine``, or ``live.LiveEngine`` that holds one."""

    @property
    def stored(self) -> StoredIndex: ...

    @property
    def settings(self) -> EngineSettings: ...

    @property
    def encoder(self) -> TextEncoder: ...

    def ask(
        self,
        question: str,
        k: int = ...,
        mode: str = ...,
        history: list[str] | None = ...,
        abstain: bool = ...,
    ) -> Answer: ...

    def document(self, doc_id: str) -> Document: ...

    def with_settings(self, **changes: Any) -> Answerer: ...


class Engine:
    """Hybrid retrieval over a stored index with a loaded encoder."""

    def __init__(
        self, stored: StoredIndex, encoder: TextEncoder, settings: EngineSettings | None = None
    ) -> None:
        self.stored = stored
        self.encoder = encoder
        self.settings = settings or EngineSettings()
        chunk_sentences = np.asarray([c.sentences for c in stored.chunks], dtype=np.int64).reshape(-1, 2)
        self.retriever = Retriever(
            stored.bm25, stored.dense, self.settings, stored.sentence_vectors, chunk_sentences
        )
        self.builder = AnswerBuilder(stored)

    @classmethod
    def open(
        cls,
        index_dir: str | Path | None = None,
        corpus_dir: str | Path | None = None,
        model: str | None = None,
        settings: EngineSettings | None = None,
        chunking: ChunkParams | None = None,
        auto_build: bool = True,
        report: Reporter = stderr_reporter,
        progress: bool = True,
    ) -> Engine:
        """Load the model and the index, building or refreshing the index when needed.

        A missing or stale index (corpus, model or chunking changed) is rebuilt with a
        message when ``auto_build``; a damaged one is an error that names the file and the
        fix, unless ``auto_build`` is set, in which case it is rebuilt too.
        """
        corpus_dir = Path(corpus_dir) if corpus_dir else default_corpus_dir()
        index_dir = Path(index_dir) if index_dir else default_index_dir(corpus_dir)
        encoder = load_encoder(resolve_model_name(model))
        stored = open_index(corpus_dir, index_dir, encoder, chunking, auto_build, report, progress)
        return cls(stored, encoder, settings)

    def with_settings(self, **changes: Any) -> Engine:
        """A copy of this engine with other retrieval settings (same index and model)."""
        return Engine(self.stored, self.encoder, replace(self.settings, **changes))

    def document(self, doc_id: str) -> Document:
        """A document of the index by id (only documents of the index can be reached)."""
        if not isinstance(doc_id, str):
            raise QueryError(
                f"a document id is a string such as 'csto-wikipedia', not {type(doc_id).__name__}"
            )
        try:
            return self.stored.documents[doc_id]
        except KeyError:
            raise QueryError(f"there is no document {doc_id!r} in the index") from None

    def ask(
        self,
        question: str,
        k: int = 5,
        mode: str = "hybrid",
        history: list[str] | None = None,
        abstain: bool = True,
    ) -> Answer:
        """Cited passages answering ``question``, or an abstention.

        ``history`` lists the earlier questions of the conversation (oldest first) so a
        follow-up such as "and when did it leave?" is understood; ``abstain=False``
        returns the passages even when the evidence is weak (used by the evaluation).
        """
        check_request(k, mode, self.settings.max_k)
        if history is not None and not isinstance(history, list | tuple):
            raise QueryError(f"history must be a list of the earlier questions, not {type(history).__name__}")
        question = question if isinstance(question, str) else str(question)
        # A JSON client can send a lone surrogate ("\ud800"): make the text encodable, then
        # drop what no keyboard types (control, zero-width and bidi characters).
        question = question.encode("utf-8", "replace").decode("utf-8")
        limit = self.settings.max_query_chars
        cleaned = clean_query(question[: 2 * limit])
        if not cleaned:
            return Answer(question, "", mode, True, [], 0.0, EMPTY_QUESTION)
        if not self.stored.chunks:
            return Answer(question, cleaned[:limit], mode, True, [], 0.0, EMPTY_CORPUS)
        # Every input is capped before any work: a 100,000-character question or history
        # costs what a 4,000-character one does. A cut question is still answered (a pasted
        # paragraph often ends in the question), and every reply to it says so.
        cut = cut_note(len(question), limit) if len(question) > 2 * limit or len(cleaned) > limit else ""
        earlier = [
            clean_query(h.encode("utf-8", "replace").decode("utf-8")[: 2 * limit])
            for h in (history or [])[-MAX_HISTORY:]
            if isinstance(h, str)
        ]
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        query = contextualize(cleaned[:limit], earlier)[:limit]
        t_rewritten = time.perf_counter()
        vector = self.encoder.encode_query(query)
        t1 = time.perf_counter()
        tokens = tokenize(query)
        hits = self.retriever.retrieve(tokens, vector, mode, max(k * 4, 20))
        t2 = time.perf_counter()
        built = self.builder.build(query, vector, hits, k)
        t3 = time.perf_counter()
        # The follow-up rewrite is its own stage, so that "encode" is the encoder alone (the
        # latency target is set against it); "total" spans all four.
        timings.update(
            rewrite=(t_rewritten - t0) * 1e3,
            encode=(t1 - t_rewritten) * 1e3,
            retrieve=(t2 - t1) * 1e3,
            assemble=(t3 - t2) * 1e3,
            total=(t3 - t0) * 1e3,
        )
        passages = built.passages
        # One score for the decline rule: the cosine evidence (off-topic questions fail it)
        # capped by the focus support of the lead passage (on-topic questions the documents
        # do not answer fail that); see csto_qa/answer/decline.py.
        confidence = decline_score(built.cosine, built.support)
        threshold = self.settings.abstain_threshold
        if not passages or (abstain and built.cosine < threshold):
            return Answer(question, query, mode, True, [], confidence, _say(cut, NOT_FOUND), timings)
        if abstain and confidence < threshold:
            message = decline_message(
                cleaned[:limit], built.missing, built.focus.kind, built.type_found, built.missing_everywhere
            )
            return Answer(
                question,
                query,
                mode,
                True,
                passages,
                confidence,
                _say(cut, message),
                timings,
                folded=True,
                missing=built.missing,
            )
        message = _say(cut, WEAK_MATCH if confidence < self.settings.weak_threshold else "")
        lead = passages[0]
        return Answer(
            question,
            query,
            mode,
            False,
            passages,
            confidence,
            message,
            timings,
            answer=lead.answer,
            answer_start=lead.answer_start,
            answer_end=lead.answer_end,
            answer_doc=lead.doc if lead.answer is not None else None,
        )

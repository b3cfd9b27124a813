"""Answer assembly: collapse near-duplicate passages, highlight the answering sentence,
and decide whether the evidence is strong enough to answer at all."""

from __future__ import annotations

import math

import numpy as np

from csto_qa.records import Chunk, Hit, Passage, SourceRef, page_span
from csto_qa.storage import StoredIndex
from csto_qa.tokenizing import stem, words

DUPLICATE_CONTAINMENT = 0.5  # share of word trigrams the shorter passage must share
LEXICAL_WEIGHT = 0.3  # weight of query-term coverage next to cosine when picking a sentence


def shingles(text: str, n: int = 3) -> set[tuple[str, ...]]:
    """Word n-grams of folded text, stop words kept so that phrasing counts."""
    tokens = [w for w in words(text)]
    if len(tokens) < n:
        return {tuple(tokens)} if tokens else set()
    return {tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)}


def containment(a: set[tuple[str, ...]], b: set[tuple[str, ...]]) -> float:
    """|a ∩ b| / min(|a|, |b|): 1.0 when one passage is inside the other."""
    if not a or not b:
        return 0.0
    return len(a & b) / min(len(a), len(b))


class AnswerBuilder:
    """Turns ranked hits into cited passages for one stored index."""

    def __init__(self, stored: StoredIndex) -> None:
        self.stored = stored
        matrix = stored.bm25.matrix
        n_docs = max(stored.bm25.n_docs, 1)
        df = np.diff(matrix.indptr) if matrix.shape[1] else np.zeros(0)
        self._idf = {
            term: max(math.log((n_docs - df[i] + 0.5) / (df[i] + 0.5)), 0.1)
            for term, i in stored.bm25.vocab.items()
        }
        # Per-chunk and per-sentence features, computed on first use and kept: a corpus
        # of a million passages must not pay for them all at load time.
        self._stems: dict[int, frozenset[str]] = {}
        self._grams: dict[int, set[tuple[str, ...]]] = {}

    def _shingles(self, chunk_id: int) -> set[tuple[str, ...]]:
        cached = self._grams.get(chunk_id)
        if cached is None:
            cached = self._grams[chunk_id] = shingles(self.stored.chunks[chunk_id].text)
        return cached

    def _sentence_stems(self, sid: int) -> frozenset[str]:
        cached = self._stems.get(sid)
        if cached is None:
            sentence = self.stored.sentences[sid]
            text = self.stored.documents[sentence.doc_id].text[sentence.start : sentence.end]
            cached = self._stems[sid] = frozenset(stem(w) for w in words(text))
        return cached

    def _term_weights(self, query: str) -> dict[str, tuple[str, float]]:
        """Stem → (surface word, IDF) for the query's content words."""
        weights: dict[str, tuple[str, float]] = {}
        for word in words(query):
            s = stem(word)
            weights.setdefault(s, (word, self._idf.get(s, 1.0)))
        return weights

    def _best_sentence(
        self, chunk: Chunk, vector: np.ndarray, terms: dict[str, tuple[str, float]]
    ) -> tuple[int, float]:
        """Global id of the sentence of ``chunk`` that best answers, and its cosine."""
        first, last = chunk.sentences
        if last <= first:
            return -1, 0.0
        cosines = self.stored.sentence_vectors[first:last].astype(np.float32) @ vector
        total = sum(w for _, w in terms.values()) or 1.0
        best, best_score = first, -math.inf
        for offset, sid in enumerate(range(first, last)):
            present = self._sentence_stems(sid)
            coverage = sum(w for s, (_, w) in terms.items() if s in present) / total
            score = float(cosines[offset]) + LEXICAL_WEIGHT * coverage
            if score > best_score:
                best, best_score = sid, score
        return best, float(cosines[best - first])

    def build(self, query: str, vector: np.ndarray, hits: list[Hit], k: int) -> tuple[list[Passage], float]:
        """Up to ``k`` cited passages and the answer's confidence (best evidence cosine).

        A hit whose text is mostly inside a passage already cited, or whose answering
        sentence is the one already highlighted, is folded into that citation as a copy.
        """
        terms = self._term_weights(query)
        passages: list[Passage] = []
        grams: list[set[tuple[str, ...]]] = []
        confidence = 0.0
        for hit in hits:
            chunk = self.stored.chunks[hit.chunk_id]
            chunk_grams = self._shingles(chunk.chunk_id)
            sid, cosine = self._best_sentence(chunk, vector, terms)
            confidence = max(confidence, cosine, hit.dense_score or 0.0)
            doc_text = self.stored.documents[chunk.doc_id].text
            h_start, h_end = (
                (self.stored.sentences[sid].start, self.stored.sentences[sid].end)
                if sid >= 0
                else (chunk.start, chunk.end)
            )
            highlight = doc_text[h_start:h_end]
            target = self._same_as(passages, grams, chunk_grams, highlight)
            if target is not None:
                if chunk.doc_id not in target.sources:
                    target.sources.append(chunk.doc_id)
                target.copies.append(
                    SourceRef(chunk.doc_id, chunk.title, chunk.section, chunk.start, chunk.end)
                )
                continue
            if len(passages) == k:
                continue
            present = {stem(w) for w in words(chunk.index_text)}
            grams.append(chunk_grams)
            passages.append(
                Passage(
                    rank=len(passages) + 1,
                    doc=chunk.doc_id,
                    title=chunk.title,
                    section=chunk.section,
                    start=chunk.start,
                    end=chunk.end,
                    text=chunk.text,
                    highlight=highlight,
                    highlight_start=h_start,
                    highlight_end=h_end,
                    score=round(hit.score, 6),
                    bm25_score=None if hit.bm25_score is None else round(hit.bm25_score, 4),
                    bm25_rank=hit.bm25_rank,
                    dense_score=None if hit.dense_score is None else round(hit.dense_score, 4),
                    dense_rank=hit.dense_rank,
                    sources=[chunk.doc_id],
                    chunk_id=chunk.chunk_id,
                    matched_terms=[w for s, (w, _) in terms.items() if s in present],
                    **page_span(self.stored.documents[chunk.doc_id].pages, chunk.start, chunk.end),
                )
            )
        return passages, round(confidence, 4)

    @staticmethod
    def _same_as(
        passages: list[Passage],
        grams: list[set[tuple[str, ...]]],
        chunk_grams: set[tuple[str, ...]],
        highlight: str,
    ) -> Passage | None:
        """The cited passage this one repeats, if any."""
        folded = " ".join(words(highlight))
        for passage, seen in zip(passages, grams, strict=True):
            if containment(chunk_grams, seen) >= DUPLICATE_CONTAINMENT:
                return passage
            if folded and folded == " ".join(words(passage.highlight)):
                return passage
        return None

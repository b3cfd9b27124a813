"""Answer assembly: collapse near-duplicate passages, choose the lead sentence and its answer
phrase (picked by :mod:`csto_qa.answer.phrase`), and measure how well the evidence supports
the question's focus.

The lead sentence is chosen among the sentences of the first ``LEAD_POOL`` passages by
:func:`sentence_score`: embedding cosine, IDF-weighted coverage of the question's focus
terms, whether the sentence holds a phrase of the expected answer type (or an info-box
field whose key the question names, for "which X ...", a name the question lacks, not
made of the corpus's topic words, or, for "who ... from?", a country after "from"), and
a penalty for text that is not prose; a pronoun-led sentence after a restatement of the
question scores with that sentence's cosine and coverage, and the passages compete with
their fused score and their own cosine. The passage holding it is cited first. The support
of the answer (:attr:`Built.support`, weighed by :mod:`csto_qa.answer.evidence`) is what the
engine's decline rule reads.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

import numpy as np

from csto_qa.answer.answer_type import (
    TYPED,
    AnswerType,
    Span,
    asks_name,
    asks_source,
    class_words,
    defines,
    find_phrases,
    source_spans,
)
from csto_qa.answer.evidence import EvidenceReader, Lead, corpus_idf
from csto_qa.answer.features import Asked, Bounded, SentenceFeatures, covered, new_phrase, typed_sentences
from csto_qa.answer.focus import Focus, question_focus
from csto_qa.answer.phrase import pick_phrase
from csto_qa.index.storage import StoredIndex
from csto_qa.records import Chunk, Hit, Passage, SourceRef, page_span
from csto_qa.retrieval.tokenizing import fold, stem, words

DUPLICATE_CONTAINMENT = 0.5  # share of word trigrams the shorter passage must share
COPY_COVERS = 0.8  # share of a cited passage's trigrams a copy must hold to replace it
# Weights of the sentence score next to the sentence's cosine (scripts/answer_sweep.py
# lead; the chosen values sit on plateaus, see docs/eval/answer-layer.md).
COVERAGE_WEIGHT = 0.5  # IDF-weighted focus-term coverage of the sentence
# The least IDF sum coverage is a share of. A question made only of the corpus's topic words
# ("Which countries are members of the CSTO?": "member" and "csto", IDF at its 0.1 floor)
# otherwise gave full coverage to any sentence saying "members" and "CSTO", and a 0.56-cosine
# sentence about observer states led over the 0.79 one listing the members.
# scripts/answer_sweep.py lead, hybrid, lead % main / dev-lead / dev-judge / dev-heldout:
# 0: 84.5 / 64.3 / 71.3 / 87.2; 0.3 to 2.0: 84.5 / 64.3 / 72.3 / 87.2; 3.0: dev-judge 73.4
# (3.0 reaches questions with one fairly rare word); every decline figure the same. 1.0 is
# the middle of the plateau (about one mid-frequency word: "countri" 0.95).
COVERAGE_FLOOR = 1.0
TYPE_WEIGHT = 0.5  # the sentence holds a phrase of the expected answer type
PROSE_WEIGHT = 0.4  # times prose_penalty: table rules, stubs, link lines, titles
RANK_WEIGHT = 0.2  # times the passage's fused score relative to the first passage's
NOVELTY_WEIGHT = 0.1  # share of the sentence's content words the question does not have
LEAD_POOL = 3  # passages whose sentences compete for the lead
PASSAGE_WEIGHT = 0.6  # times the cosine of the question with the sentence's whole passage
# A sentence that opens with a pronoun ("It is meant to ...") speaks of the previous
# sentence's subject. When that sentence only restates the question (novelty below
# RESTATES), the continuation is scored with at least CONTEXT_WEIGHT of its cosine and
# coverage: "This force is called the Collective Rapid Reaction Force." must lose to "It
# is meant to stop military attacks ...". Also inheriting when only the continuation has
# the asked type was measured and dropped: it let "This coincided with a visit from ...
# Nancy Pelosi" take the lead from the sentence naming the asked secretary (main set
# -1 question, dev set -1).
CONTEXT_WEIGHT = 1.0
RESTATES = 0.5


# Kinds outside TYPED whose phrase is still marked: the predicate of "X is ..." and the
# reason clause ("because of a trade dispute with Russia"); measured in
# docs/eval/answer-layer.md (lead section).
_MARKED_UNTYPED = frozenset({AnswerType.DEFINITION, AnswerType.REASON})


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


@dataclass
class Built:
    """What :meth:`AnswerBuilder.build` returns: the passages and the evidence about them."""

    passages: list[Passage]
    cosine: float  # best question-evidence cosine over the cited passages and sentences
    support: float  # IDF-weighted focus support of the lead passages (focus.support), times the type factor
    focus: Focus
    missing: list[str] = field(default_factory=list)  # focus words the lead passage lacks
    type_found: bool = True  # a phrase of the expected type is in the lead sentence or passage
    missing_everywhere: bool = True  # no evidence passage has ``missing`` (else only the lead's lacks it)


@dataclass
class _Candidate:
    hit: Hit
    chunk: Chunk
    sid: int
    cosine: float
    score: float  # sentence score of the best sentence
    typed: bool  # the best sentence holds what the question's form asks for


def sentence_score(cosine: float, covered: float, typed: bool, penalty: float, novelty: float) -> float:
    """Score of a sentence as the answer: cosine plus coverage, type and novelty evidence,
    minus debris. ``novelty`` (the share of the sentence's words the question lacks) is
    what makes "The council is led by N." beat "The council has a leader." when the
    question's form names no type."""
    return (
        cosine
        + COVERAGE_WEIGHT * covered
        + TYPE_WEIGHT * float(typed)
        + NOVELTY_WEIGHT * novelty
        - PROSE_WEIGHT * penalty
    )


# Entries the bounded feature caches keep, sized by measurement on this corpus so that each
# stays near 50 MB however large the corpus (tracemalloc means): a passage's sentence
# features, a highlight's phrase words of one kind and its folded words a few hundred bytes
# (~330 for a highlight); the evidence caches are sized in evidence.py.
PASSAGE_CACHE = 10_000
HIGHLIGHT_CACHE = 100_000
PAIR_CACHE = 100_000  # duplicate verdicts of passage pairs, ~200 bytes each


class AnswerBuilder:
    """Turns ranked hits into cited passages for one stored index."""

    def __init__(self, stored: StoredIndex) -> None:
        self.stored = stored
        self._n_docs = max(stored.bm25.n_docs, 1)
        # Stems in more than half the passages are the corpus's topic ("csto", "russia",
        # "member": IDF at its floor here), no new name in an answer (SentenceFeatures.of).
        self._idf, self._common = corpus_idf(stored)
        self.evidence = EvidenceReader(stored, self._idf, self._common)
        # Per-chunk and per-sentence features, computed on first use and kept: a corpus
        # of a million passages must not pay for them all at load time.
        self._grams: dict[int, set[tuple[str, ...]]] = {}
        # A highlighted sentence's phrases of a type, their folded words, its folded text.
        self._phrases: Bounded[tuple[int, AnswerType], tuple[list[Span], list[frozenset[str]]]] = Bounded(
            HIGHLIGHT_CACHE
        )
        self._folded_sentences: Bounded[int, str] = Bounded(HIGHLIGHT_CACHE)
        # Each passage's sentence features (stems, debris penalty, continuation, phrase
        # words by type), one record per passage: the scorer read five dicts per sentence.
        self._sentence_features: Bounded[int, SentenceFeatures] = Bounded(PASSAGE_CACHE)
        # A highlight's folded words (the duplicate check ran words() ~97 times a query,
        # 0.85 ms, warm).
        self._folded: Bounded[str, str] = Bounded(HIGHLIGHT_CACHE)
        self._duplicates: Bounded[tuple[int, int], bool] = Bounded(PAIR_CACHE)

    def _shingles(self, chunk_id: int) -> set[tuple[str, ...]]:
        cached = self._grams.get(chunk_id)
        if cached is None:
            cached = self._grams[chunk_id] = shingles(self.stored.chunks[chunk_id].text)
        return cached

    def _repeats(self, a: int, b: int) -> bool:
        """One passage's trigrams are mostly inside the other's (containment is symmetric;
        the verdict is kept per pair: ~80 set intersections a query, 0.15 ms)."""
        key = (a, b) if a <= b else (b, a)
        verdict = self._duplicates.get(key)
        if verdict is None:
            share = containment(self._shingles(a), self._shingles(b))
            verdict = self._duplicates.put(key, share >= DUPLICATE_CONTAINMENT)
        return verdict

    def folded_words(self, text: str) -> str:
        """``text``'s folded words joined by spaces (kept: highlights recur across queries)."""
        cached = self._folded.get(text)
        if cached is None:
            cached = self._folded.put(text, " ".join(words(text)))
        return cached

    def sentence_text(self, sid: int) -> str:
        """The sentence as it reads: an info-box field's ``Name: value`` form when the
        chunker gives one (``Sentence.display``), else the document's own text."""
        sentence = self.stored.sentences[sid]
        return sentence.display or self.stored.documents[sentence.doc_id].text[sentence.start : sentence.end]

    def answer_span(self, sid: int, focus: Focus, source: bool = False) -> tuple[str, int, int] | None:
        """The answer phrase of sentence ``sid`` with its document offsets, if it has one;
        for a "who ... from?" question (``source``) in a sentence naming no person, the
        country list after "from" (answer_type.source_spans).

        The phrase is found in the sentence as it reads and located in the document's own
        text, so ``document.text[start:end] == phrase`` always holds; a phrase that only
        the display form spells (a field joined across lines) is given as ``None``.
        """
        if sid < 0 or (focus.kind not in TYPED and focus.kind not in _MARKED_UNTYPED):
            return None
        text = self.sentence_text(sid)
        if focus.kind is AnswerType.DEFINITION and not defines(text, {fold(w) for w in focus.words}):
            return None  # the predicate of another subject's "X is ..." defines nothing asked
        spans, phrase_words = self._sentence_phrases(sid, focus.kind)
        if source and not spans:
            spans = source_spans(text)
            phrase_words = [frozenset(words(text[sp.start : sp.end])) for sp in spans]
        if not spans:  # pick_phrase finds nothing in a sentence with no phrase (a third of calls)
            return None
        folded = self._folded_sentences.get(sid)
        if folded is None:
            folded = self._folded_sentences.put(sid, fold(text))
        span = pick_phrase(text, focus.kind, focus, spans, phrase_words, folded)
        if span is None:
            return None
        phrase = text[span.start : span.end]
        sentence = self.stored.sentences[sid]
        original = self.stored.documents[sentence.doc_id].text[sentence.start : sentence.end]
        at = span.start if original == text else original.find(phrase)
        if at < 0:
            return None
        return phrase, sentence.start + at, sentence.start + at + len(phrase)

    def sentence_features(self, chunk: Chunk) -> SentenceFeatures:
        """The question-independent features of ``chunk``'s sentences (kept per passage)."""
        cached = self._sentence_features.get(chunk.chunk_id)
        if cached is None:
            first, last = chunk.sentences
            texts = [self.sentence_text(sid) for sid in range(first, last)]
            features = SentenceFeatures.of(first, texts, self._common)
            cached = self._sentence_features.put(chunk.chunk_id, features)
        return cached

    def _sentence_phrases(self, sid: int, kind: AnswerType) -> tuple[list[Span], list[frozenset[str]]]:
        """Phrases of ``kind`` in sentence ``sid`` and their folded words (kept: they do not
        depend on the question)."""
        key = (sid, kind)
        cached = self._phrases.get(key)
        if cached is None:
            text = self.sentence_text(sid)
            spans = find_phrases(text, kind)
            cached = self._phrases.put(
                key, (spans, [frozenset(words(text[sp.start : sp.end])) for sp in spans])
            )
        return cached

    def focus(self, query: str) -> Focus:
        return question_focus(query, self._idf, self._n_docs)

    def _best_sentence(
        self, chunk: Chunk, vector: np.ndarray, asked: Asked
    ) -> tuple[int, float, float, bool, bool]:
        """The sentence of ``chunk`` that best answers: global id, cosine, score, typed, and
        whether it won on the sentence before it (a continuation: that sentence is shown too).

        Per sentence only its kept features are read (features.covered and typed_sentences
        give what focus.coverage and the type check did, in the same order): 0.58 -> 0.24 ms
        a query over 20 hits, warm. Measured and dropped: scoring every candidate sentence
        of the query as arrays in one pass (no faster: bench assembly 1.03 and 0.89 ms
        against 0.91 and 0.82 for this loop, run alternately), and one cosine product over
        all their rows (60 of 1188 snapshot answers changed: a float32 product's last bits
        depend on its shape), so each passage keeps its own product.
        """
        first, last = chunk.sentences
        if last <= first:
            return -1, 0.0, -math.inf, False, False
        features = self.sentence_features(chunk)
        rows = self.stored.sentence_vectors[first:last]
        # ndarray.dot, not @: the same cblas_sgemv call on the same arrays (same bits), without
        # matmul's ufunc set-up: 20 products a query 30 -> 17 us warm.
        cosines = rows.astype(np.float32, copy=False).dot(vector).tolist()
        kinds = typed_sentences(features, asked)
        # What every sentence reads, bound once per passage (the weights are read from the
        # module here, not at import: scripts/answer_sweep.py sets them between runs).
        keys = asked.keys
        continued, penalties, field_keys = features.continues, features.penalties, features.keys
        names = features.names if asked.names else None
        sources = features.source_words() if asked.source else None
        context_w, restates = CONTEXT_WEIGHT, RESTATES
        best, best_score, best_joined = 0, -math.inf, False
        # The previous sentence's own cosine and coverage, and whether it only restates.
        before_cos, before_covered, before_weak = 0.0, 0.0, False
        for offset, own in enumerate(features.stems):
            # Exact stems here: typo matching is kept for the evidence check, where it runs
            # on three passages, not on every sentence of twenty.
            cov, common = covered(asked, own)
            size = len(own)
            novelty = (size - common) / size if size else 0.0
            cos = own_cos = cosines[offset]
            own_covered = cov
            joined = False
            if offset and before_weak and continued[offset]:
                joined = before_cos * context_w > cos or before_covered * context_w > cov
                cos = max(cos, context_w * before_cos)
                cov = max(cov, context_w * before_covered)
            before_cos, before_covered = own_cos, own_covered
            before_weak = novelty < restates
            # An info-box field whose key the question names ("latest update csto monitoring
            # page" -> "Latest Update: 29 October 2024") holds what is asked, as a typed
            # phrase does: main set lead +1 question (81.7 -> 82.4 %), dev-lead, dev-heldout
            # and the decline figures unchanged. It scores, but is not "typed" for the type
            # checks (_lead's fallback, Built.type_found): those read phrases of the type.
            key = field_keys[offset]
            typed = kinds[offset] or (bool(key) and key <= keys)
            if names is not None and not typed:
                # "Which Soviet-era accord ...", "what informal bloc ...": a name the question
                # does not hold is the asked type (main lead +1, 82.4 -> 83.1 %: q104; the
                # independent sets' leads and every decline figure unchanged).
                typed = new_phrase(names[offset], asked.words)
            if sources is not None and not typed:
                # "who did it take over from?": the country it came from ("took over the
                # rotating presidency ... from Belarus") is the answer, in a text about states.
                typed = new_phrase(sources[offset], asked.words)
            score = sentence_score(cos, cov, typed, penalties[offset], novelty)
            if score > best_score:
                best, best_score, best_joined = offset, score, joined
        return first + best, cosines[best], best_score, kinds[best], best_joined

    def build(self, query: str, vector: np.ndarray, hits: list[Hit], k: int) -> Built:
        """Up to ``k`` cited passages, the lead first, and the evidence for the decline rule.

        A hit whose text is mostly inside a passage already cited, or whose answering
        sentence is the one already highlighted, is folded into that citation as a copy.
        """
        focus = self.focus(query)
        kind_of = frozenset(stem(w) for w in words(" ".join(class_words(query))))
        asked = Asked.of(focus, asks_name(query), kind_of, asks_source(query), COVERAGE_FLOOR)
        # "who ... from?": the answer phrase may be the country a sentence names after "from".
        passage_of = partial(self._passage, focus=focus, source=asked.source)
        kept: list[_Candidate] = []
        # Typed sentences that are not cited (past k, or in a folded copy): leads if no cited
        # passage has the asked type; the index is the cited passage a copy would replace.
        # Their passages are made only if one leads (most never do: ~5 of the ~10 passages
        # made a query were such reserves, each with its answer phrase, 0.1 ms a query).
        reserve: list[tuple[_Candidate, Callable[[], Passage], int | None]] = []
        passages: list[Passage] = []
        grams: list[set[tuple[str, ...]]] = []
        cosine = 0.0
        chunks = self.stored.chunks
        for hit in hits:
            chunk = chunks[hit.chunk_id]
            sid, sent_cos, score, typed, joined = self._best_sentence(chunk, vector, asked)
            cosine = max(cosine, sent_cos, hit.dense_score or 0.0)
            h_start, h_end = self._span(chunk, sid - 1 if joined else sid, sid)
            highlight = self.stored.documents[chunk.doc_id].text[h_start:h_end]
            target = self._same_as(passages, chunk.chunk_id, highlight)
            # The candidate (0.2 us) and the passage's trigrams are made only where they are
            # kept or compared (most hits past the k-th are dropped or folded), and the share
            # of the cited trigrams a copy holds (a set intersection; 2.7 copies a query, 198
            # questions) only when the copy's sentence scores higher, the one case that reads it.
            if target is not None:
                at = next(i for i, p in enumerate(passages) if p is target)
                if score > kept[at].score:
                    old, chunk_grams = grams[at], self._shingles(chunk.chunk_id)
                    covers = bool(old) and len(old & chunk_grams) / len(old) >= COPY_COVERS
                    if covers or (typed and not kept[at].typed):
                        candidate = _Candidate(hit, chunk, sid, sent_cos, score, typed)
                        # The copy cited in the place of ``target``: its sources and copies as
                        # they are now (``target`` gains this copy below).
                        better = partial(
                            self._replacing,
                            list(dict.fromkeys([chunk.doc_id, *target.sources])),
                            [
                                *target.copies,
                                SourceRef(target.doc, target.title, target.section, target.start, target.end),
                            ],
                            partial(passage_of, at + 1, hit, chunk, sid, h_start, h_end, highlight),
                        )
                        if covers:
                            # The copy holds the cited text and its own sentence answers better
                            # ("X is a ..." where the cited copy has only its title): cite it.
                            passages[at], kept[at], grams[at] = better(), candidate, chunk_grams
                            continue
                        # Only the copy has the asked type: a lead if no cited passage has one.
                        reserve.append((candidate, better, at))
                if chunk.doc_id not in target.sources:
                    target.sources.append(chunk.doc_id)
                target.copies.append(
                    SourceRef(chunk.doc_id, chunk.title, chunk.section, chunk.start, chunk.end)
                )
                continue
            if len(passages) == k:
                if typed:
                    later = partial(passage_of, k, hit, chunk, sid, h_start, h_end, highlight)
                    reserve.append((_Candidate(hit, chunk, sid, sent_cos, score, typed), later, None))
                continue
            passage = passage_of(len(passages) + 1, hit, chunk, sid, h_start, h_end, highlight)
            grams.append(self._shingles(chunk.chunk_id))
            kept.append(_Candidate(hit, chunk, sid, sent_cos, score, typed))
            passages.append(passage)
        if not passages:
            return Built([], round(cosine, 4), 0.0, focus)
        lead = self._lead(kept, [c for c, _, _ in reserve], focus)
        if lead >= len(kept):  # only an uncited passage has the asked type: it takes a place
            candidate, make, replaces = reserve[lead - len(kept)]
            passage = make()
            lead = len(kept) - 1 if replaces is None else replaces  # the last one, or its copy
            kept[lead], passages[lead] = candidate, passage
        if lead:
            passages.insert(0, passages.pop(lead))
            kept.insert(0, kept.pop(lead))
        for rank, passage in enumerate(passages, start=1):
            passage.rank = rank
        first = kept[0]
        found = self.evidence.weigh(
            Lead(first.chunk.chunk_id, first.sid, self.sentence_features(first.chunk), passages[0].answer),
            [c.chunk.chunk_id for c in kept[1:]],
            focus,
        )
        return Built(
            passages, round(cosine, 4), found.support, focus, found.missing, found.type_found,
            found.missing_everywhere,
        )

    @staticmethod
    def _replacing(sources: list[str], copies: list[SourceRef], make: Callable[[], Passage]) -> Passage:
        """The passage ``make`` gives, citing ``sources`` with ``copies`` (it replaces one)."""
        passage = make()
        passage.sources, passage.copies = sources, copies
        return passage

    @staticmethod
    def _lead(kept: list[_Candidate], reserve: list[_Candidate], focus: Focus) -> int:
        """Index (into ``kept + reserve``) of the candidate whose best sentence should lead.

        The first LEAD_POOL passages compete. When the question asks for a type (a date, a
        name, a definition...) and none of their best sentences has it, every retrieved
        passage that has one competes instead: a sentence of the asked type from the
        eighth passage answers better than a restatement from the first. They join the
        first passages rather than replace them: a sentence of the first passages that
        answers in another form ("who set up GUAM" -> "established by Georgia, Ukraine,
        Azerbaijan, and Moldova": countries, not persons) keeps the lead when its score
        beats theirs, type bonus included (main set: lead 81.7 -> 82.4 %, R@1 88.0 -> 88.7,
        on-topic declined 63.3 -> 67.3 %, as a typed sentence off the question no longer
        leads; dev-lead and dev-heldout unchanged).
        """
        top = max(kept[0].hit.score, 1e-9)
        everyone = kept + reserve

        def total(c: _Candidate) -> float:
            return (
                c.score
                + RANK_WEIGHT * max(c.hit.score, 0.0) / top
                + PASSAGE_WEIGHT * (c.hit.dense_score or 0.0)
            )

        pool = list(range(min(LEAD_POOL, len(kept))))
        wants_type = focus.kind in TYPED or focus.kind is AnswerType.DEFINITION
        if wants_type and not any(everyone[i].typed for i in pool):
            typed = [i for i, c in enumerate(everyone) if c.typed and i not in pool]
            pool = pool + typed
        return max(pool, key=lambda i: (total(everyone[i]), -i))

    def _display(self, sid: int, start: int) -> str:
        """The highlight's display form: its sentences' own (empty when they have none)."""
        if sid < 0:
            return ""
        sentences = self.stored.sentences
        shown = [sid - 1, sid] if start < sentences[sid].start else [sid]
        if not any(sentences[i].display for i in shown):
            return ""
        return " ".join(sentences[i].display or self.sentence_text(i) for i in shown)

    def _span(self, chunk: Chunk, first: int, last: int) -> tuple[int, int]:
        """Document offsets of sentences ``first`` to ``last`` (the whole passage for -1)."""
        if last < 0:
            return chunk.start, chunk.end
        return self.stored.sentences[first].start, self.stored.sentences[last].end

    def _passage(
        self,
        rank: int,
        hit: Hit,
        chunk: Chunk,
        sid: int,
        h_start: int,
        h_end: int,
        highlight: str,
        focus: Focus,
        source: bool = False,
    ) -> Passage:
        present = self.evidence.chunk_stems(chunk.chunk_id)
        phrase = self.answer_span(sid, focus, source)
        return Passage(
            rank=rank,
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
            matched_terms=[t.surface for s, t in focus.terms.items() if s in present],
            answer=phrase[0] if phrase else None,
            answer_start=phrase[1] if phrase else None,
            answer_end=phrase[2] if phrase else None,
            **page_span(self.stored.documents[chunk.doc_id].pages, chunk.start, chunk.end),
            display=chunk.display,
            highlight_display=self._display(sid, h_start),
        )

    def _same_as(self, passages: list[Passage], chunk_id: int, highlight: str) -> Passage | None:
        """The cited passage this one (``chunk_id``, its best sentence ``highlight``) repeats, if any."""
        folded = self.folded_words(highlight)
        # The kept verdicts and folded highlights read straight from their dicts (~80 and ~100
        # method calls a query); the methods fill them on a miss.
        verdicts, highlights = self._duplicates, self._folded
        for passage in passages:
            other = passage.chunk_id
            verdict = verdicts.get((other, chunk_id) if other <= chunk_id else (chunk_id, other))
            if verdict if verdict is not None else self._repeats(other, chunk_id):
                return passage
            if folded:  # an empty highlight repeats none (no look-up for it)
                seen = highlights.get(passage.highlight)
                if folded == (self.folded_words(passage.highlight) if seen is None else seen):
                    return passage
        return None

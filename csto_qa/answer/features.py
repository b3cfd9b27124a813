"""What the answer builder reads of a question and of a passage's sentences, computed once.

A passage's sentences have features that do not depend on the question (their stems, how
much they read as debris, whether they continue the sentence before, the words of their
phrases of each answer type); :class:`SentenceFeatures` holds them for one passage, so the
builder keeps one record per passage instead of five dict look-ups per sentence and query.
:class:`Asked` is what the sentence scorer reads of the question, once per query instead of
once per sentence (the focus terms' keys, their IDF in the focus' order and its total, the
question's folded words). :func:`covered` and :func:`typed_sentences` give exactly what
``focus.coverage`` and the builder's type check gave (same sums in the same order), so the
answers stay bit for bit the same (``scripts/answer_snapshot.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from csto_qa.answer.answer_type import (
    TYPED,
    AnswerType,
    continues,
    defined_subject,
    field_key,
    find_phrases,
    name_words,
    prose_penalty,
    source_spans,
)
from csto_qa.answer.focus import Focus
from csto_qa.retrieval.tokenizing import fold, stem, words

K = TypeVar("K")
V = TypeVar("V")


class Bounded(dict[K, V]):
    """A dict that forgets its oldest entry past ``limit`` entries (a feature cache)."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def put(self, key: K, value: V) -> V:
        if len(self) >= self.limit:
            del self[next(iter(self))]
        self[key] = value
        return value


@dataclass(frozen=True)
class Asked:
    """What the sentence scorer reads of one question's focus."""

    kind: AnswerType
    keys: frozenset[str]  # the focus stems
    weights: tuple[tuple[str, float], ...]  # (stem, idf) in the focus' order
    total: float  # their IDF sum, as focus.coverage adds it
    words: frozenset[str]  # the question's folded focus words
    names: bool = False  # "which X ..." with no phrase type for X: a new name is the answer's type
    source: bool = False  # "who ... from?": a country after "from" is the answer's type too

    @classmethod
    def of(
        cls,
        focus: Focus,
        names: bool = False,
        kind_of: frozenset[str] = frozenset(),
        source: bool = False,
        floor: float = 0.0,
    ) -> Asked:
        """``kind_of``: stems of the class noun of "what kind of N is X" (answer_type.class_words),
        left out of the coverage and the field-key match: the type asked for, not its topic.
        ``floor``: the least IDF sum the coverage is a share of, so that a question made only
        of the corpus's topic words (IDF at its 0.1 floor) gets little coverage from them."""
        weights = tuple((s, t.idf) for s, t in focus.terms.items() if s not in kind_of)
        total = sum(idf for _, idf in weights)
        if total > 0:
            total = max(total, floor)
        folded = frozenset(fold(w) for w in focus.words)
        names = names and focus.kind is AnswerType.OTHER
        source = source and focus.kind is AnswerType.PERSON
        return cls(focus.kind, frozenset(focus.terms) - kind_of, weights, total, folded, names, source)


def covered(asked: Asked, own: frozenset[str]) -> tuple[float, int]:
    """``focus.coverage(own & keys)`` and how many focus stems ``own`` holds."""
    if asked.total <= 0:
        return 1.0, len(own & asked.keys)
    if asked.keys.isdisjoint(own):
        return 0.0, 0
    found = [idf for s, idf in asked.weights if s in own]
    return sum(found) / asked.total, len(found)


@dataclass
class SentenceFeatures:
    """Question-independent features of one passage's sentences (``first`` is the first id)."""

    first: int
    texts: tuple[str, ...]
    stems: tuple[frozenset[str], ...]
    penalties: tuple[float, ...]
    continues: tuple[bool, ...]
    keys: tuple[frozenset[str], ...]  # stems of an info-box field's key, empty for prose
    names: tuple[tuple[frozenset[str], ...], ...]  # folded words of each capitalised run past the first word
    # Per answer type, per sentence: the folded words of each phrase of that type (for a
    # definition, the defined subject's words), filled on first use of the type.
    phrases: dict[AnswerType, tuple[tuple[frozenset[str], ...], ...]] = field(default_factory=dict)
    # Per sentence, the folded words of each country list after "from" (answer_type.source_spans),
    # filled on the first "who ... from?" question.
    _sources: tuple[tuple[frozenset[str], ...], ...] | None = None

    @classmethod
    def of(cls, first: int, texts: Sequence[str], common: frozenset[str] = frozenset()) -> SentenceFeatures:
        """``common``: stems in most passages of the corpus ("csto", "russia"); a capitalised
        run's words with such a stem are left out of its name words, so the corpus's own
        topic is no new name in the answer to "which X ..." (a run of only such words is none)."""
        return cls(
            first,
            tuple(texts),
            tuple(frozenset(stem(w) for w in words(t)) for t in texts),
            tuple(prose_penalty(t) for t in texts),
            tuple(continues(t) for t in texts),
            tuple(frozenset(stem(w) for w in words(field_key(t) or "")) for t in texts),
            tuple(_uncommon(name_words(t), common) for t in texts),
        )

    def source_words(self) -> tuple[tuple[frozenset[str], ...], ...]:
        if self._sources is None:
            self._sources = tuple(
                tuple(frozenset(words(t[sp.start : sp.end])) for sp in source_spans(t)) for t in self.texts
            )
        return self._sources

    def phrase_words(self, kind: AnswerType) -> tuple[tuple[frozenset[str], ...], ...]:
        found = self.phrases.get(kind)
        if found is None:
            if kind is AnswerType.DEFINITION:
                subjects = (defined_subject(t) for t in self.texts)
                found = tuple(() if s is None else (s,) for s in subjects)
            else:
                found = tuple(
                    tuple(frozenset(words(t[sp.start : sp.end])) for sp in find_phrases(t, kind))
                    for t in self.texts
                )
            self.phrases[kind] = found
        return found


def _uncommon(runs: tuple[frozenset[str], ...], common: frozenset[str]) -> tuple[frozenset[str], ...]:
    """``runs`` without the words whose stem is in ``common``, empty runs dropped."""
    if not common:
        return runs
    kept = (frozenset(w for w in run if stem(w) not in common) for run in runs)
    return tuple(run for run in kept if run)


def new_phrase(phrases: tuple[frozenset[str], ...], asked: frozenset[str]) -> bool:
    """A phrase not made only of the question's own words (pick_phrase's rule)."""
    for phrase in phrases:
        if not phrase <= asked:
            return True
    return False


def _names_asked(phrases: tuple[frozenset[str], ...], asked: frozenset[str]) -> bool:
    """An "X is ..." phrase whose X names a word of the question."""
    for phrase in phrases:
        if not phrase.isdisjoint(asked):
            return True
    return False


def _any_phrase(phrases: tuple[frozenset[str], ...], asked: frozenset[str]) -> bool:
    """A reason clause at all."""
    return bool(phrases)


Rule = Callable[[tuple[frozenset[str], ...], frozenset[str]], bool]


def _holds(kind: AnswerType) -> Rule | None:
    if kind in TYPED:
        return new_phrase
    if kind is AnswerType.DEFINITION:
        return _names_asked
    if kind is AnswerType.REASON:
        return _any_phrase
    return None


# The rule of each kind chosen once, and plain loops instead of any() over a generator:
# typed_sentences took 22 us a query over 20 hits, 11 us this way (warm, 198 questions).
_RULES = {kind: _holds(kind) for kind in AnswerType}


def typed_sentences(features: SentenceFeatures, asked: Asked) -> list[bool]:
    """Per sentence: it holds what the question's form asks for."""
    holds = _RULES[asked.kind]
    if holds is None:
        return [False] * len(features.texts)
    # Most sentences hold no phrase of the kind: no rule to call for them.
    words = asked.words
    return [bool(p) and holds(p, words) for p in features.phrase_words(asked.kind)]

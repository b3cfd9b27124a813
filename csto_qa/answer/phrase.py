"""The answer phrase: inside a sentence, the phrase of the asked type nearest the question's words.

One phrase per lead sentence (the date, the number, the name, the place, the countries, the
predicate of "X is ...", the cause clause), chosen by IDF-weighted nearness to the focus
words the sentence holds; never a phrase made only of the question's own words. Pure
functions of the sentence text and the question's :class:`~csto_qa.answer.focus.Focus`;
``AnswerBuilder`` (assemble.py) keeps the question-independent parts per sentence.
Measured in docs/eval/answer-layer.md ("Answer phrase" and the round-4 section).
"""

from __future__ import annotations

import math
import re
from functools import lru_cache

from csto_qa.answer.answer_type import AnswerType, Span, find_phrases, is_year
from csto_qa.answer.focus import Focus
from csto_qa.retrieval.tokenizing import fold, words

PHRASE_REACH = 20.0  # characters over which a focus word's pull on a phrase falls by e
PHRASE_COMMA = 20.0  # characters a comma between a phrase and a focus word adds to their gap


def pick_phrase(
    sentence: str,
    kind: AnswerType,
    focus: Focus,
    spans: list[Span] | None = None,
    phrase_words: list[frozenset[str]] | None = None,
    folded: str | None = None,
) -> Span | None:
    """The phrase of type ``kind`` in ``sentence`` nearest to the focus terms it matches.

    A phrase made only of the question's own words is not an answer ("Belarus" for
    "When did Belarus join?"); for "how many" a year is a number only when nothing else is.
    A caller that keeps them passes the sentence's ``spans`` of ``kind``, their folded
    ``phrase_words`` and the ``folded`` sentence: they do not depend on the question.
    """
    spans = find_phrases(sentence, kind) if spans is None else spans
    if phrase_words is None:
        phrase_words = [frozenset(words(sentence[sp.start : sp.end])) for sp in spans]
    asked = {fold(w) for w in focus.words}
    spans = [sp for sp, found in zip(spans, phrase_words, strict=True) if not found <= asked]
    if kind is AnswerType.NUMBER and any(not is_year(sentence[sp.start : sp.end]) for sp in spans):
        spans = [sp for sp in spans if not is_year(sentence[sp.start : sp.end])]
    if not spans:
        return None
    folded = fold(sentence) if folded is None else folded
    anchors = [
        (term.idf, _occurrences(folded, term.surface[: max(4, len(term.surface) - 2)]))
        for term in focus.terms.values()
    ]
    anchors = [(idf, found) for idf, found in anchors if found]
    if not anchors:
        return spans[0]

    def gap(sp: Span, a: int, b: int) -> float:
        """Characters between the phrase and a focus word at ``a:b``, each comma between them
        counting PHRASE_COMMA more: a comma ends the clause the word is in."""
        start, end = (sp.end, a) if a >= sp.end else (b, sp.start) if b <= sp.start else (0, 0)
        return end - start + PHRASE_COMMA * folded.count(",", start, end) if end > start else 0.0

    def closeness(sp: Span) -> float:
        """IDF-weighted nearness of the phrase to each matched focus word: the date beside
        "ratified" beats the year beside "CSTO" ("joined the CSTO in 2006 ... ratified by
        the parliament on 28 March 2008")."""
        return sum(
            idf * math.exp(-min(gap(sp, a, b) for a, b in found) / PHRASE_REACH) for idf, found in anchors
        )

    return max(spans, key=lambda sp: (closeness(sp), -sp.start))


def _occurrences(text: str, needle: str) -> list[tuple[int, int]]:
    """(start, end) of each word of ``text`` that begins with ``needle``."""
    if not needle or needle not in text:  # no regex where the needle is not even a substring
        return []
    return [(m.start(), m.end()) for m in _word_starting(needle).finditer(text)]


@lru_cache(maxsize=4096)
def _word_starting(needle: str) -> re.Pattern[str]:
    """The compiled pattern of a word beginning with ``needle`` (focus words recur across
    questions; ``re``'s own cache of 512 patterns is shared with every other module)."""
    return re.compile(rf"\b{re.escape(needle)}\w*")

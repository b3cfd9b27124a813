"""Follow-up questions: rewrite "and when did it leave?" into a self-contained query.

A question that leans on the previous turn (a pronoun, a leading "and"/"what about", or
almost no content words) gets the previous question's names appended, so retrieval sees
"and when did it leave? Uzbekistan CSTO". The rewritten query is shown to the user.
"""

from __future__ import annotations

import re

from csto_qa.tokenizing import STOP_WORDS, words

_PRONOUNS = frozenset(
    "it its they them their theirs he him his she her hers this that these those there "
    "then such the same".split()
)
_LEADS = re.compile(r"^\s*(and|but|also|so|then|what about|how about|and what about|what of)\b", re.I)
_WORD = re.compile(r"[^\W_][\w'’-]*", re.UNICODE)
_QUESTION_WORDS = frozenset(
    "what when where who whom whose which why how did does do is are was were".split()
)


def needs_context(question: str) -> bool:
    """True when the question cannot stand alone."""
    tokens = [t.casefold() for t in _WORD.findall(question)]
    if not tokens:
        return False
    if _LEADS.match(question):
        return True
    if any(t in _PRONOUNS - {"the", "same", "then", "there"} for t in tokens):
        return True
    return len(words(question)) <= 1


def _unique(tokens: list[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for t in tokens:
        if t.casefold() not in seen:
            seen.add(t.casefold())
            out.append(t)
    return out


def names(question: str) -> list[str]:
    """Names in ``question``: capitalised words (not a leading question word), acronyms, numbers."""
    tokens = _WORD.findall(question)
    ignored = _QUESTION_WORDS | STOP_WORDS
    return _unique(
        [
            t
            for i, t in enumerate(tokens)
            if t.isdigit() or (t[0].isupper() and (i > 0 or t.isupper() or t.casefold() not in ignored))
        ]
    )


def content_words(question: str) -> list[str]:
    """Words of ``question`` that are neither stop words nor question words."""
    ignored = _QUESTION_WORDS | STOP_WORDS | _PRONOUNS
    return _unique([t for t in _WORD.findall(question) if t.casefold() not in ignored])


def contextualize(question: str, history: list[str] | None) -> str:
    """The retrieval query for ``question`` given earlier queries (oldest first).

    "and when did it leave?" after "When did Uzbekistan join the CSTO?" borrows the names
    (Uzbekistan, CSTO); "what about Belarus?" after "When did Armenia freeze its
    participation?" brings its own name and borrows the rest (freeze, participation).
    """
    if not history or not needs_context(question):
        return question
    asked = {t.casefold() for t in _WORD.findall(question)}
    own = names(question)
    for previous in reversed(history):
        previous_names = {n.casefold() for n in names(previous)}
        if not previous_names:  # "ok thanks" is no context
            continue
        if own:
            extra = [w for w in content_words(previous) if w.casefold() not in previous_names | asked]
        else:
            extra = [n for n in names(previous) if n.casefold() not in asked]
        if extra:
            return f"{question.strip()} {' '.join(extra)}"
    return question

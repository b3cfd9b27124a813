"""Sentence splitting with character offsets, robust to abbreviations and flattened web pages.

``split_sentences`` returns ``(start, end)`` spans into the text it is given; whitespace
between sentences belongs to no span. Lines that do not end a sentence (list items,
headlines, table rows) end a span at the line break, because in flattened web pages a
line break is the only boundary there is.
"""

from __future__ import annotations

import re

# Words that end with a period without ending the sentence.
ABBREVIATIONS = frozenset(
    """mr mrs ms dr prof st jr sr gen lt col capt maj sgt rev hon gov sen rep pres no nos
    vol vols pp p ed eds fig figs al approx dept est inc ltd co corp vs cf ca jan feb mar
    apr jun jul aug sep sept oct nov dec mt ft""".split()
)

# A sentence end: terminal punctuation, optional closing quotes/brackets, then a space and
# something that can start a sentence (capital, digit, opening quote or bracket).
# The lookbehind and the possessive quantifiers keep it linear: without them a run of n
# dots was re-scanned from each of its dots, O(n²) (2 MB of "....." took minutes).
_BOUNDARY = re.compile(
    r"""(?<![.!?…])[.!?…]++["'”’»)\]]*+(?=\s++["'“‘«(\[]?[A-Z0-9\u00C0-\u024F\u0400-\u04FF\u0531-\u0556\u10A0-\u10FF])"""
)
_LAST_WORD = re.compile(r"([\w.]+)$", re.UNICODE)
# How far back from a period to look for the word it ends. Searching from the start of the
# text made every check cost O(position): minutes for a 200 kB one-line page, days for 50 MB.
# Abbreviations are short, so a longer word is judged by its last 64 characters.
_LOOKBACK = 64


def _is_abbreviation(text: str, dot: int) -> bool:
    """True when the period at ``dot`` closes an abbreviation or an initial, not a sentence."""
    match = _LAST_WORD.search(text, max(0, dot - _LOOKBACK), dot)
    if not match:
        return False
    word = match.group(1)
    if "." in word:  # U.N., U.S., e.g., A.F.: dotted abbreviations
        return True
    if len(word) == 1 and word.isalpha() and word.isupper():  # an initial: "Kornilenko, A. V."
        return True
    return word.casefold() in ABBREVIATIONS


def split_line(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentence spans inside ``text[start:end]`` (one line), trimmed of surrounding spaces."""
    spans: list[tuple[int, int]] = []
    cursor = start
    for match in _BOUNDARY.finditer(text, start, end):
        first_dot = match.start()
        if text[first_dot] == "." and _is_abbreviation(text, first_dot):
            continue
        spans.append((cursor, match.end()))
        cursor = match.end()
    spans.append((cursor, end))
    trimmed = []
    for s, e in spans:
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            trimmed.append((s, e))
    return trimmed


def split_long(text: str, start: int, end: int, max_words: int) -> list[tuple[int, int]]:
    """Cut a span of more than ``max_words`` words at word boundaries (run-on lines only)."""
    pieces: list[tuple[int, int]] = []
    words = list(re.finditer(r"\S+", text[start:end]))
    for i in range(0, len(words), max_words):
        group = words[i : i + max_words]
        pieces.append((start + group[0].start(), start + group[-1].end()))
    return pieces or [(start, end)]


def split_span(text: str, start: int, end: int, max_words: int = 150) -> list[tuple[int, int]]:
    """Sentence spans of the one line ``text[start:end]``; none longer than ``max_words``.

    The rule the chunker applies to each prose item, and ``split_sentences`` to each line.
    """
    spans: list[tuple[int, int]] = []
    for s, e in split_line(text, start, end):
        spans.extend(split_long(text, s, e, max_words) if len(text[s:e].split()) > max_words else [(s, e)])
    return spans


def split_sentences(text: str, max_words: int = 150) -> list[tuple[int, int]]:
    """All sentence spans of ``text``, line by line; no span is longer than ``max_words``."""
    spans: list[tuple[int, int]] = []
    line_start = 0
    for line in text.split("\n"):
        line_end = line_start + len(line)
        spans.extend(split_span(text, line_start, line_end, max_words))
        line_start = line_end + 1
    return spans

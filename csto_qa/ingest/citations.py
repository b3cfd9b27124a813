"""Bibliography entries found sentence by sentence: a Wikipedia reference list flattened
into one line has no lines for :mod:`csto_qa.ingest.structure` to look at, so its entries are
recognised by their marks ("Retrieved 3 May 2022", "ISBN", "Author, A. B. (2018)", a quoted
title next to a bare date) and runs of them are left out of the index.

Hand-written for the same reason as the structure detectors (the pages are plain text);
every pattern has bounded quantifiers, so a 2 MB run-on sentence is read in linear time.
"""

from __future__ import annotations

import re
from collections.abc import Sequence


def _words(line: str) -> int:
    return len(line.split())


_AUTHOR = r"\b[A-Z][\w'’-]{1,40}"  # a surname; bounded so a 2 MB word costs 40 steps per capital
_DATE = r"(?:\d{1,2} )?(?:[A-Z][a-z]{2,8} )?\d{4}"
_INITIALS = r"(?:[A-Z]\.[ -]?){1,3}"
_CITATION = re.compile(
    r"\bRetrieved (?:on )?\d|\bRetrieved [A-Z][a-z]{2,8} \d|\bArchived\b.{0,120}?\bfrom the original\b"
    r"|\bat the Wayback Machine\b|\bISBN\b|\bISSN\b|\bdoi: ?10\.|\bdoi\.org/|\bS2CID\b|\bJSTOR \d|\bOCLC \d"
    r"|\(PDF\)|\(in (?:Russian|English|French|German|Spanish|Chinese|Armenian|Kazakh)\)"
    # Author, A. B. (2018).   Author, Name (23 November 2010).   Author, A.; Other, B. (2000).
    rf"|{_AUTHOR}, {_INITIALS}(?:[,;]? ?(?:&|and)? ?{_AUTHOR}, {_INITIALS}){{0,6}}\(\d{{4}}[a-z]?\)"
    rf"|{_AUTHOR}, [A-Z][\w'’-]{{1,40}}(?:[ ;,][^()\n]{{0,80}})? \({_DATE}\)\."
    r"|\bpp?\. ?\d{1,5}|\b\d{1,4} ?\(\d{1,4}(?:[-–]\d{1,4})?\)[:,] ?\d{1,5}"
)
_MONTH = r"(?:January|February|March|April|May|June|July|August|September|October|November|December)"
# Pieces of a citation that are harmless alone but not next to each other: a quoted title,
# a bare date, a publisher ('"Armenia freezes participation". 23 February 2023.', 'TASS.').
_CITATION_PIECE = re.compile(
    r'^(?:["“][^"”\n]{3,300}["”]\.?'
    rf"|(?:\d{{1,2}} )?{_MONTH} (?:\d{{1,2}}, )?\d{{4}}\.|\d{{4}}\."
    r"|[A-Z]{2,12}(?:/[A-Z]{1,12})?\.|[\w-]{1,40}\.(?:com|org|net|am|ru|kz|by|uz|uk|info)\.)$"
)
# Short pieces between two citations: a title, a publisher, a date ("TASS.", "23 February 2024.").
_CITATION_GAP = 6  # units between two citations that still belong to the same list
_CITATION_LIST = 3  # citations in a run before the units between them are dropped too
_SHORT = 8  # words of a trailing piece (publisher, date) that still belongs to the list


def citation_like(sentence: str) -> bool:
    """True when the sentence carries the marks of a bibliography entry."""
    return bool(_CITATION.search(sentence))


def citation_runs(sentences: Sequence[str]) -> list[bool]:
    """For each sentence, whether it belongs to a bibliography entry or reference list.

    Every citation-like sentence is one. Where three or more lie within ``_CITATION_GAP``
    sentences of each other, the sentences between them (titles, publishers, dates) are
    too, and so are up to three short ones right after the last; between two citations,
    only the short ones. Prose after a list is not:
    a reference list ends its article, not the file. One pass: linear in the sentences.
    """
    pieces = [_CITATION_PIECE.match(s.strip()) is not None for s in sentences]
    flags = [
        citation_like(s) or (piece and ((k > 0 and pieces[k - 1]) or (k + 1 < len(pieces) and pieces[k + 1])))
        for k, (s, piece) in enumerate(zip(sentences, pieces, strict=True))
    ]
    out = list(flags)
    run_start = -1
    last = -1
    count = 0

    def close(first: int, final: int, hits: int) -> None:
        if hits >= 2:
            # Two citations close together: what lies between is part of them when short
            # (a title, "Report number 9."); three or more: a list, everything between.
            for k in range(first, final + 1):
                out[k] = out[k] or hits >= _CITATION_LIST or _words(sentences[k]) <= _SHORT
            k = final + 1
            while (
                hits >= _CITATION_LIST
                and k < len(sentences)
                and k <= final + 3
                and _words(sentences[k]) <= _SHORT
            ):
                out[k] = True
                k += 1

    for k, flag in enumerate(flags):
        if not flag:
            continue
        if last >= 0 and k - last <= _CITATION_GAP:
            count += 1
        else:
            if run_start >= 0:
                close(run_start, last, count)
            run_start, count = k, 1
        last = k
    if run_start >= 0:
        close(run_start, last, count)
    return out

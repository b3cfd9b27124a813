"""Structure of a flattened web page: which lines are prose, headings, table facts or debris.

``analyse(text)`` is the entry point. It reads the text line by line and returns one
``Item`` per non-blank line (a multi-line table field is one item), each with its span
in the original text:

* ``TEXT``: prose to be split into sentences; ``HEADING``: a section title;
* ``CAPTION``: the words after an image stub (``![]() Map showing ...``), kept as text;
* ``FACT``: one info-box or table field, with a ``display`` form (``Headquarters: Moscow,
  Russia``) that the index and the UI use; the span is still the original text;
* ``LEFT_OUT``: debris, with the ``Reason`` it is not indexed (table rules and empty cells,
  image stubs, table headers, link-only and own-site navigation lines, "Contents" lists,
  "See also" / "Notes" / "References" / "External links" blocks, repeated page furniture).

Sentence-level bibliography entries (a Wikipedia reference list flattened into one line
has no lines to look at) are found by :func:`csto_qa.ingest.citations.citation_runs` over the
sentences of TEXT items.

Hand-written because the pages come as plain text, not HTML: a boilerplate remover such as
trafilatura or justext needs the markup this text no longer has. Every detector is a pure
function of the text, linear in its length (bounded regex quantifiers, one pass per rule).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from enum import Enum
from urllib.parse import urlsplit

from csto_qa.ingest.citations import citation_like


class ItemKind(Enum):
    TEXT = "text"
    CAPTION = "caption"
    HEADING = "heading"
    FACT = "fact"
    LEFT_OUT = "left_out"


class Reason(Enum):
    """Why a stretch of text is left out of the index (it stays in the document)."""

    TABLE_RULES = "table rules and empty cells"
    IMAGES = "image stubs"
    TABLE_HEADERS = "table headers"
    NAVIGATION = "navigation and link-only lines"
    CONTENTS = "contents lists"
    BACK_MATTER = "see also, notes and external links"
    REFERENCES = "references"
    FURNITURE = "repeated page furniture"


@dataclass(frozen=True)
class Item:
    """One line (or one multi-line field) of the document: ``text[start:end]``."""

    start: int
    end: int
    kind: ItemKind
    display: str = ""  # FACT only: the field as "Name: value"
    reason: Reason | None = None  # LEFT_OUT only


# --- line-level patterns (all quantifiers bounded or anchored: linear time) -----------------
_IMAGE = re.compile(r"!\[[^\]\n]{0,200}\]\([^)\n]{0,500}\)")
_URL = re.compile(r"\b(?:https?://|www\.)[^\s<>\"]{1,2000}")
_LETTERS = re.compile(r"[^\W\d_]", re.UNICODE)
_RULE_CHARS = frozenset("|-–—=+:*_•·~ \t")
_TERMINAL = (".", "!", "?", ":", ";", '"', "”", "’", ")", "…", ",")
_CONTENTS = re.compile(
    r"^(?:table of contents|list of contents|contents|on this page|in this article)\b", re.I
)
_NUMBER = re.compile(r"[\d\s.,%–-]{1,40}")
_NUMBERED = re.compile(r"[A-Z]?\d{1,3}(?:\.\d{1,3})+\b")  # "E19.1.2 Members ...": a numbered entry
_BACK_MATTER = {
    "see also": Reason.BACK_MATTER,
    "notes": Reason.BACK_MATTER,
    "footnotes": Reason.BACK_MATTER,
    "external links": Reason.BACK_MATTER,
    "related pages": Reason.BACK_MATTER,
    "references": Reason.REFERENCES,
    "bibliography": Reason.REFERENCES,
    "sources": Reason.REFERENCES,
    "citations": Reason.REFERENCES,
    "works cited": Reason.REFERENCES,
    "further reading": Reason.REFERENCES,
    "notes and references": Reason.REFERENCES,
}
_FIELD_NAME_WORDS = 6  # "Official language", "Secretary General", "Region served"
_FIELD_VALUE_LINES = 10  # Membership: 6 members / 3 former members / 1 observer / ...
_FURNITURE_REPEATS = 3  # the same short line three times in one page is page furniture
_NAV_SITE_MIN_LINKS = 3  # a site linked from 3+ lines and from most link lines is the page's own


def _words(line: str) -> int:
    return len(line.split())


def _is_rule(line: str) -> bool:
    """Table rules, lone pipes, empty cells and bullets without text: ``---|---|``, ``|||``, ``-``."""
    return all(ch in _RULE_CHARS for ch in line)


def _strip_images(line: str) -> str:
    return _IMAGE.sub(" ", line)


def is_prose(line: str) -> bool:
    stripped = line.rstrip()
    return _words(stripped) >= 12 or stripped.endswith(_TERMINAL)


def heading_ok(line: str, max_words: int) -> bool:
    stripped = line.strip()
    return (
        0 < _words(stripped) <= max_words
        and not stripped.endswith(_TERMINAL)
        and "|" not in stripped
        and "http" not in stripped
        and (stripped[0].isupper() or stripped[0].isdigit())
    )


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in _strip_images(line).split("|")]


def _domain(url: str) -> str:
    host = urlsplit(url if "://" in url else f"http://{url}").hostname or ""
    parts = host.removeprefix("www.").split(".")
    return ".".join(parts[-2:])


@dataclass
class _Line:
    start: int
    end: int
    text: str
    kind: ItemKind | None = None
    reason: Reason | None = None


def _lines(text: str) -> list[_Line]:
    out: list[_Line] = []
    offset = 0
    for line in text.split("\n"):
        out.append(_Line(offset, offset + len(line), line))
        offset += len(line) + 1
    return out


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


# --- detectors, each over the list of lines ------------------------------------------------


def _mark_markup(lines: list[_Line]) -> None:
    """Rules, lone pipes and empty cells; image stubs without a caption worth reading."""
    for line in lines:
        if line.kind is not None or not line.text.strip():
            continue
        if _is_rule(line.text):
            line.kind, line.reason = ItemKind.LEFT_OUT, Reason.TABLE_RULES
            continue
        bare = _strip_images(line.text)
        table_row = len([c for c in bare.split("|") if c.strip()]) >= 2
        if bare != line.text and not table_row and _words(bare.replace("|", " ")) < 3:
            # "![]() Emblem", "![]() |": a picture the text cannot show. A longer caption
            # ("Map showing the members ...") is kept as text (see _caption_start).
            line.kind, line.reason = ItemKind.LEFT_OUT, Reason.IMAGES


def _mark_links(lines: list[_Line]) -> None:
    """Link-only lines, and links to the page's own site (its navigation)."""
    domains: Counter[str] = Counter()
    link_lines = 0
    for line in lines:
        if line.kind is None and ("http" in line.text or "www." in line.text):
            found = {_domain(m.group()) for m in _URL.finditer(line.text)}
            domains.update(found)
            link_lines += bool(found)
    own = {d for d, n in domains.items() if d and n >= _NAV_SITE_MIN_LINKS and n * 2 > link_lines}
    labels: set[str] = set()
    for line in lines:
        if line.kind is not None:
            continue
        urls = list(_URL.finditer(line.text))
        if not urls:
            continue
        rest = _URL.sub(" ", line.text).strip(" -–—:|\t")
        if not _LETTERS.search(rest) or any(_domain(u.group()) in own for u in urls):
            line.kind, line.reason = ItemKind.LEFT_OUT, Reason.NAVIGATION
            label = rest.split(":")[0].strip().casefold()
            if label:
                labels.add(label)
    # A line that only names a navigation link ("Monitoring Risks by Dr. X: ...") is its label.
    for line in lines:
        if line.kind is None and line.text.strip() and line.text.split(":")[0].strip().casefold() in labels:
            line.kind, line.reason = ItemKind.LEFT_OUT, Reason.NAVIGATION
    # One line caught between navigation lines is part of the menu.
    content = [ln for ln in lines if ln.text.strip()]
    for before, line, after in zip(content, content[1:], content[2:], strict=False):
        if (
            line.kind is None
            and before.reason is Reason.NAVIGATION
            and after.reason is Reason.NAVIGATION
            and _words(line.text) <= 25
        ):
            line.kind, line.reason = ItemKind.LEFT_OUT, Reason.NAVIGATION


def _mark_furniture(lines: list[_Line]) -> None:
    """The same short line many times in one page: a header, footer or button label."""
    counts = Counter(
        " ".join(ln.text.split()).casefold() for ln in lines if ln.kind is None and ln.text.strip()
    )
    for line in lines:
        key = " ".join(line.text.split()).casefold()
        if line.kind is None and key and counts[key] >= _FURNITURE_REPEATS and _words(key) <= 20:
            line.kind, line.reason = ItemKind.LEFT_OUT, Reason.FURNITURE


def _table_facts(text: str, lines: list[_Line], items: dict[int, Item]) -> None:
    """``Name | value |`` rows and ``Name`` / ``|`` / value lines become FACT items.

    A row just above a ``---|---`` rule is the table's header: its cell names label the
    cells of the rows below (right-aligned, because image-only cells such as flags are
    gone). Under a two-cell header whose rows are two-cell too (an info-box), every row,
    the header included, is a field and its value.
    """
    header: list[str] = []
    header_kv = False
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.kind is not None:
            i += 1
            continue
        if "|" not in line.text:
            last = _two_line_field(lines, i)
            if last is None:
                header = [] if line.text.strip() else header  # prose ends a table
                i += 1
                continue
            value_lines = [ln.text.strip().rstrip("|").strip() for ln in lines[i + 2 : last + 1]]
            start, end = _trim(text, line.start, lines[last].end)
            end = start + len(text[start:end].rstrip(" |\t"))
            display = _fact(line.text.strip(), ", ".join(v for v in value_lines if v))
            items[i] = Item(start, end, ItemKind.FACT, display)
            for k in range(i, last + 1):  # the lone "|" too: it is inside the field's span
                lines[k].kind, lines[k].reason = ItemKind.FACT, None
            i = last + 1
            continue
        filled = [c for c in _cells(line.text) if c]
        display = ""
        if i + 1 < len(lines) and _is_rule(lines[i + 1].text) and "-" in lines[i + 1].text:
            header, header_kv = filled, len(filled) == 2 and _kv_table_below(lines, filled, i + 2)
            if header_kv:
                display = _fact(filled[0], filled[1])
            else:
                line.kind, line.reason = ItemKind.LEFT_OUT, Reason.TABLE_HEADERS
        elif header and not header_kv and 0 < len(filled) <= len(header):
            names = header[len(header) - len(filled) :]
            display = "; ".join(_fact(h, c) for h, c in zip(names, filled, strict=True))
        elif len(filled) == 2 and (header_kv or _words(filled[0]) <= _FIELD_NAME_WORDS):
            display = _fact(filled[0], filled[1])
        elif len(filled) >= 3:
            display = "; ".join(filled)
        elif len(filled) <= 1 and line.text.rstrip().endswith("|"):
            line.kind, line.reason = ItemKind.LEFT_OUT, Reason.TABLE_RULES  # "Formation |": no value
        if display:
            start, end = _trim(text, line.start, line.end)
            end = start + len(text[start:end].rstrip(" |\t"))
            first = max(text.find(filled[0], start, end), start)  # after an image stub (a flag)
            if text[start:first].strip():
                stub_start, stub_end = _trim(text, start, first)
                items[-i - 1] = Item(stub_start, stub_end, ItemKind.LEFT_OUT, reason=Reason.IMAGES)
            items[i] = Item(first, end, ItemKind.FACT, display)
            line.kind = ItemKind.FACT
        i += 1


def _fact(name: str, value: str) -> str:
    return f"{name.rstrip(':').strip()}: {value}"


def _two_line_field(lines: list[_Line], i: int) -> int | None:
    """Last line of a field written as its name, a lone ``|`` and its value lines, if it is one."""
    line = lines[i]
    if not (
        i + 2 < len(lines)
        and lines[i + 1].text.strip() == "|"
        and 0 < _words(line.text) <= _FIELD_NAME_WORDS
        and not line.text.rstrip().endswith(_TERMINAL)
        and not _IMAGE.search(line.text)
    ):
        return None
    return _field_value_end(lines, i + 2)


def _kv_table_below(lines: list[_Line], header: list[str], i: int) -> bool:
    """True when the rows under a two-cell header row are ``Name | value`` fields like it.

    ``Port | Year of entry`` over ``Dover | 1950`` is a header (its cells name the columns:
    the rows hold numbers where it holds words); ``Abbreviation | HL`` over ``Type | Trade
    league`` is the first field of an info-box.
    """
    rows = []
    for line in lines[i : i + 8]:
        if "|" in line.text and not _is_rule(line.text):
            filled = [c for c in _cells(line.text) if c]
            if len(filled) == 2:
                rows.append(filled)
    numeric = any(_NUMBER.fullmatch(r[1]) for r in rows)
    return bool(rows) and not (numeric and not _NUMBER.fullmatch(header[1]))


def _field_value_end(lines: list[_Line], i: int) -> int | None:
    """Index of the last value line of a two-line field starting its value at ``i``."""
    for k in range(i, min(i + _FIELD_VALUE_LINES, len(lines))):
        stripped = lines[k].text.strip()
        if stripped == "|" or not stripped or lines[k].kind is not None:
            return k - 1 if k > i else None
        if (
            stripped.count("|") > 1
            or stripped.startswith("|")
            or _words(stripped) > 15
            or _IMAGE.search(stripped)
        ):
            return None
        if stripped.endswith("|"):
            return k
    return None


def _mark_blocks(lines: list[_Line]) -> None:
    """ "Contents" lists and "See also" / "References" blocks, up to the next prose or heading."""
    content = [k for k, ln in enumerate(lines) if ln.text.strip()]
    pos = 0
    while pos < len(content):
        line = lines[content[pos]]
        key = " ".join(line.text.split()).casefold().rstrip(":")
        reason = _BACK_MATTER.get(key)
        if line.kind is None and _CONTENTS.match(key) and _words(key) <= 20:
            reason = Reason.CONTENTS
        if line.kind is not None or reason is None:
            pos += 1
            continue
        line.kind, line.reason = ItemKind.LEFT_OUT, reason
        pos += 1
        while pos < len(content):
            item = lines[content[pos]]
            nxt = lines[content[pos + 1]] if pos + 1 < len(content) else None
            if item.kind is None:
                stripped = item.text.strip()
                listed = (
                    stripped.startswith(("-", "*", "•", "·"))
                    or citation_like(stripped)
                    or (reason is Reason.CONTENTS and _NUMBERED.match(stripped) is not None)
                )
                ends_block = not listed and (
                    _words(stripped) >= 12
                    or (reason is Reason.CONTENTS and stripped.endswith((".", "!", "?")))
                    or (
                        heading_ok(stripped, 10)
                        and nxt is not None
                        and nxt.kind is None
                        and _words(nxt.text) >= 12
                        and not citation_like(nxt.text)
                    )
                )
                if ends_block:
                    break
                item.kind, item.reason = ItemKind.LEFT_OUT, reason
            pos += 1


# "Article 7", "Chapter II", "Part 3", "1. Scope": a numbered heading is a section even right
# under the title (a charter's first article), never a subtitle.
_NUMBERED_HEADING = re.compile(r"(?:[A-Z][a-z]+\.?\s+)?(?:\d+|[IVXLC]+)(?:[.:)]?$|\s*[.:)–-]?\s+[A-Z])")


def _mark_headings(lines: list[_Line]) -> None:
    """Short title-like lines followed by prose (or by a sub-heading and prose)."""
    content = [ln for ln in lines if ln.text.strip() and ln.kind is None]
    for pos, line in enumerate(content):
        nxt = content[pos + 1] if pos + 1 < len(content) else None
        after = content[pos + 2] if pos + 2 < len(content) else None
        if nxt is None or not heading_ok(line.text, 10):
            continue
        if (
            pos == 1
            and content[0].kind is None
            and content[0] is _first_content(lines)
            and not _NUMBERED_HEADING.match(line.text.strip())
        ):
            continue  # the line under a page's title line is its subtitle (a native name, a tagline)
        if is_prose(nxt.text) and not heading_ok(nxt.text, 10):
            line.kind = ItemKind.HEADING
        elif (
            heading_ok(line.text, 4)
            and heading_ok(nxt.text, 8)
            and after is not None
            and is_prose(after.text)
        ):
            line.kind = ItemKind.HEADING


def _first_content(lines: list[_Line]) -> _Line | None:
    return next((ln for ln in lines if ln.text.strip()), None)


def analyse(text: str) -> list[Item]:
    """The items of ``text`` in order; blank lines have none."""
    lines = _lines(text)
    _mark_markup(lines)
    facts: dict[int, Item] = {}  # line number -> its field; -(line number) - 1 -> its image stub
    _table_facts(text, lines, facts)
    _mark_blocks(lines)
    _mark_links(lines)
    _mark_furniture(lines)
    _mark_headings(lines)
    items: list[Item] = []
    for k, line in enumerate(lines):
        if -k - 1 in facts:
            items.append(facts[-k - 1])
        if k in facts:
            items.append(facts[k])
            continue
        if line.kind is ItemKind.FACT or not line.text.strip():
            continue  # the value lines of a field already in ``facts``
        start, end = _trim(text, line.start, line.end)
        if line.kind is ItemKind.LEFT_OUT:
            items.append(Item(start, end, ItemKind.LEFT_OUT, reason=line.reason))
        elif line.kind is ItemKind.HEADING:
            items.append(Item(start, end, ItemKind.HEADING))
        else:
            caption = _caption_start(text, start, end)
            if caption > start:
                stub_start, stub_end = _trim(text, start, caption)
                items.append(Item(stub_start, stub_end, ItemKind.LEFT_OUT, reason=Reason.IMAGES))
            items.append(Item(caption, end, ItemKind.CAPTION if caption > start else ItemKind.TEXT))
    return items


def _caption_start(text: str, start: int, end: int) -> int:
    """Where the caption of ``![](…) Caption`` starts (``start`` when there is no stub)."""
    pos = start
    while True:
        match = _IMAGE.match(text, pos, end)
        if not match:
            return pos
        pos = match.end()
        while pos < end and text[pos] in " \t|":
            pos += 1

"""HTML: the page's main content as lines (BeautifulSoup over lxml's HTML parser).

Chosen over trafilatura by measurement (``scripts/measure_readers.py``, README "Your own
documents"): on a saved page with a nav bar, an info box and headings both drop the
furniture and keep the info box, in about 5 ms; trafilatura also keeps "[edit]" and "[3]"
marks, glues "Armenia<br>Belarus" into "Armenia Belarus" and writes rows as Markdown pipes,
and it brings about 50 MB of date and language packages. BeautifulSoup is one small
pure-Python wheel over lxml. lxml's HTML parser fetches nothing and expands no external
entity; scripts are dropped unread.

Layout of the text: each heading on its own line (the chunker makes it the section of
what follows), each paragraph or list item a line, each table row a line ("Founded:
2002" for a two-cell row, "Column: value; ..." under a header row, cells joined by
" | " otherwise). Navigation, menus, footers, forms and sidebars are left out.
"""

from __future__ import annotations

import re
from typing import Any

from csto_qa.errors import missing_dependency
from csto_qa.ingest.readers import ExtractedText, UnreadableDocument, clean_line, clean_title

# Elements never read: code, furniture, and everything a user does not see as the page's text.
DROP = {
    "script", "style", "noscript", "template", "nav", "footer", "aside", "form",
    "iframe", "svg", "canvas", "button", "input", "select", "textarea", "menu", "dialog",
    "head", "object", "embed", "video", "audio", "map",
}  # fmt: skip
DROP_ROLES = {"navigation", "banner", "contentinfo", "search", "menu", "menubar", "complementary", "dialog"}
# class/id words of page furniture (whole words of the attribute, e.g. "site-nav", "navbox")
_FURNITURE = re.compile(
    r"(^|[\s_-])(nav|navbar|navbox|navigation|menu|breadcrumbs?|footer|sidebar|cookies?|"
    r"banner|masthead|toolbar|share|social|related|advert|ads|skip|mw-editsection|noprint)($|[\s_-])",
    re.IGNORECASE,
)
BLOCKS = {
    "p", "div", "section", "article", "main", "li", "ul", "ol", "dl", "dt", "dd", "blockquote",
    "pre", "figure", "figcaption", "address", "center", "body", "html", "caption", "details",
    "summary", "hr",
}  # fmt: skip
HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
MOSTLY_SCRIPT = 0.5  # share of the file inside <script> above which a near-empty page is "a JS app"
MIN_WORDS = 20


def read(raw: bytes) -> ExtractedText:
    try:
        from bs4 import BeautifulSoup
    except ImportError as exc:
        raise UnreadableDocument(str(missing_dependency("beautifulsoup4"))) from exc
    try:
        soup = BeautifulSoup(raw, "lxml")
    except Exception as exc:  # lxml missing or a parser failure: said once, as the reason
        raise UnreadableDocument(f"it cannot be parsed as HTML ({type(exc).__name__}: {exc})") from None
    script_chars = sum(len(s.get_text()) for s in soup.find_all("script"))
    title_tag = soup.find("title")
    title = clean_title(title_tag.get_text()) if title_tag else ""
    lines = _lines(_main(soup))
    text = "\n".join(lines)
    words = len(text.split())
    if words < MIN_WORDS and script_chars > MOSTLY_SCRIPT * max(len(raw), 1):
        raise UnreadableDocument(
            f"it is mostly script ({100 * script_chars // max(len(raw), 1)}% of the file) with {words} "
            "words of text: a page drawn by JavaScript; save it from the browser after it has "
            "loaded (File > Save as, 'complete'), or save its text"
        )
    if not words:
        raise UnreadableDocument("it has no readable text outside navigation, scripts and markup")
    if not title:
        first_heading = soup.find("h1")
        title = clean_title(first_heading.get_text(" ")) if first_heading else ""
    return ExtractedText(text, title)


def _main(soup: Any) -> Any:
    """The element holding the page's content: its largest <main>/<article>, else <body>."""
    candidates = soup.find_all(["main", "article"]) + soup.find_all(attrs={"role": "main"})
    candidates = [c for c in candidates if not _furniture(c)]
    if candidates:
        return max(candidates, key=lambda c: len(c.get_text()))
    return soup.body or soup


def _furniture(tag: Any) -> bool:
    if tag.name in DROP:
        return True
    attrs = tag.attrs or {}
    if str(attrs.get("role", "")).lower() in DROP_ROLES or "hidden" in attrs:
        return True
    if str(attrs.get("aria-hidden", "")).lower() == "true":
        return True
    classes = attrs.get("class") or []
    names = (
        " ".join(classes if isinstance(classes, list) else [str(classes)]) + " " + str(attrs.get("id", ""))
    )
    return bool(_FURNITURE.search(names))


def _lines(root: Any) -> list[str]:
    """The text lines of ``root`` in document order (an explicit stack: no recursion limit)."""
    from bs4 import NavigableString, Tag
    from bs4.element import Comment, Declaration, Doctype, ProcessingInstruction

    skip_strings = (Comment, Declaration, Doctype, ProcessingInstruction)
    lines: list[str] = []
    buffer: list[str] = []

    def flush() -> None:
        line = clean_line("".join(buffer))
        buffer.clear()
        if line:
            lines.append(line)

    stack: list[Any] = [root]
    while stack:
        node = stack.pop()
        if node is None:  # end of a block element
            flush()
            continue
        if isinstance(node, NavigableString):
            if not isinstance(node, skip_strings):
                buffer.append(str(node))
            continue
        if not isinstance(node, Tag) or (node is not root and _furniture(node)):
            continue
        if node.name == "header" and root.name == "body":
            continue  # the site's banner; a <header> inside <main>/<article> holds its title
        if node.name == "br":
            flush()
        elif node.name == "table":
            flush()
            lines.extend(_table_rows(node))
        elif node.name == "sup" and re.fullmatch(r"\s*\[[^\]]{1,12}\]\s*", node.get_text()):
            continue  # a citation mark such as "[12]"
        else:
            block = node.name in BLOCKS or node.name in HEADINGS
            if block:
                flush()
                stack.append(None)
            stack.extend(reversed(list(node.children)))
    flush()
    return lines


def _table_rows(table: Any) -> list[str]:
    """Each row of a table as one line; nested tables are read as rows of their own."""
    rows: list[list[str]] = []
    header: list[str] = []
    lines: list[str] = []
    caption = table.find("caption")
    if caption is not None and clean_line(caption.get_text(" ")):
        lines.append(clean_line(caption.get_text(" ")))
    for tr in table.find_all("tr"):
        if tr.find_parent("table") is not table or _furniture(tr):
            continue
        cells = [c for c in tr.find_all(["th", "td"], recursive=False) if not _furniture(c)]
        texts = [clean_line(_cell_text(c)) for c in cells]
        if not any(texts):
            continue
        if all(c.name == "th" for c in cells) and len(cells) > 1 and not rows and not header:
            header = texts
            continue
        rows.append(texts)
    for texts in rows:
        if header and len(header) == len(texts):
            lines.append("; ".join(f"{h}: {t}" if h else t for h, t in zip(header, texts, strict=True) if t))
        elif len(texts) == 2 and texts[0] and texts[1]:
            lines.append(f"{texts[0]}: {texts[1]}")
        else:
            lines.append(" | ".join(t for t in texts if t))
    return lines


def _cell_text(cell: Any) -> str:
    """A cell's visible text, line breaks and list items as ", "."""
    for tag in cell.find_all(["script", "style", "sup"]):
        if tag.name != "sup" or re.fullmatch(r"\s*\[[^\]]{1,12}\]\s*", tag.get_text()):
            tag.decompose()
    for br in cell.find_all("br"):
        br.replace_with(", ")
    parts = [clean_line(s) for s in cell.find_all(string=True)]
    return re.sub(r"\s*,(\s*,)*\s*", ", ", " ".join(p for p in parts if p)).strip(" ,")

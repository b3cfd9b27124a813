"""HTML for the chat app: pure functions from engine records to HTML strings.

Every piece of corpus text and user input goes through :func:`esc` (``html.escape``)
before it is put into markup, so HTML or Markdown inside a document or a question is
shown as text and never runs. The output never contains a raw newline: the chat
component dedents multi-line strings, and ``<br>`` keeps line breaks of the corpus.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from urllib.parse import urlencode

from csto_qa.records import Answer, Document, Passage

MODE_LABELS = {"hybrid": "Hybrid (BM25 + embeddings)", "bm25": "BM25 only", "dense": "Embeddings only"}
CONTEXT_CHARS = 450  # characters of the document shown on each side of a passage...
CONTEXT_LINES = 5  # ...and at most this many lines, so the marked passage is always in view
NO_ANSWER_HINT = (
    "No passage is shown because none is close enough to the question. "
    "Try other words, or ask about the CSTO's members, history, structure or operations."
)


CONFIDENCE_HELP = (
    "Confidence: how close in meaning (cosine, 0 to 1) the best cited sentence is to the question, "
    "capped when the passages lack the question's key words or the kind of answer it asks for; "
    "below 0.33 the app does not answer, below 0.50 it says the match may be indirect."
)
DOC_ROUTE = "cq/doc"  # the whole-document page (csto_qa/app/document.py), relative to the app's root
_URL = re.compile(r"https?://[^\s)'\"]+")
_WIKIPEDIA = re.compile(r"\b(?:(en|ru|de|fr)\w*\s+)?Wikipedia article '([^']+)'", re.IGNORECASE)
_DOMAIN = re.compile(r"\(((?:[a-z0-9-]+\.)+[a-z]{2,})\)", re.IGNORECASE)
_CC = re.compile(r"\bCC\s+(BY(?:-SA|-ND|-NC|-NC-SA|-NC-ND)?)\s+(\d\.\d)\b", re.IGNORECASE)


def source_url(source: str) -> str:
    """A link for a manifest ``source`` text: its URL, its Wikipedia article or its site; else ""."""
    found = _URL.search(source)
    if found:
        return found.group(0)
    wiki = _WIKIPEDIA.search(source)
    if wiki:
        lang = "en" if "english" in source.lower() or not wiki.group(1) else wiki.group(1).lower()
        return f"https://{lang}.wikipedia.org/wiki/{wiki.group(2).replace(' ', '_')}"
    domain = _DOMAIN.search(source)
    return f"https://{domain.group(1).lower()}/" if domain else ""


def licence_url(licence: str) -> str:
    """The deed of a Creative Commons licence named in ``licence`` (e.g. "CC BY-SA 4.0"); else ""."""
    found = _CC.search(licence)
    if not found:
        return ""
    return f"https://creativecommons.org/licenses/{found.group(1).lower()}/{found.group(2)}/"


def _link(text: str, url: str, title: str = "") -> str:
    tip = f' title="{esc(title)}"' if title else ""
    if not url:
        return f"<span{tip}>{esc(text)}</span>"
    return f'<a href="{esc(url)}" target="_blank" rel="noopener noreferrer"{tip}>{esc(text)}</a>'


def render_attribution(document: Document | None) -> str:
    """Where a document comes from and under which licence, linked when the manifest allows."""
    if document is None or not (document.source or document.licence):
        return ""
    parts = []
    if document.source:
        short = document.source.split(", ")[0]
        parts.append(f"Source: {_link(short, source_url(document.source), document.source)}")
    if document.licence:
        parts.append(f"Licence: {_link(document.licence, licence_url(document.licence))}")
    return f'<div class="cq-source">{" · ".join(parts)}</div>'


def document_link(passage: Passage) -> str:
    """The URL of the whole-document page, scrolled to ``passage`` with its sentence marked."""
    query = {
        "doc": passage.doc,
        "start": passage.start,
        "end": passage.end,
        "hs": passage.highlight_start,
        "he": passage.highlight_end,
    }
    start, end = getattr(passage, "answer_start", None), getattr(passage, "answer_end", None)
    if isinstance(start, int) and isinstance(end, int):
        query.update({"as": start, "ae": end})
    return f"{DOC_ROUTE}?{urlencode(query)}#cq-passage"


def page_label(passage: Passage) -> str:
    """ "p. 4" or "pp. 4–5" when the passage comes from a paged document, else ""."""
    first, last = getattr(passage, "page_start", None), getattr(passage, "page_end", None)
    if not isinstance(first, int):
        return ""
    return f"p. {first}" if not isinstance(last, int) or last == first else f"pp. {first}–{last}"


def esc(text: str) -> str:
    """Escape text for HTML, keeping line breaks as ``<br>``."""
    escaped = html.escape(text, quote=True)
    return escaped.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "<br>")


def mark(text: str, start: int, end: int, css: str = "cq-hl") -> str:
    """``text`` escaped, with ``text[start:end]`` wrapped in ``<mark>`` (nothing marked if out of range)."""
    if not 0 <= start < end <= len(text):
        return esc(text)
    return f'{esc(text[:start])}<mark class="{css}">{esc(text[start:end])}</mark>{esc(text[end:])}'


def mark_answer(text: str, start: int, end: int, answer: tuple[int, int] | None) -> str:
    """Like :func:`mark`, with ``text[answer[0]:answer[1]]`` in ``<strong>`` inside the mark."""
    if answer is None or not (start <= answer[0] < answer[1] <= end <= len(text)) or start < 0:
        return mark(text, start, end)
    a, b = answer
    inner = f'{esc(text[start:a])}<strong class="cq-ans">{esc(text[a:b])}</strong>{esc(text[b:end])}'
    return f'{esc(text[:start])}<mark class="cq-hl">{inner}</mark>{esc(text[end:])}'


def mark_readable(passage: Passage) -> str:
    """The passage as it reads (``Passage.display``: fields as ``Name: value``, no debris),
    its highlighted sentence and answer phrase found in that text."""
    text, sentence = passage.display, passage.highlight_display or passage.highlight
    start = text.find(sentence) if sentence else -1
    if start < 0:
        return esc(text)
    end = start + len(sentence)
    answer = passage.answer or ""
    inside = sentence.find(answer) if answer else -1
    span = (start + inside, start + inside + len(answer)) if inside >= 0 else None
    return mark_answer(text, start, end, span)


def answer_span(passage: Passage, offset: int) -> tuple[int, int] | None:
    """The answer phrase of ``passage`` (document offsets) shifted by ``-offset``, if known."""
    start, end = getattr(passage, "answer_start", None), getattr(passage, "answer_end", None)
    if isinstance(start, int) and isinstance(end, int) and start < end:
        return start - offset, end - offset
    return None


def render_question(question: str) -> str:
    """The user's message, shown verbatim as text."""
    return f'<div class="cq-question">{esc(question)}</div>'


def render_notice(message: str, kind: str = "info") -> str:
    """A plain message from the app (empty question, error)."""
    return f'<div class="cq-notice cq-{esc(kind)}">{esc(message)}</div>'


def _number(value: float | None, digits: int) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _rank(value: int | None, retriever: str) -> str:
    return f"rank {value}" if value is not None else f"not among the {retriever} results"


def _where(title: str, section: str) -> str:
    section_html = f' <span class="cq-section">§ {esc(section)}</span>' if section else ""
    return f'<span class="cq-title">{esc(title)}</span>{section_html}'


def _snap_left(text: str, index: int) -> int:
    """Move ``index`` back to the start of a sentence or line near it, else to a word boundary."""
    if index <= 0:
        return 0
    floor = max(0, index - 200)
    cut = max(text.rfind(". ", floor, index), text.rfind("\n", floor, index))
    if cut >= 0:
        return cut + 1 + (text[cut] == ".")
    space = text.rfind(" ", floor, index)
    return space + 1 if space >= 0 else index


def _snap_right(text: str, index: int) -> int:
    """Move ``index`` forward to the end of a sentence or line near it, else to a word boundary."""
    if index >= len(text):
        return len(text)
    ceiling = min(len(text), index + 200)
    cuts = [c for c in (text.find(". ", index, ceiling), text.find("\n", index, ceiling)) if c >= 0]
    if cuts:
        cut = min(cuts)
        return cut + (text[cut] == ".")
    space = text.find(" ", index, ceiling)
    return space if space >= 0 else index


def render_context(document: Document, passage: Passage, window: int = CONTEXT_CHARS) -> str:
    """The passage inside its document: surrounding text, the passage marked, the answer highlighted."""
    text = document.text
    start, end = passage.start, passage.end
    if not (0 <= start < end <= len(text)):
        return render_notice(f"This passage is not found in '{document.doc_id}' any more.", "error")
    left = _snap_left(text, start - window)
    right = _snap_right(text, end + window)
    before_lines = text[left:start].split("\n")
    after_lines = text[end:right].split("\n")
    cut_before = left > 0 or len(before_lines) > CONTEXT_LINES + 1
    cut_after = right < len(text) or len(after_lines) > CONTEXT_LINES + 1
    before = "\n".join(before_lines[-(CONTEXT_LINES + 1) :]).lstrip(" ")
    after = "\n".join(after_lines[: CONTEXT_LINES + 1]).rstrip()
    inner = mark_answer(
        text[start:end],
        passage.highlight_start - start,
        passage.highlight_end - start,
        answer_span(passage, start),
    )
    return (
        f'<div class="cq-doc">{"… " if cut_before else ""}{esc(before)}<span class="cq-in">{inner}</span>'
        f"{esc(after)}{' …' if cut_after else ''}</div>"
        f'<div class="cq-docpos">{esc(document.title)} · characters {start:,}–{end:,} of {len(text):,}'
        f" · document id <code>{esc(document.doc_id)}</code></div>"
    )


def render_scores(passage: Passage, mode: str = "hybrid", fusion: str = "") -> str:
    """The score breakdown and the matched query terms of one passage."""
    if mode == "hybrid":
        first = ("Fused score", _number(passage.score, 3), fusion or "ranks the passages")
    else:
        first = (
            "Ranking score",
            _number(passage.score, 3),
            f"{MODE_LABELS.get(mode, mode)}: ranks the passages",
        )
    rows = [
        first,
        ("BM25 score", _number(passage.bm25_score, 2), _rank(passage.bm25_rank, "BM25")),
        ("Embedding similarity", _number(passage.dense_score, 3), _rank(passage.dense_rank, "embedding")),
    ]
    body = "".join(f"<tr><th>{esc(a)}</th><td>{esc(b)}</td><td>{esc(c)}</td></tr>" for a, b, c in rows)
    if passage.matched_terms:
        terms = "".join(f'<span class="cq-term">{esc(t)}</span>' for t in passage.matched_terms)
    else:
        terms = '<span class="cq-muted">none (found by meaning, not by shared words)</span>'
    return (
        f'<table class="cq-scores">{body}</table>'
        f'<div class="cq-terms"><span class="cq-label">Matched query terms</span> {terms}</div>'
    )


def render_copies(passage: Passage) -> str:
    """The other documents that carry the same passage."""
    if passage.copies:
        items = "".join(f"<li>{_where(c.title, c.section)}</li>" for c in passage.copies)
    else:
        others = [doc for doc in passage.sources if doc != passage.doc]
        if not others:
            return ""
        items = "".join(f"<li><code>{esc(doc)}</code></li>" for doc in others)
    return f'<div class="cq-also"><span class="cq-label">Also in</span><ul>{items}</ul></div>'


def render_passage(
    passage: Passage, document: Document | None, mode: str = "hybrid", fusion: str = ""
) -> str:
    """One citation card: where it comes from (source, licence), the passage with its answer
    sentence, the context, the whole document, the scores."""
    hs = passage.highlight_start - passage.start
    he = passage.highlight_end - passage.start
    context = (
        render_context(document, passage)
        if document is not None
        else render_notice("The document of this passage is not in the index.", "error")
    )
    scores = render_scores(passage, mode, fusion)
    passage_html = (
        mark_readable(passage)
        if passage.display
        else mark_answer(passage.text, hs, he, answer_span(passage, passage.start))
    )
    page = page_label(passage)
    page_html = f' <span class="cq-page">{esc(page)}</span>' if page else ""
    whole = (
        f'<a class="cq-whole" href="{esc(document_link(passage))}" target="_blank" rel="noopener">'
        "Whole document</a>"
        if document is not None
        else ""
    )
    return (
        f'<li class="cq-cite" data-rank="{passage.rank}">'
        f'<div class="cq-head"><span class="cq-num">{passage.rank}</span>'
        f'<span class="cq-where">{_where(passage.title, passage.section)}{page_html}</span></div>'
        f"{render_attribution(document)}"
        f'<blockquote class="cq-passage">{passage_html}</blockquote>'
        f"{render_copies(passage)}"
        f'<details class="cq-ctx"><summary>Show in document</summary>{context}</details>'
        f'<details class="cq-why"><summary>Why this passage</summary>{scores}</details>'
        f'<div class="cq-links">{whole}</div>'
        "</li>"
    )


def cite_link(rank: int) -> str:
    """A citation ``[n]``: a link the page's script turns into a jump to card ``n`` of the answer."""
    return f'<a class="cq-ref" href="#cq-cite-{rank}" title="Go to passage {rank}">[{rank}]</a>'


def render_tools(question: str) -> str:
    """Copy the answer, ask the same question again with the settings now chosen, or edit it."""
    return (
        '<div class="cq-tools">'
        '<a href="#" class="cq-tool cq-copy" role="button">Copy answer</a>'
        '<a href="#" class="cq-tool cq-rerun" role="button">Ask again with current settings</a>'
        '<a href="#" class="cq-tool cq-edit" role="button">Edit question</a>'
        # The chat's sanitiser drops data-* attributes: the question rides in a hidden span.
        f'<span class="cq-qtext">{esc(question)}</span></div>'
    )


def render_searched(answer: Answer, followup: bool = False) -> str:
    """The "Searched for: <query>" line when the engine ran another query than the question, else "".

    With ``followup`` (the query was made with the conversation's earlier questions) it also
    offers "Ask on its own": the same question again without the conversation, for when the
    rewrite misread it. The engine collapses runs of spaces, so they do not count as a change.
    """
    query = " ".join(answer.query.split())
    if not query or query == " ".join(answer.question.split()):
        return ""
    alone = (
        '<a href="#" class="cq-tool cq-alone" role="button" '
        'title="Ask the same question again without the earlier questions of this conversation">'
        "Ask on its own</a>"
        if followup
        else ""
    )
    return f'<div class="cq-searched"><span>Searched for: <q>{esc(query)}</q></span>{alone}</div>'


def render_answer(
    answer: Answer,
    lookup: Callable[[str], Document | None],
    fusion: str = "",
    followup: bool = False,
) -> str:
    """The assistant's reply: a lead sentence with its citation, then the cited passages.

    ``lookup`` maps a document id of the index to its document (``None`` when unknown), so
    the context view only ever shows documents of the index. An abstention that still carries
    passages shows its message with the passages folded away. ``followup``: the question was
    asked with the conversation's earlier questions (see :func:`render_searched`).
    """
    searched = render_searched(answer, followup)
    note = ""
    if _mostly_not_latin(answer.question):
        note = (
            '<div class="cq-note">The documents are in English: a question in English usually '
            "finds better passages.</div>"
        )
    tools = render_tools(answer.question) if answer.question.strip() else ""
    if answer.abstained:
        hint = (
            f'<div class="cq-hint">{esc(NO_ANSWER_HINT)}</div>'
            if answer.query and not answer.passages
            else ""
        )
        folded = ""
        if answer.passages:
            cards = "".join(render_passage(p, lookup(p.doc), answer.mode, fusion) for p in answer.passages)
            folded = (
                f'<details class="cq-folded"><summary>The closest passages ({len(answer.passages)})</summary>'
                f'<ol class="cq-cites">{cards}</ol></details>'
            )
        return (
            f'<div class="cq-answer cq-abstained">{searched}'
            f'<div class="cq-nothing">{esc(answer.message)}</div>{hint}{note}{folded}{tools}</div>'
        )
    first = answer.passages[0]
    lead_text = " ".join((first.highlight_display or first.highlight).split())
    phrase = " ".join((first.answer or "").split())
    at = lead_text.find(phrase) if phrase else -1
    lead_html = (
        f'{esc(lead_text[:at])}<strong class="cq-ans">{esc(phrase)}</strong>'
        f"{esc(lead_text[at + len(phrase) :])}"
        if at >= 0
        else esc(lead_text)
    )
    lead = f'<p class="cq-lead">{lead_html} {cite_link(first.rank)}</p>'
    message = f'<div class="cq-hint">{esc(answer.message)}</div>' if answer.message else ""
    cards = "".join(render_passage(p, lookup(p.doc), answer.mode, fusion) for p in answer.passages)
    count = len(answer.passages)
    total = answer.timings_ms.get("total")
    facts = [
        f"{count} cited passage{'s' if count != 1 else ''}",
        MODE_LABELS.get(answer.mode, answer.mode),
    ]
    if total is not None:
        facts.append(f"{total:.0f} ms")
    confidence = (
        f' · <span class="cq-conf" title="{esc(CONFIDENCE_HELP)}">confidence {answer.confidence:.2f}</span>'
        f'<span class="cq-conf-help"> ({esc(CONFIDENCE_HELP.split(": ", 1)[1].split(", capped")[0])})</span>'
    )
    meta = f'<div class="cq-meta">{esc(" · ".join(facts))}{confidence}</div>'
    return (
        f'<div class="cq-answer">{searched}{lead}{message}{note}{meta}{tools}'
        f'<ol class="cq-cites">{cards}</ol></div>'
    )


def _mostly_not_latin(text: str) -> bool:
    """True when most letters of ``text`` are outside the Latin script (Cyrillic, Arabic, ...)."""
    letters = [c for c in text if c.isalpha()]
    if len(letters) < 3:
        return False
    latin = sum(1 for c in letters if c.isascii() or "\u00c0" <= c <= "\u024f")
    return latin < len(letters) / 2


def fusion_label(fusion: str, alpha: float, rrf_k: int) -> str:
    """How the fused score is made, for the score breakdown."""
    if fusion == "rrf":
        return f"reciprocal rank fusion (k = {rrf_k}) of both rankings"
    return f"weighted sum of normalised BM25 and embedding scores (embedding weight {alpha:g})"


APP_HEADER = (
    '<div class="cq-brand"><h1>CSTO questions</h1>'
    "<p>Ask about the Collective Security Treaty Organization. Answers are passages quoted from the "
    "documents, the answering sentence highlighted, each with its source.</p></div>"
)

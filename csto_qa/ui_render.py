"""HTML for the chat app: pure functions from engine records to HTML strings.

Every piece of corpus text and user input goes through :func:`esc` (``html.escape``)
before it is put into markup, so HTML or Markdown inside a document or a question is
shown as text and never runs. The output never contains a raw newline: the chat
component dedents multi-line strings, and ``<br>`` keeps line breaks of the corpus.
"""

from __future__ import annotations

import html
from collections.abc import Callable

from csto_qa.records import Answer, Document, Passage

MODE_LABELS = {"hybrid": "Hybrid (BM25 + embeddings)", "bm25": "BM25 only", "dense": "Embeddings only"}
CONTEXT_CHARS = 450  # characters of the document shown on each side of a passage...
CONTEXT_LINES = 5  # ...and at most this many lines, so the marked passage is always in view
NO_ANSWER_HINT = (
    "No passage is shown because none is close enough to the question. "
    "Try other words, or ask about the CSTO's members, history, structure or operations."
)


def esc(text: str) -> str:
    """Escape text for HTML, keeping line breaks as ``<br>``."""
    escaped = html.escape(text, quote=True)
    return escaped.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "<br>")


def mark(text: str, start: int, end: int, css: str = "cq-hl") -> str:
    """``text`` escaped, with ``text[start:end]`` wrapped in ``<mark>`` (nothing marked if out of range)."""
    if not 0 <= start < end <= len(text):
        return esc(text)
    return f'{esc(text[:start])}<mark class="{css}">{esc(text[start:end])}</mark>{esc(text[end:])}'


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
    inner = mark(text[start:end], passage.highlight_start - start, passage.highlight_end - start)
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
    """One citation card: where it comes from, the passage with its answer sentence, context, scores."""
    hs = passage.highlight_start - passage.start
    he = passage.highlight_end - passage.start
    context = (
        render_context(document, passage)
        if document is not None
        else render_notice("The document of this passage is not in the index.", "error")
    )
    scores = render_scores(passage, mode, fusion)
    return (
        f'<li class="cq-cite" data-rank="{passage.rank}">'
        f'<div class="cq-head"><span class="cq-num">{passage.rank}</span>'
        f'<span class="cq-where">{_where(passage.title, passage.section)}</span></div>'
        f'<blockquote class="cq-passage">{mark(passage.text, hs, he)}</blockquote>'
        f"{render_copies(passage)}"
        f'<details class="cq-ctx"><summary>Show in document</summary>{context}</details>'
        f'<details class="cq-why"><summary>Why this passage</summary>{scores}</details>'
        "</li>"
    )


def render_answer(
    answer: Answer,
    lookup: Callable[[str], Document | None],
    fusion: str = "",
) -> str:
    """The assistant's reply: a lead sentence with its citation, then the cited passages.

    ``lookup`` maps a document id of the index to its document (``None`` when unknown), so
    the context view only ever shows documents of the index.
    """
    searched = ""
    if answer.query and answer.query.strip() != answer.question.strip():
        searched = f'<div class="cq-searched">Searched for: <q>{esc(answer.query)}</q></div>'
    if answer.abstained:
        hint = f'<div class="cq-hint">{esc(NO_ANSWER_HINT)}</div>' if answer.query else ""
        return (
            f'<div class="cq-answer cq-abstained">{searched}'
            f'<div class="cq-nothing">{esc(answer.message)}</div>{hint}</div>'
        )
    first = answer.passages[0]
    lead = (
        f'<p class="cq-lead">{esc(" ".join(first.highlight.split()))}'
        f' <span class="cq-ref">[{first.rank}]</span></p>'
    )
    cards = "".join(render_passage(p, lookup(p.doc), answer.mode, fusion) for p in answer.passages)
    count = len(answer.passages)
    total = answer.timings_ms.get("total")
    facts = [
        f"{count} cited passage{'s' if count != 1 else ''}",
        MODE_LABELS.get(answer.mode, answer.mode),
        f"confidence {answer.confidence:.2f}",
    ]
    if total is not None:
        facts.append(f"{total:.0f} ms")
    meta = f'<div class="cq-meta">{esc(" · ".join(facts))}</div>'
    return f'<div class="cq-answer">{searched}{lead}{meta}<ol class="cq-cites">{cards}</ol></div>'


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

APP_CSS = """
.gradio-container .main { max-width: 1320px; margin: 0 auto; width: 100%; }
#cq-header .cq-brand { padding: 4px 2px 0; }
#cq-header h1 { font-size: 1.55rem; font-weight: 600; margin: 0 0 2px; letter-spacing: -0.01em; }
#cq-header p { margin: 0; color: var(--body-text-color-subdued); font-size: 0.95rem; }
.cq-placeholder { text-align: center; color: var(--body-text-color-subdued); line-height: 1.6; }
.cq-placeholder strong { color: var(--body-text-color); font-size: 1.15rem; }
.cq-question { white-space: normal; overflow-wrap: anywhere; }
.cq-answer { display: flex; flex-direction: column; gap: 8px; line-height: 1.55; }
.cq-answer .cq-lead { font-size: 1.06rem; font-weight: 600; margin: 0; }
.cq-ref { color: var(--color-accent); font-weight: 600; font-size: 0.85em; white-space: nowrap; }
.cq-meta, .cq-muted, .cq-docpos { color: var(--body-text-color-subdued); font-size: 0.82rem; }
.cq-searched { font-size: 0.85rem; color: var(--body-text-color-subdued); padding: 3px 10px;
  border-left: 3px solid var(--color-accent); background: var(--background-fill-secondary);
  border-radius: 4px; }
.cq-searched q { color: var(--body-text-color); font-style: italic; }
.cq-answer ol.cq-cites { list-style: none; margin: 4px 0 0; padding: 0; display: flex; flex-direction: column;
  gap: 10px; }
.cq-answer li.cq-cite { margin: 0; padding: 10px 14px; border: 1px solid var(--border-color-primary);
  border-radius: 10px; background: var(--background-fill-primary); }
.cq-head { display: flex; gap: 8px; align-items: baseline; }
.cq-num { flex: none; display: inline-flex; align-items: center; justify-content: center; min-width: 1.55em;
  height: 1.55em; border-radius: 999px; background: var(--color-accent); color: #fff; font-size: 0.8rem;
  font-weight: 600; }
.cq-title { font-weight: 600; }
.cq-section { color: var(--body-text-color-subdued); font-size: 0.88em; margin-left: 4px; }
.cq-answer blockquote.cq-passage { margin: 8px 0 4px; padding: 0 0 0 12px; border-left: 3px solid
  var(--border-color-primary); color: var(--body-text-color); font-size: 0.95rem; font-style: normal; }
.cq-answer mark.cq-hl { background: #fde68a; color: #1f2937; padding: 1px 2px; border-radius: 3px; }
.dark .cq-answer mark.cq-hl { background: #854d0e; color: #fefce8; }
.cq-label { font-size: 0.78rem; font-weight: 600; text-transform: uppercase; letter-spacing: 0.04em;
  color: var(--body-text-color-subdued); }
.cq-also { font-size: 0.85rem; margin: 2px 0; }
.cq-also ul { display: inline; margin: 0; padding: 0; list-style: none; }
.cq-also li { display: inline; margin: 0 0 0 6px; }
.cq-also li + li::before { content: "·"; margin-right: 6px; color: var(--body-text-color-subdued); }
.cq-answer details { margin-top: 4px; }
.cq-answer details > summary { cursor: pointer; color: var(--color-accent); font-size: 0.86rem;
  font-weight: 600; width: fit-content; }
.cq-answer details[open] > summary { margin-bottom: 6px; }

.cq-doc { padding: 10px 12px; border-radius: 8px; font-size: 0.9rem;
  background: var(--background-fill-secondary); color: var(--body-text-color-subdued); }
.cq-in { color: var(--body-text-color); background: var(--color-accent-soft); border-radius: 3px;
  padding: 1px 0; box-decoration-break: clone; -webkit-box-decoration-break: clone; }
.cq-docpos { margin-top: 4px; }
.cq-answer table.cq-scores { border-collapse: collapse; margin: 0 0 6px; font-size: 0.86rem; width: auto; }
.cq-answer table.cq-scores th, .cq-answer table.cq-scores td { padding: 3px 12px 3px 0; border: none;
  text-align: left; background: none; }
.cq-answer table.cq-scores th { font-weight: 600; }
.cq-answer table.cq-scores td:nth-child(2) { font-variant-numeric: tabular-nums;
  font-family: var(--font-mono); }
.cq-answer table.cq-scores td:nth-child(3) { color: var(--body-text-color-subdued); }
.cq-term { display: inline-block; margin: 2px 4px 2px 0; padding: 0 8px; border-radius: 999px;
  background: var(--color-accent-soft); font-size: 0.82rem; font-family: var(--font-mono); }
.cq-nothing { font-weight: 600; }
.cq-hint { color: var(--body-text-color-subdued); font-size: 0.9rem; }
.cq-notice { padding: 8px 12px; border-radius: 8px; background: var(--background-fill-secondary);
  border-left: 3px solid var(--color-accent); }
.cq-notice.cq-error { color: var(--error-text-color, #b91c1c); border-left-color: currentColor; }
.cq-about { font-size: 0.86rem; padding: 4px 2px; }
.cq-about ul { margin: 4px 0 6px; padding-left: 18px; }
.cq-about li { margin: 2px 0; }
"""

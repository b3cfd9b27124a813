"""The whole-document page: ``/cq/doc?doc=<id>&start=&end=&hs=&he=[&as=&ae=]#cq-passage``.

Opened from a citation card ("Whole document"), it shows the full text of one document of
the index with the cited passage marked, its answering sentence highlighted and the answer
phrase (when the engine gives one) emphasised; the ``#cq-passage`` fragment makes the browser
scroll to the passage without any script. Only documents of the index can be shown (looked
up by id, never by path) and every character is escaped. Offsets that do not fit the
document are ignored (the page then shows the document unmarked), never an error page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from csto_qa.app.render import esc, mark_answer, render_attribution
from csto_qa.records import Document

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response


def _offset(params: Any, name: str) -> int | None:
    value = params.get(name, "")
    return int(value) if value.isdigit() and len(value) < 12 else None


def render_document_page(document: Document, spans: dict[str, int | None], css: str) -> str:
    """The HTML page of ``document`` with the passage ``start:end`` marked (see the module doc)."""
    text = document.text
    start, end, hs, he = spans.get("start"), spans.get("end"), spans.get("hs"), spans.get("he")
    a, b = spans.get("as"), spans.get("ae")
    if start is not None and end is not None and 0 <= start < end <= len(text):
        passage = text[start:end]
        hs = hs - start if hs is not None else 0
        he = he - start if he is not None else 0
        answer = (a - start, b - start) if a is not None and b is not None else None
        body = (
            f'{esc(text[:start])}<span id="cq-passage" class="cq-in" tabindex="-1">'
            f"{mark_answer(passage, hs, he, answer)}</span>{esc(text[end:])}"
        )
        where = f"The cited passage (characters {start:,}–{end:,} of {len(text):,}) is marked."
    else:
        body = esc(text)
        where = f"{len(text):,} characters."
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(document.title)} · csto-qa</title><style>{css}</style></head>"
        '<body class="cq-doc-page"><header>'
        f"<h1>{esc(document.title)}</h1>{render_attribution(document)}"
        f'<div class="cq-docpos">{where} Document id <code>{esc(document.doc_id)}</code>.</div>'
        '</header><main><div class="cq-fulltext">'
        f"{body}</div></main></body></html>"
    )


def document_endpoint(lookup: Callable[[str], Document | None], css: str) -> Callable[[Request], Any]:
    """A Starlette endpoint serving :func:`render_document_page` for documents ``lookup`` knows."""

    async def endpoint(request: Request) -> Response:
        from starlette.responses import HTMLResponse

        doc_id = request.query_params.get("doc", "")
        document = lookup(doc_id) if doc_id else None
        if document is None:
            return HTMLResponse(
                f"<!doctype html><title>Not found</title><p>There is no document {esc(doc_id)!s} "
                "in the index.</p>",
                status_code=404,
            )
        names = ("start", "end", "hs", "he", "as", "ae")
        spans = {name: _offset(request.query_params, name) for name in names}
        return HTMLResponse(
            render_document_page(document, spans, css),
            headers={"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"},
        )

    return endpoint

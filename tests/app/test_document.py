"""The whole-document page (ui_document.py): the passage and its sentence marked, all escaped."""

from __future__ import annotations

from fakes import sample_lookup as lookup
from fakes import sample_passage as passage


def test_the_whole_document_page_marks_passage_sentence_and_escapes() -> None:
    from csto_qa.app.document import render_document_page

    p = passage()
    spans = {"start": p.start, "end": p.end, "hs": p.highlight_start, "he": p.highlight_end}
    html = render_document_page(lookup("doc-a"), spans, css="")
    assert (
        '<span id="cq-passage" class="cq-in" tabindex="-1">The passage starts. <mark class="cq-hl">' in html
    )
    assert "Intro sentence one." in html and "Outro." in html and "<b>" not in html
    broken = render_document_page(lookup("doc-a"), {"start": 90, "end": 10_000}, css="")
    assert "cq-passage" not in broken and "Outro." in broken  # bad offsets: the document, unmarked

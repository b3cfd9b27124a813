"""The chat's HTML (ui_render.py): every user and corpus string escaped, the lead sentence,
citations, scores, sources and licences, over hand-made records (tests/fakes.py)."""

from __future__ import annotations

from fakes import DOC_TEXT
from fakes import sample_answer as answer
from fakes import sample_lookup as lookup
from fakes import sample_passage as passage

from csto_qa.app.render import esc, mark, render_answer, render_context, render_question, render_scores
from csto_qa.records import Document

HOSTILE = "<script>alert(1)</script> <img src=x onerror=alert(1)> **bold** what is the CSTO?"


def test_esc_escapes_markup_and_keeps_line_breaks() -> None:
    assert esc('<a href="x">&</a>\nnext') == "&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;<br>next"
    assert "\n" not in esc("a\r\nb\rc\n")


def test_mark_wraps_the_span_and_ignores_bad_offsets() -> None:
    assert mark("ab<c>d", 2, 5) == 'ab<mark class="cq-hl">&lt;c&gt;</mark>d'
    assert mark("abc", -1, 2) == "abc" and mark("abc", 2, 9) == "abc" and mark("abc", 2, 2) == "abc"


def test_render_question_is_text() -> None:
    assert render_question(HOSTILE).startswith('<div class="cq-question">&lt;script&gt;')


def test_render_answer_has_lead_citations_and_escaped_fields() -> None:
    html = render_answer(answer(), lookup)
    lead = html.split('<div class="cq-meta">')[0]
    assert "The &lt;b&gt;answer&lt;/b&gt; is here." in lead and "[1]" in lead
    assert '<mark class="cq-hl">The &lt;b&gt;answer&lt;/b&gt; is here.</mark>' in html
    assert "Doc &lt;A&gt;" in html and "History &amp; &lt;i&gt;more&lt;/i&gt;" in html
    assert "Also in" in html and "Doc B" in html and "Sec B" in html
    assert '<span class="cq-term">&lt;x&gt;</span>' in html
    assert "Searched for" not in html
    assert "<b>" not in html and "<i>" not in html and "\n" not in html
    rewritten = render_answer(answer(question="and then?", query="Uzbekistan CSTO and then?"), lookup)
    assert "Searched for: <q>Uzbekistan CSTO and then?</q>" in rewritten
    assert "Ask on its own" not in rewritten  # only offered when the conversation made the query


def test_render_answer_abstention_and_missing_document() -> None:
    html = render_answer(answer(abstained=True, passages=[], message="The documents do not answer."), lookup)
    assert "The documents do not answer." in html and "cq-cite" not in html
    assert "not in the index" in render_answer(answer(passages=[passage(doc="gone")]), lookup)


def test_render_context_marks_the_passage_inside_its_document() -> None:
    html = render_context(lookup("doc-a"), passage())
    assert "Intro two." in html and "Outro." in html  # the surrounding text
    assert '<span class="cq-in">The passage starts. <mark class="cq-hl">' in html
    assert "characters 31–91 of 98" in html
    short = render_context(lookup("doc-a"), passage(), window=5)
    assert short.count("…") == 2 and "Intro sentence one" not in short


def test_render_context_rejects_offsets_outside_the_document() -> None:
    assert "not found" in render_context(lookup("doc-a"), passage(start=80, end=500))


def test_render_scores_explains_missing_ranks_and_modes() -> None:
    html = render_scores(passage(bm25_rank=None, matched_terms=[]), "dense")
    assert "not among the BM25 results" in html and "Ranking score" in html
    assert "Embeddings only" in html and "found by meaning" in html
    assert "Fused score" in render_scores(passage(), "hybrid", "weighted sum")


# --- citations, sources, whole document, optional passage fields --------------------------------


def test_source_and_licence_links_come_from_the_manifest_text() -> None:
    from csto_qa.app.render import licence_url, source_url

    wiki = "English Wikipedia article 'Collective Security Treaty Organization', flattened to one paragraph"
    assert source_url(wiki) == "https://en.wikipedia.org/wiki/Collective_Security_Treaty_Organization"
    assert source_url("Analyst page by A. B. (rozen-bakher.com), 2024") == "https://rozen-bakher.com/"
    assert source_url("see https://example.org/x?y=1 for more") == "https://example.org/x?y=1"
    assert source_url("Kiddle encyclopedia page, flattened to text") == ""
    assert licence_url("CC BY-SA 4.0") == "https://creativecommons.org/licenses/by-sa/4.0/"
    assert (
        licence_url("CC BY-SA 3.0 (adapted from Wikipedia)")
        == "https://creativecommons.org/licenses/by-sa/3.0/"
    )
    assert licence_url("unknown (copyright of the author)") == ""


def test_the_card_names_source_and_licence_and_links_the_whole_document() -> None:
    from csto_qa.app.render import render_passage

    doc = Document(
        "doc-a", "Doc <A>", DOC_TEXT, source="English Wikipedia article 'X <y>'", licence="CC BY 4.0"
    )
    html = render_passage(passage(), doc)
    assert 'Source: <a href="https://en.wikipedia.org/wiki/X_&lt;y&gt;"' in html
    assert 'Licence: <a href="https://creativecommons.org/licenses/by/4.0/"' in html
    p = passage()
    expected = f"cq/doc?doc=doc-a&amp;start={p.start}&amp;end={p.end}&amp;hs={p.highlight_start}"
    assert expected in html and "#cq-passage" in html
    assert "cq-source" not in render_passage(passage(), Document("doc-a", "A", DOC_TEXT))  # nothing to name


def test_answer_phrase_and_page_are_shown_when_the_engine_gives_them() -> None:
    from csto_qa.app.render import render_passage

    p = passage()
    start = DOC_TEXT.index("answer")
    p.answer_start, p.answer_end, p.page_start, p.page_end = start, start + len("answer</b>"), 4, 5  # type: ignore[attr-defined]
    html = render_passage(p, lookup("doc-a"))
    assert '<strong class="cq-ans">answer&lt;/b&gt;</strong>' in html and "pp. 4–5" in html
    assert f"&amp;as={start}&amp;ae={start + 10}" in html
    plain = render_passage(passage(), lookup("doc-a"))  # records without the new fields still render
    assert "cq-ans" not in plain and "cq-page" not in plain


def test_citation_links_copy_and_ask_again_tools() -> None:
    html = render_answer(answer(question="What <is> it?"), lookup)
    assert '<a class="cq-ref" href="#cq-cite-1" title="Go to passage 1">[1]</a>' in html
    assert "Copy answer" in html and "Ask again with current settings" in html and "Edit question" in html
    assert '<span class="cq-qtext">What &lt;is&gt; it?</span>' in html
    assert "confidence 0.80" in html and "how close in meaning" in html


def test_an_abstention_with_passages_shows_them_folded() -> None:
    html = render_answer(answer(abstained=True, message="The documents do not say when."), lookup)
    assert "The documents do not say when." in html
    assert '<details class="cq-folded"><summary>The closest passages (1)</summary>' in html
    assert "cq-lead" not in html


def test_a_question_in_another_script_gets_the_english_note() -> None:
    note = "The documents are in English"
    assert note in render_answer(answer(question="Когда была основана ОДКБ?"), lookup)
    assert note in render_answer(
        answer(question="Когда была основана ОДКБ?", abstained=True, passages=[]), lookup
    )
    assert note not in render_answer(answer(question="When was the CSTO (ОДКБ) founded?"), lookup)


def test_ask_on_its_own_is_offered_only_for_a_query_rewritten_from_the_conversation() -> None:
    asked = dict(question="and <then>?", query="Uzbekistan CSTO and <then>?")
    html = render_answer(answer(**asked), lookup, followup=True)
    assert "Searched for: <q>Uzbekistan CSTO and &lt;then&gt;?</q>" in html
    assert html.count('<a href="#" class="cq-tool cq-alone" role="button"') == 1
    assert ">Ask on its own</a>" in html and '<span class="cq-qtext">and &lt;then&gt;?</span>' in html
    declined = render_answer(answer(**asked, abstained=True, message="No."), lookup, followup=True)
    assert "Ask on its own" in declined  # a misread follow-up is as likely to be declined
    same = render_answer(answer(question="Who leads it?", query="Who  leads it?"), lookup, followup=True)
    assert "Searched for" not in same and "cq-alone" not in same  # spaces collapsed is no rewrite

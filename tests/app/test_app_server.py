"""The chat app: its API and chat endpoints through gradio_client, and its HTML rendering.

Server tests start the real app on a free loopback port and talk to it over HTTP, as a
user's script would. Rendering tests call the pure functions of ``csto_qa.ui_render``.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest
from fakes import free_port

from csto_qa.config import EngineSettings
from csto_qa.records import Answer, Document, Passage, SourceRef
from csto_qa.ui_render import esc, mark, render_answer, render_context, render_question, render_scores

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
# Gradio's queue analytics use a pandas option that pandas 3 deprecates: not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore::Warning:gradio.queueing")
ROOT = Path(__file__).resolve().parents[2]
SUSPEND = "When did Uzbekistan suspend its CSTO membership?"
HOSTILE = "<script>alert(1)</script> <img src=x onerror=alert(1)> **bold** what is the CSTO?"


def serve(engine):
    """Launch the app of ``engine`` on a free loopback port; returns (app, url)."""
    from csto_qa.ui import build_app, launch

    app = build_app(engine)
    return app, launch(app, "127.0.0.1", free_port(), block=False)


def texts(messages) -> list[str]:
    """The HTML of each chat message as gradio_client returns it."""
    out = []
    for message in messages:
        content = message["content"]
        parts = content if isinstance(content, list) else [content]
        out.append("".join(p["text"] if isinstance(p, dict) else str(p) for p in parts))
    return out


@pytest.fixture(scope="module")
def app_url(engine):
    app, url = serve(engine)
    yield url
    app.close()


@pytest.fixture()
def client(app_url):
    from gradio_client import Client

    return Client(app_url, verbose=False)  # a new client is a new session (empty conversation)


# --- the /ask API: same JSON as `csto-qa ask --json` ------------------------------------------


@pytest.mark.slow
def test_ask_api_returns_the_answer_json(client, engine) -> None:
    result = client.predict(SUSPEND, 5, "hybrid", [], api_name="/ask")
    assert "28 June 2012" in result["passages"][0]["text"]
    assert result == json.loads(json.dumps(engine.ask(SUSPEND, k=5).to_dict()))


@pytest.mark.slow
def test_ask_api_follow_up_uses_history(client) -> None:
    history = ["When did Uzbekistan join the CSTO?"]
    result = client.predict("and when did it leave?", 5, "hybrid", history, api_name="/ask")
    assert "Uzbekistan" in result["query"]
    assert any("2012" in p["text"] for p in result["passages"])


@pytest.mark.slow
def test_ask_api_k_sets_the_number_of_passages(client) -> None:
    assert len(client.predict(SUSPEND, 2, "hybrid", [], api_name="/ask")["passages"]) == 2
    default = client.predict(SUSPEND, api_name="/ask")  # k, mode and history are optional
    assert default["mode"] == "hybrid" and len(default["passages"]) == 5


@pytest.mark.slow
def test_ask_api_mode_changes_the_retrieval(client) -> None:
    bm25 = client.predict(SUSPEND, 3, "bm25", [], api_name="/ask")
    dense = client.predict(SUSPEND, 3, "dense", [], api_name="/ask")
    assert bm25["mode"] == "bm25" and dense["mode"] == "dense"
    assert all(p["bm25_rank"] is not None for p in bm25["passages"])
    assert all(p["dense_rank"] is not None for p in dense["passages"])
    # Each mode orders its citations by its own retriever's rank (duplicates are merged, so gaps).
    bm25_ranks = [p["bm25_rank"] for p in bm25["passages"]]
    dense_ranks = [p["dense_rank"] for p in dense["passages"]]
    assert bm25_ranks[0] == 1 and bm25_ranks == sorted(bm25_ranks)
    assert dense_ranks[0] == 1 and dense_ranks == sorted(dense_ranks)


@pytest.mark.slow
@pytest.mark.parametrize("question, message", [("who won the 2018 football world cup", "do not answer"),
                                               ("   ", "Please type a question")])  # fmt: skip
def test_ask_api_abstains_off_topic_and_on_empty_input(client, question, message) -> None:
    result = client.predict(question, 5, "hybrid", [], api_name="/ask")
    assert result["abstained"] is True and result["passages"] == [] and message in result["message"]


@pytest.mark.slow
@pytest.mark.parametrize("k, mode, expected", [(0, "hybrid", "k=0"), (3, "magic", "magic")])
def test_ask_api_rejects_bad_settings_with_the_reason(client, k, mode, expected) -> None:
    with pytest.raises(Exception, match=expected):
        client.predict(SUSPEND, k, mode, [], api_name="/ask")


@pytest.mark.slow
def test_only_ask_is_a_documented_endpoint(client) -> None:
    assert list(client.view_api(print_info=False, return_format="dict")["named_endpoints"]) == ["/ask"]


# --- the chat itself (the endpoint the page's Ask button calls) ---------------------------------


@pytest.mark.slow
def test_chat_shows_the_cited_answer(client) -> None:
    messages, box, _status = client.predict(SUSPEND, 3, "hybrid", api_name="/chat")
    question, answer = texts(messages)
    assert box == "" and SUSPEND in question
    lead = answer.split('<div class="cq-meta">')[0]
    assert "28 June 2012" in lead and "[1]</a>" in lead  # the lead sentence with its citation link
    assert 'href="#cq-cite-1"' in lead
    assert answer.count('<li class="cq-cite"') == 3
    # The answering sentence is marked, its answer phrase (the date) emphasised inside it.
    marked = '<mark class="cq-hl">On <strong class="cq-ans">28 June 2012</strong>, Uzbekistan suspended'
    assert marked in answer
    assert "Show in document" in answer and "Why this passage" in answer
    assert "Also in" in answer  # the same passage is in both Wikipedia texts
    # Each card names its source with a link and its licence, and opens the whole document.
    assert 'href="https://en.wikipedia.org/wiki/Collective_Security_Treaty_Organization"' in answer
    assert 'href="https://creativecommons.org/licenses/by-sa/4.0/"' in answer
    assert 'href="cq/doc?doc=csto-wikipedia' in answer and "Whole document" in answer


@pytest.mark.slow
def test_chat_follow_up_uses_the_conversation(client) -> None:
    client.predict("When did Uzbekistan join the CSTO?", 5, "hybrid", api_name="/chat")
    messages, _, _ = client.predict("and when did it leave?", 5, "hybrid", api_name="/chat")
    assert len(messages) == 4
    follow_up = texts(messages)[-1]
    assert "Searched for:" in follow_up and "Uzbekistan" in follow_up.split("Searched for:")[1][:200]
    assert "2012" in follow_up


@pytest.mark.slow
def test_chat_settings_change_the_next_answer(client) -> None:
    messages, _, _ = client.predict(SUSPEND, 2, "bm25", api_name="/chat")
    answer = texts(messages)[-1]
    assert answer.count('<li class="cq-cite"') == 2 and "BM25 only" in answer
    messages, _, _ = client.predict(SUSPEND, 4, "dense", api_name="/chat")
    answer = texts(messages)[-1]
    assert answer.count('<li class="cq-cite"') == 4 and "Embeddings only" in answer


@pytest.mark.slow
def test_chat_says_plainly_when_the_documents_do_not_answer(client) -> None:
    messages, _, _ = client.predict("who won the 2018 football world cup", 5, "hybrid", api_name="/chat")
    answer = texts(messages)[-1]
    assert "The documents do not answer this question." in answer and "cq-cite" not in answer


@pytest.mark.slow
def test_chat_empty_input_changes_nothing(client) -> None:
    skipped = {"__type__": "update"}  # gradio's "leave this output as it is"
    messages, box, status = client.predict("  ", 5, "hybrid", api_name="/chat")
    assert messages == skipped and box == skipped and status == ""  # no "please type" message added


@pytest.mark.slow
def test_chat_refuses_an_over_long_question_and_keeps_it_in_the_box(client, engine) -> None:
    limit = engine.settings.max_query_chars
    long_question = "x " * limit + SUSPEND  # the real question at the end, past the limit
    skipped = {"__type__": "update"}  # gradio's "leave this output as it is"
    messages, box, status = client.predict(long_question, 3, "hybrid", api_name="/chat")
    assert messages == skipped  # not answered, not stored in the conversation
    assert box == skipped  # the text stays in the box as typed: nothing is cut
    assert f"{len(long_question):,} characters long; the limit is {limit:,}" in status
    assert f"shorten it by {len(long_question) - limit:,} characters" in status
    messages, box, status = client.predict("x" * limit, 3, "hybrid", api_name="/chat")
    assert len(messages) == 2 and status == ""  # exactly the limit is accepted


@pytest.mark.slow
def test_chat_echoes_html_in_the_question_as_text(client) -> None:
    messages, _, _ = client.predict(HOSTILE, 3, "hybrid", api_name="/chat")
    question = texts(messages)[0]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in question
    assert "&lt;img src=x onerror=alert(1)&gt;" in question
    for html in texts(messages):
        assert "<script" not in html and "<img" not in html


@pytest.fixture(scope="module")
def hostile_engine(tmp_path_factory):
    """A tiny corpus whose document and title carry HTML, indexed with the real model."""
    from csto_qa.engine import Engine
    from csto_qa.indexing import quiet

    tmp = tmp_path_factory.mktemp("hostile")
    corpus = tmp / "corpus"
    corpus.mkdir()
    (corpus / "evil.txt").write_text(
        "The CSTO summit of November 2022 took place in Yerevan, the capital of Armenia. "
        "<script>alert(1)</script> Leaders discussed the crisis <img src=x onerror=alert(1)> "
        "on the Armenian border.\n\nArmenia then froze its participation in the CSTO in 2024.\n",
        encoding="utf-8",
    )
    (corpus / "manifest.json").write_text(
        json.dumps({"documents": {"evil": {"title": "Evil <b>title</b><script>alert(2)</script>"}}}),
        encoding="utf-8",
    )
    return Engine.open(index_dir=tmp / "index", corpus_dir=corpus, report=quiet, progress=False)


@pytest.mark.slow
def test_html_in_a_document_is_rendered_as_text(hostile_engine) -> None:
    from gradio_client import Client

    app, url = serve(hostile_engine)
    try:
        question = "Where did the CSTO summit of November 2022 take place?"
        messages, _, _ = Client(url, verbose=False).predict(question, 3, "hybrid", api_name="/chat")
    finally:
        app.close()
    answer = texts(messages)[-1]
    assert "Yerevan" in answer
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in answer
    assert "&lt;img src=x onerror=alert(1)&gt;" in answer
    assert "Evil &lt;b&gt;title&lt;/b&gt;&lt;script&gt;alert(2)&lt;/script&gt;" in answer
    assert "<script" not in answer and "<img" not in answer and "<b>" not in answer


# --- serving: concurrency, start-up order, options -------------------------------------------


def fake_engine(ask):
    """Just enough of an engine for the app, with a scripted ``ask``."""
    return SimpleNamespace(
        ask=ask,
        document=lambda doc_id: Document(doc_id, doc_id, ""),
        settings=EngineSettings(),
        stored=SimpleNamespace(documents={}, chunks=[]),
        encoder=SimpleNamespace(name="fake-model"),
    )


def test_a_slow_request_does_not_block_the_others() -> None:
    from gradio_client import Client

    fast_done = threading.Event()

    def ask(question, k=5, mode="hybrid", history=None, abstain=True):
        if question == "slow":  # holds its worker until the fast request has been answered
            waited = fast_done.wait(timeout=60)
            return Answer(question, question, mode, True, [], message=f"released={waited}")
        fast_done.set()
        return Answer(question, question, mode, True, [], message="fast")

    app, url = serve(fake_engine(ask))
    try:
        client = Client(url, verbose=False)
        slow = client.submit("slow", 1, "hybrid", [], api_name="/ask")
        assert client.predict("fast", 1, "hybrid", [], api_name="/ask")["message"] == "fast"
        assert slow.result(timeout=90)["message"] == "released=True"
    finally:
        app.close()


def test_run_loads_the_engine_before_serving(monkeypatch) -> None:
    import csto_qa.cli
    import csto_qa.ui

    calls = []
    engine = fake_engine(lambda *a, **k: None)
    monkeypatch.setattr(csto_qa.ui, "check_port", lambda host, port: calls.append("port"))
    monkeypatch.setattr(csto_qa.cli, "open_live_engine", lambda args: calls.append("open live") or engine)
    monkeypatch.setattr(csto_qa.ui, "build_app", lambda e: calls.append("build") or "app")
    monkeypatch.setattr(csto_qa.ui, "launch", lambda app, host, port, block: calls.append((app, host, port)))
    assert csto_qa.cli.main(["app", "--port", "7999"]) == 0
    assert calls == ["port", "open live", "build", ("app", "127.0.0.1", 7999)]


def test_a_busy_port_is_a_clear_error_before_the_model_loads() -> None:
    from csto_qa.errors import CstoQaError
    from csto_qa.ui import check_port

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(CstoQaError, match=f"127.0.0.1:{port}.*--port"):
            check_port("127.0.0.1", port)
    with pytest.raises(CstoQaError, match="not a port"):
        check_port("127.0.0.1", 70000)


def test_app_options_default_to_loopback_port_7860() -> None:
    from csto_qa.cli import app_parser

    parser = app_parser()
    args = parser.parse_args([])
    assert (args.host, args.port) == ("127.0.0.1", 7860)
    assert {"index_dir", "corpus_dir", "model"} <= set(vars(args))
    assert parser.parse_args(["--host", "0.0.0.0", "--port", "8000"]).port == 8000


def test_importing_the_ui_module_does_not_import_gradio() -> None:
    code = "import sys, csto_qa.ui; sys.exit('gradio' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT).returncode == 0


def test_app_py_help_works() -> None:
    result = subprocess.run([sys.executable, "app.py", "--help"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0 and "--host" in result.stdout and "--port" in result.stdout


# --- rendering functions ------------------------------------------------------------------------

DOC_TEXT = (
    "Intro sentence one. Intro two.\nThe passage starts. The <b>answer</b> is here. Passage ends.\nOutro."
)


def passage(**changes) -> Passage:
    start = DOC_TEXT.index("The passage")
    end = DOC_TEXT.index("\nOutro")
    h_start = DOC_TEXT.index("The <b>")
    h_end = DOC_TEXT.index(" Passage ends")
    fields = dict(
        rank=1, doc="doc-a", title="Doc <A>", section="History & <i>more</i>", start=start, end=end,
        text=DOC_TEXT[start:end], highlight=DOC_TEXT[h_start:h_end], highlight_start=h_start,
        highlight_end=h_end, score=0.75, bm25_score=3.5, bm25_rank=2, dense_score=0.61, dense_rank=1,
        sources=["doc-a", "doc-b"], chunk_id=7, matched_terms=["answer", "<x>"],
        copies=[SourceRef("doc-b", "Doc B", "Sec B", 0, 10)],
    )  # fmt: skip
    fields.update(changes)
    return Passage(**fields)


def answer(**changes) -> Answer:
    fields = dict(question="What is it?", query="What is it?", mode="hybrid", abstained=False,
                  passages=[passage()], confidence=0.8, message="", timings_ms={"total": 12.0})  # fmt: skip
    fields.update(changes)
    return Answer(**fields)


def lookup(doc_id: str) -> Document | None:
    return Document(doc_id, "Doc <A>", DOC_TEXT) if doc_id == "doc-a" else None


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
    from csto_qa.ui_render import licence_url, source_url

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
    from csto_qa.ui_render import render_passage

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
    from csto_qa.ui_render import render_passage

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


def test_the_whole_document_page_marks_passage_sentence_and_escapes() -> None:
    from csto_qa.ui_document import render_document_page

    p = passage()
    spans = {"start": p.start, "end": p.end, "hs": p.highlight_start, "he": p.highlight_end}
    html = render_document_page(lookup("doc-a"), spans, css="")
    assert (
        '<span id="cq-passage" class="cq-in" tabindex="-1">The passage starts. <mark class="cq-hl">' in html
    )
    assert "Intro sentence one." in html and "Outro." in html and "<b>" not in html
    broken = render_document_page(lookup("doc-a"), {"start": 90, "end": 10_000}, css="")
    assert "cq-passage" not in broken and "Outro." in broken  # bad offsets: the document, unmarked

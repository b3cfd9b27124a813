"""The chat app served: its API and chat endpoints through gradio_client.

Each test starts the real app on a free loopback port and talks to it over HTTP, as a
user's script would. The pure rendering functions are tested in tests/app/test_render.py.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest
from fakes import free_port, scripted_engine

from csto_qa.records import Answer

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
# Gradio's queue analytics use a pandas option that pandas 3 deprecates: not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore::Warning:gradio.queueing")
ROOT = Path(__file__).resolve().parents[2]
SUSPEND = "When did Uzbekistan suspend its CSTO membership?"
HOSTILE = "<script>alert(1)</script> <img src=x onerror=alert(1)> **bold** what is the CSTO?"


def serve(engine):
    """Launch the app of ``engine`` on a free loopback port; returns (app, url)."""
    from csto_qa.app.ui import build_app, launch

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
    from csto_qa.index.build import quiet

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


# --- serving: concurrency -----------------------------------------------------------------------


def test_a_slow_request_does_not_block_the_others() -> None:
    from gradio_client import Client

    fast_done = threading.Event()

    def ask(question, k=5, mode="hybrid", history=None, abstain=True):
        if question == "slow":  # holds its worker until the fast request has been answered
            waited = fast_done.wait(timeout=60)
            return Answer(question, question, mode, True, [], message=f"released={waited}")
        fast_done.set()
        return Answer(question, question, mode, True, [], message="fast")

    app, url = serve(scripted_engine(ask))
    try:
        client = Client(url, verbose=False)
        slow = client.submit("slow", 1, "hybrid", [], api_name="/ask")
        assert client.predict("fast", 1, "hybrid", [], api_name="/ask")["message"] == "fast"
        assert slow.result(timeout=90)["message"] == "released=True"
    finally:
        app.close()


def test_ask_on_its_own_re_asks_without_the_conversation_and_keeps_it() -> None:
    from gradio_client import Client

    seen: list[list[str]] = []

    def ask(question, k=5, mode="hybrid", history=None, abstain=True):
        seen.append(list(history or []))
        query = f"{question} Uzbekistan" if history else question  # a rewrite, as followup.py does
        return Answer(question, query, mode, True, [], message="fake")

    app, url = serve(scripted_engine(ask))
    try:
        client = Client(url, verbose=False)
        seen.clear()  # build_app's warm-up question
        client.predict("When did Uzbekistan join?", 3, "hybrid", api_name="/chat")
        messages, _, _ = client.predict("and when did it leave?", 3, "hybrid", api_name="/chat")
        follow_up = texts(messages)[-1]
        assert "Searched for: <q>and when did it leave? Uzbekistan</q>" in follow_up
        assert 'class="cq-tool cq-alone" role="button"' in follow_up and "Ask on its own" in follow_up
        messages, box, _ = client.predict("and when did it leave?", 3, "hybrid", api_name="/chat_alone")
        assert len(messages) == 6 and box == ""  # a new turn of the same conversation
        alone = texts(messages)[-1]
        assert "Searched for" not in alone and "cq-alone" not in alone
        client.predict("and when did it return?", 3, "hybrid", api_name="/chat")  # the conversation is kept
        assert seen == [
            [],
            ["When did Uzbekistan join?"],
            [],
            ["When did Uzbekistan join?", "and when did it leave?", "and when did it leave?"],
        ]
    finally:
        app.close()

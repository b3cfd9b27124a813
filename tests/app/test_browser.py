"""The chat app in a real browser: headless Chromium (Debian's package) driven by Playwright.

Skipped only on a machine without /usr/bin/chromium; in CI (CI=true) a missing browser
is a failure, so the test cannot silently stop running there.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from fakes import free_port

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore::Warning:gradio.queueing"),  # Gradio's analytics vs pandas 3
]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
TIMEOUT_MS = 90_000  # generous: the machine may be busy; this is a safety net, not a speed check


def require_chromium() -> None:
    if CHROMIUM.exists():
        return
    reason = f"headless Chromium not found at {CHROMIUM} (Debian: apt-get install chromium)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; browser tests must run in CI")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def app_url(engine):
    require_chromium()
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    from csto_qa.app.ui import build_app, launch

    app = build_app(engine)
    url = launch(app, "127.0.0.1", free_port(), block=False)
    yield url
    app.close()


@pytest.fixture(scope="module")
def browser(app_url):
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=30_000)  # the machine may be busy: a safety net, not a speed check

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def open_page(browser, app_url: str, width: int = 1366, height: int = 900, scheme: str = "light", **options):
    context = browser.new_context(viewport={"width": width, "height": height}, color_scheme=scheme, **options)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(f"{app_url}?__theme={scheme}", wait_until="load")
    page.locator("#cq-input textarea").wait_for(state="visible")
    page.dialogs = dialogs  # script injected through a question would open one
    return page


@pytest.fixture()
def page(browser, app_url):
    page = open_page(browser, app_url, permissions=["clipboard-read", "clipboard-write"])
    yield page
    page.context.close()


def ask(page, question: str):
    """Type a question, press Enter, and wait for the new answer; returns its locator."""
    answers = page.locator("#cq-chat .bot-row")
    before = answers.count()
    box = page.locator("#cq-input textarea")
    box.fill(question)
    box.press("Enter")
    page.wait_for_function(
        f"document.querySelectorAll('#cq-chat .bot-row').length > {before}", timeout=TIMEOUT_MS
    )
    return answers.nth(before)


def serious_violations(page) -> list:
    """axe-core's serious and critical findings on the page as it is now: (rule, impact, nodes)."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"][:3]])
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def in_view(page, locator) -> bool:
    box = locator.bounding_box()
    view = page.viewport_size
    return box is not None and box["y"] >= -1 and box["y"] + min(box["height"], 60) <= view["height"] + 1


def test_ask_inspect_follow_up_and_switch_mode(page, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    answer = ask(page, "When did Uzbekistan suspend its CSTO membership?")
    expect(answer.locator(".cq-lead")).to_contain_text("28 June 2012")
    first = answer.locator("li.cq-cite").first
    expect(first.locator(".cq-passage mark.cq-hl")).to_contain_text("28 June 2012")
    expect(first.locator(".cq-head .cq-title")).to_be_visible()

    # Open the passage in its document: the surrounding text becomes visible.
    context = first.locator("details.cq-ctx .cq-doc")
    expect(context).to_be_hidden()
    first.locator("details.cq-ctx summary").click()
    expect(context).to_be_visible()
    expect(context).to_contain_text("Since 21 December 2011")  # the passage, marked in place
    expect(context.locator(".cq-in mark")).to_contain_text("28 June 2012")
    assert len(context.inner_text()) > len(first.locator(".cq-passage").inner_text())

    # The score breakdown is there on demand.
    first.locator("details.cq-why summary").click()
    expect(first.locator("table.cq-scores")).to_be_visible()
    expect(first.locator(".cq-term").first).to_be_visible()

    # A follow-up is understood from the conversation.
    follow = ask(page, "and when did it join?")
    expect(follow.locator(".cq-searched")).to_contain_text("Uzbekistan")
    expect(follow.locator("li.cq-cite").first).to_be_visible()

    # Switching the retrieval mode and k changes the next answer.
    page.get_by_label("BM25 only").check()
    k_box = page.locator("#cq-k input[type=number]")
    k_box.fill("2")
    k_box.press("Enter")
    bm25 = ask(page, "Who is the Secretary General of the CSTO?")
    expect(bm25.locator(".cq-meta")).to_contain_text("BM25 only")
    expect(bm25.locator("li.cq-cite")).to_have_count(2)

    # HTML typed as a question is shown as text and never runs.
    hostile = "<img src=x onerror=alert(1)> <script>alert(2)</script> CSTO members?"
    ask(page, hostile)
    expect(page.locator("#cq-chat .cq-question").last).to_have_text(hostile)
    assert page.dialogs == []

    page.screenshot(path=str(tmp_path / "chat.png"), full_page=True)
    assert (tmp_path / "chat.png").stat().st_size > 10_000


def test_citation_jumps_to_its_card_which_names_source_licence_and_opens_the_document(page) -> None:
    from playwright.sync_api import expect

    answer = ask(page, "Which countries are members of the CSTO?")
    ask(page, "When did Uzbekistan suspend its CSTO membership?")  # the first answer scrolls away
    card = answer.locator("li.cq-cite").first
    answer.locator(".cq-lead a.cq-ref").click()
    expect(card).to_have_class(re.compile("cq-flash"))  # briefly highlighted...
    page.wait_for_function(  # ...and scrolled into view (what is on screen at its corner is the card)
        """(card) => { const r = card.getBoundingClientRect();
            const hit = document.elementFromPoint(r.left + 12, Math.max(r.top, 0) + 12);
            return r.top >= 0 && r.top < innerHeight - 40 && hit !== null && card.contains(hit); }""",
        arg=card.element_handle(),
    )
    source = card.locator(".cq-source")
    expect(source).to_contain_text("Source:")
    expect(source).to_contain_text("Licence:")
    links = [source.locator("a").nth(i).get_attribute("href") for i in range(source.locator("a").count())]
    assert any(link.startswith("https://") for link in links)  # the original, and its licence deed
    # The whole document opens at the passage, the passage and its sentence marked.
    with page.context.expect_page() as opened:
        card.locator("a.cq-whole").click()
    doc = opened.value
    doc.wait_for_load_state()
    passage = doc.locator("#cq-passage")
    expect(passage).to_be_visible()
    expect(passage.locator("mark.cq-hl")).to_have_count(1)
    doc.wait_for_function(
        "() => { const r = document.querySelector('#cq-passage').getBoundingClientRect();"
        " return r.top >= 0 && r.top < innerHeight; }"
    )
    assert len(doc.locator(".cq-fulltext").inner_text()) > 5 * len(passage.inner_text())
    doc.close()


def tab_to(page, selector: str, limit: int = 80) -> None:
    """Press Tab until the focused element matches ``selector`` (fails after ``limit`` presses)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"document.activeElement && document.activeElement.matches({selector!r})"):
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_keyboard_only_from_the_question_to_the_whole_document(page) -> None:
    from playwright.sync_api import expect

    box = page.locator("#cq-input textarea")
    box.focus()
    page.keyboard.type("When did Uzbekistan suspend its CSTO membership?")
    page.keyboard.press("Enter")
    answer = page.locator("#cq-chat .bot-row").first
    expect(answer.locator(".cq-lead")).to_be_visible()
    page.locator("#cq-header h1").click()  # start from the top of the page
    tab_to(page, "#cq-chat a.cq-ref")
    page.keyboard.press("Enter")
    expect(answer.locator("li.cq-cite").first).to_have_class(re.compile("cq-flash"))
    tab_to(page, "#cq-chat a.cq-whole")
    with page.context.expect_page() as opened:
        page.keyboard.press("Enter")
    doc = opened.value
    doc.wait_for_load_state()
    expect(doc.locator("#cq-passage mark.cq-hl")).to_contain_text("28 June 2012")
    doc.close()


def test_the_question_and_searching_show_before_the_server_answers(page) -> None:
    from playwright.sync_api import expect

    held = []  # hold the request that sends the question, to see the page before any answer
    page.route("**/gradio_api/queue/join*", lambda route: held.append(route))
    question = "When did Uzbekistan suspend its CSTO membership?"
    box = page.locator("#cq-input textarea")
    box.fill(question)
    box.press("Enter")
    pending = page.locator("#cq-pending")
    expect(pending).to_be_visible()
    expect(pending).to_contain_text(f"Searching the documents for: {question}")
    expect(page.locator("#cq-chat .bot-row")).to_have_count(0)
    for route in held:
        route.continue_()
    page.unroute("**/gradio_api/queue/join*")
    expect(page.locator("#cq-chat .bot-row .cq-lead")).to_be_visible()
    expect(pending).to_be_hidden()  # cleared once the answer is there


def test_copy_and_ask_again_with_other_settings(page) -> None:
    from playwright.sync_api import expect

    question = "When did Uzbekistan suspend its CSTO membership?"
    answer = ask(page, question)
    answer.locator("a.cq-copy").click()
    expect(answer.locator("a.cq-copy")).to_have_text("Copied")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert "28 June 2012" in copied.splitlines()[0] and "[1]" in copied
    assert "\n[2] " in copied and "<" not in copied  # plain text with every citation, no HTML

    page.get_by_label("Embeddings only").check()
    rows = page.locator("#cq-chat .bot-row")
    answer.locator("a.cq-rerun").click()
    expect(rows).to_have_count(2)
    expect(rows.nth(1).locator(".cq-meta")).to_contain_text("Embeddings only")
    expect(page.locator("#cq-chat .cq-question").last).to_have_text(question)


def test_a_rewritten_follow_up_can_be_asked_on_its_own(page) -> None:
    from playwright.sync_api import expect

    ask(page, "Who is the current Secretary General of the CSTO?")
    follow_up = "when did he take office?"
    rewritten = ask(page, follow_up)
    expect(rewritten.locator(".cq-searched")).to_contain_text("Searched for")
    assert serious_violations(page) == []  # the new link too (contrast, name)
    alone = rewritten.get_by_role("button", name="Ask on its own")
    alone.focus()  # keyboard reachable, with a visible focus ring
    assert alone.evaluate("(el) => getComputedStyle(el).outlineStyle") != "none"
    rows = page.locator("#cq-chat .bot-row")
    alone.press("Enter")
    expect(rows).to_have_count(3)  # a new turn; the conversation stays on screen
    expect(page.locator("#cq-chat .cq-question")).to_have_count(3)
    expect(page.locator("#cq-chat .cq-question").last).to_have_text(follow_up)
    reply = rows.nth(2).locator(".cq-answer")
    expect(reply).to_be_visible()
    expect(reply.locator(".cq-searched")).to_have_count(0)  # the query is the question itself
    expect(rows.nth(1).locator(".cq-searched")).to_contain_text("Searched for")


def test_long_question_is_refused_with_a_count_and_empty_enter_does_nothing(page, engine) -> None:
    from playwright.sync_api import expect

    limit = engine.settings.max_query_chars
    box = page.locator("#cq-input textarea")
    box.press("Enter")  # empty: nothing happens
    box.fill("   ")
    box.press("Enter")
    counter = page.locator("#cq-count .cq-count")
    expect(counter).to_be_hidden()  # far from the limit: no count
    box.fill("y" * int(limit * 0.9))
    expect(counter).to_have_text(f"{int(limit * 0.9):,} / {limit:,} characters")
    long_question = "pasted text " * (limit // 12) + " When did Uzbekistan suspend its CSTO membership?"
    box.fill(long_question)
    expect(counter).to_contain_text("too many")
    box.press("Enter")
    expect(page.locator("#cq-status .cq-notice")).to_contain_text(
        f"{len(long_question):,} characters long; the limit is {limit:,}"
    )
    assert box.input_value() == long_question  # never cut
    # A real question then: the conversation holds only it and its answer.
    ask(page, "When did Uzbekistan suspend its CSTO membership?")
    expect(page.locator("#cq-chat .message-row")).to_have_count(2)
    expect(page.locator("#cq-status .cq-notice")).to_have_count(0)


def test_examples_stay_reachable_and_new_conversation_clears(page) -> None:
    from playwright.sync_api import expect

    examples = page.locator("#cq-examples button")
    examples.nth(1).click()
    answer = page.locator("#cq-chat .bot-row").first
    expect(answer.locator(".cq-lead")).to_be_visible(timeout=TIMEOUT_MS)
    expect(examples.nth(2)).to_be_visible()  # still there once the conversation started
    page.locator("#cq-clear").click()
    expect(page.locator("#cq-chat .bot-row")).to_have_count(0)
    # The API page: typed, described parameters, no MCP tab (no MCP server runs).
    page.get_by_text("Use via API").click()
    docs = page.locator(".api-docs")
    # The description alone, without Gradio's "The input value that is provided in..." before it.
    expect(docs.get_by_text(re.compile(r"^\s*Number of passages to return, 1 to 50\.\s*$"))).to_be_visible()
    expect(docs.get_by_role("button", name="MCP", exact=True)).to_be_hidden()


def test_conversations_survive_a_reload_switch_and_clear_and_feedback_is_saved(page, index_dir) -> None:
    import json

    from playwright.sync_api import expect

    from csto_qa.app.session import feedback_path

    saved = page.locator("#cq-saved input")
    ask(page, "When did Uzbekistan suspend its CSTO membership?")
    expect(saved).to_have_value("When did Uzbekistan suspend its CSTO membership?")  # saved
    page.locator("#cq-clear").click()
    expect(page.locator("#cq-chat .bot-row")).to_have_count(0)
    ask(page, "Which countries are members of the CSTO?")
    expect(saved).to_have_value("Which countries are members of the CSTO?")  # saved after the answer
    page.reload(wait_until="load")
    # After the reload the latest conversation is back, and both are in the list.
    expect(page.locator("#cq-chat .cq-question")).to_have_text(["Which countries are members of the CSTO?"])
    page.locator("#cq-saved input").click()
    options = page.get_by_role("option")
    expect(options).to_have_count(2)
    page.get_by_role("option", name="When did Uzbekistan suspend its CSTO membership?").click()
    expect(page.locator("#cq-chat .cq-question")).to_have_text(
        ["When did Uzbekistan suspend its CSTO membership?"]
    )
    # A follow-up in the restored conversation still knows what "it" is.
    follow = ask(page, "and when did it join?")
    expect(follow.locator(".cq-searched")).to_contain_text("Uzbekistan")

    # Dislike the first answer: one line in the feedback file beside the index.
    path = feedback_path(index_dir)
    before = path.read_text(encoding="utf-8").count("\n") if path.exists() else 0
    page.locator("#cq-chat .bot-row").first.get_by_label("Dislike").click()
    page.wait_for_function("() => true", timeout=1000)  # the like event needs no answer; poll the file below
    for _ in range(100):
        lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
        if len(lines) > before:
            break
        page.wait_for_timeout(100)
    record = json.loads(lines[-1])
    assert record["rating"] == "dislike" and record["question"].startswith("When did Uzbekistan")
    assert record["passages"] and "2012" in record["lead"]

    page.locator("#cq-forget").click()
    expect(page.locator("#cq-chat .bot-row")).to_have_count(0)
    page.reload(wait_until="load")
    page.locator("#cq-input textarea").wait_for(state="visible")
    expect(page.locator("#cq-chat .bot-row")).to_have_count(0)  # nothing comes back


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_no_serious_accessibility_violations_and_a_visible_focus_ring(browser, app_url, scheme) -> None:
    page = open_page(browser, app_url, scheme=scheme)
    try:
        assert page.evaluate("document.body.classList.contains('dark')") == (scheme == "dark")
        answer = ask(page, "When did Uzbekistan suspend its CSTO membership?")
        answer.locator("details.cq-ctx summary").first.click()
        answer.locator("details.cq-why summary").first.click()
        assert serious_violations(page) == []
        # The focus ring: the input looks different when focused (keyboard users see where they are).
        box = page.locator("#cq-input textarea")
        page.locator("#cq-header").click()
        ring = "(el) => getComputedStyle(el).outlineStyle + getComputedStyle(el).boxShadow"
        unfocused = box.evaluate(ring)
        box.focus()
        assert box.evaluate(ring) != unfocused
        # Keyboard only, from the question to a citation: Tab reaches the [1] link.
        link = answer.locator("a.cq-ref")
        link.focus()
        assert link.evaluate("(el) => getComputedStyle(el).outlineStyle") != "none"
    finally:
        page.context.close()


def test_phone_layout_one_scroll_full_width_passages(browser, app_url) -> None:
    from playwright.sync_api import expect

    width, height = 390, 844
    page = open_page(browser, app_url, width, height, is_mobile=True, has_touch=True)
    try:
        box = page.locator("#cq-input textarea")
        first = box.bounding_box()
        assert first["y"] + first["height"] <= height  # the input is on the first screen
        settings = page.locator("#cq-settings")
        expect(settings.locator("#cq-k")).to_be_hidden()  # settings folded...
        assert settings.bounding_box()["y"] < page.locator("#cq-chat").bounding_box()["y"]  # ...above
        answer = ask(page, "When did Uzbekistan suspend its CSTO membership?")
        card = answer.locator("li.cq-cite").first
        expect(card).to_be_visible()
        assert card.bounding_box()["width"] >= 0.8 * width  # passages use the phone's width (was 220 px)
        assert page.evaluate("document.documentElement.scrollWidth") <= width  # no sideways scroll
        scrollers = page.evaluate(
            """() => [...document.querySelectorAll('#cq-chat *')].filter(el => {
                 const s = getComputedStyle(el).overflowY;
                 return (s === 'auto' || s === 'scroll') && el.scrollHeight > el.clientHeight + 1
                   && !el.classList.contains('cq-question'); }).length"""
        )
        assert scrollers == 0  # one scroll: the page's, no second scroll inside the chat
        assert page.evaluate("document.documentElement.scrollHeight") > height
    finally:
        page.context.close()

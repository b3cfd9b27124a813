"""The chat app in a real browser: headless Chromium (Debian's package) driven by Playwright.

Skipped only on a machine without /usr/bin/chromium; in CI (CI=true) a missing browser
is a failure, so the test cannot silently stop running there.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def app_url(engine):
    require_chromium()
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    from csto_qa.ui import build_app, launch

    app = build_app(engine)
    url = launch(app, "127.0.0.1", free_port(), block=False)
    yield url
    app.close()


@pytest.fixture()
def page(app_url):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.set_default_timeout(TIMEOUT_MS)
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(app_url, wait_until="load")
        page.locator("#cq-input textarea").wait_for(state="visible")
        page.dialogs = dialogs  # script injected through a question would open one
        yield page
        browser.close()


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


def test_example_question_and_new_conversation(page) -> None:
    from playwright.sync_api import expect

    page.get_by_text("Which countries are members of the CSTO?").click()
    answer = page.locator("#cq-chat .bot-row").first
    expect(answer.locator(".cq-lead")).to_be_visible(timeout=TIMEOUT_MS)
    page.locator("#cq-clear").click()
    expect(page.locator("#cq-chat .bot-row")).to_have_count(0)
    expect(page.get_by_text("Which countries are members of the CSTO?")).to_be_visible()

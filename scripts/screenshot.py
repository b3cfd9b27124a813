"""Regenerate the README screenshots: a real answer of the chat app in headless Chromium.

    .venv/bin/python scripts/screenshot.py                   # starts the app itself (loads the engine)
    .venv/bin/python scripts/screenshot.py --url http://127.0.0.1:7860   # or uses a running app

Writes docs/screenshot.png (desktop, 1366×900) and docs/screenshot-phone.png (390×844).
Needs Chromium (Debian: apt-get install chromium) and the ``playwright`` package; no
browser download is needed.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CSTO_QA_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
QUESTION = "When did Uzbekistan suspend its CSTO membership?"
VIEWS = {"screenshot.png": (1366, 900, False), "screenshot-phone.png": (390, 844, True)}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def capture(url: str, out: Path, question: str, width: int, height: int, phone: bool) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(
            viewport={"width": width, "height": height},
            device_scale_factor=1,
            is_mobile=phone,
            has_touch=phone,
        )
        page.goto(url, wait_until="load")
        box = page.locator("#cq-input textarea")
        box.fill(question)
        box.press("Enter")
        answer = page.locator("#cq-chat .cq-answer").last
        answer.wait_for(state="visible", timeout=60_000)
        why = answer.locator("details.cq-why summary").first
        if not phone and why.is_visible():
            # Open the score breakdown of the first citation, as a reader checking it would
            # (a declined reply folds its passages: nothing to open).
            why.click()
        page.evaluate("document.fonts.ready")
        page.wait_for_timeout(900)  # let the smooth scroll to the new answer finish
        out.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(out), full_page=False)
        browser.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running app (default: start one on a free loopback port)")
    parser.add_argument("--out-dir", type=Path, default=ROOT / "docs")
    parser.add_argument("--question", default=QUESTION)
    parser.add_argument("--index-dir", type=Path, help="index to serve (default: the engine's)")
    args = parser.parse_args(argv)
    if not Path(CHROMIUM).exists():
        print(
            f"screenshot: no Chromium at {CHROMIUM}; install it (apt-get install chromium)", file=sys.stderr
        )
        return 2
    app = None
    url = args.url
    if url is None:
        os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
        from csto_qa.app.ui import build_app, launch
        from csto_qa.engine import Engine

        print("screenshot: loading the engine…", file=sys.stderr, flush=True)
        engine = Engine.open(index_dir=args.index_dir) if args.index_dir else Engine.open()
        app = build_app(engine)
        url = launch(app, "127.0.0.1", free_port(), block=False)
    try:
        for name, (width, height, phone) in VIEWS.items():
            capture(url, args.out_dir / name, args.question, width, height, phone)
            print(f"screenshot: wrote {args.out_dir / name}")
    finally:
        if app is not None:
            app.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

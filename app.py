"""Start the csto-qa chat app: ``python app.py`` (same as ``csto-qa app``), then open http://127.0.0.1:7860."""

from __future__ import annotations

import sys

from csto_qa.cli import app_parser, main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], parser=app_parser()))

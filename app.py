"""Start the csto-qa chat app: ``python app.py`` (same as ``csto-qa app``), then open http://127.0.0.1:7860."""

from __future__ import annotations

import argparse
import sys

from csto_qa.errors import CstoQaError
from csto_qa.ui import add_arguments, run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="app.py", description="Chat with the CSTO documents in the browser."
    )
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return run(args)
    except CstoQaError as exc:
        print(f"csto-qa: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())

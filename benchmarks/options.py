"""Command-line pieces every benchmark shares: engine and question options, their checks, main()."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from csto_qa.config import MODES, EngineSettings, Mode
from csto_qa.errors import CstoQaError


def add_engine_options(parser: argparse.ArgumentParser) -> None:
    """Where the index, corpus and model are (as ``csto-qa`` takes them)."""
    parser.add_argument("--index-dir", help="index folder (default: index/ beside corpus/)")
    parser.add_argument("--corpus-dir", help="corpus folder (default: ./corpus)")
    parser.add_argument("--model", help="embedding model (default: the bundled all-MiniLM-L6-v2)")


def add_query_options(parser: argparse.ArgumentParser) -> None:
    """Which questions are timed, how often, and where the JSON goes."""
    parser.add_argument("--out", default="bench-out", help="folder for the JSON results (default: bench-out)")
    parser.add_argument("--repeat", type=int, default=3, help="timed passes over the questions (default: 3)")
    parser.add_argument("--k", type=int, default=5, help="passages per answer (default: 5)")
    parser.add_argument("--mode", choices=MODES, default=Mode.HYBRID.value)
    parser.add_argument("--questions", help="JSONL question file (default: the evaluation set)")
    parser.add_argument("--limit", type=int, help="use only the first N questions (quick runs)")


def check_query_options(args: argparse.Namespace) -> None:
    """Bad counts fail with the option's name, before the model loads."""
    max_k = EngineSettings().max_k
    if not 1 <= args.k <= max_k:
        raise CstoQaError(f"--k {args.k} must be a whole number from 1 to {max_k}")
    if args.repeat < 1:
        raise CstoQaError(f"--repeat {args.repeat} must be at least 1")
    if args.limit is not None and args.limit < 1:
        raise CstoQaError(f"--limit {args.limit} must be at least 1")


def engine_args(args: argparse.Namespace, index_dir: str | None = None) -> list[str]:
    """The engine options of ``args`` for a ``csto-qa`` child process (``index_dir`` overrides)."""
    extra: list[str] = []
    for flag, value in (
        ("--index-dir", index_dir or args.index_dir),
        ("--corpus-dir", args.corpus_dir),
        ("--model", args.model),
    ):
        extra += [flag, str(value)] if value else []
    return extra


def run_main(
    name: str,
    parser: argparse.ArgumentParser,
    run: Callable[[argparse.Namespace], int],
    argv: list[str] | None,
) -> int:
    """Parse, run, and turn a CstoQaError into one line on stderr and exit code 2."""
    args = parser.parse_args(argv)
    try:
        return run(args)
    except CstoQaError as exc:
        print(f"{name}: error: {exc}", file=sys.stderr)
        return 2

"""Command line: ``csto-qa ask | index | eval | bench | app``.

A thin layer over the engine: handlers and heavy libraries are imported only when a
command runs, so ``csto-qa --help`` answers at once. User mistakes end with one line on
stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import textwrap
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from csto_qa.records import Answer

# Subcommands implemented in their own modules: (module, help). Each module provides
# ``add_arguments(parser)`` and ``run(args) -> int`` and keeps its heavy imports inside.
EXTERNAL = {
    "eval": ("csto_qa.evaluation", "measure retrieval on the evaluation set (table, report, plot)"),
    "bench": ("csto_qa.bench", "time every stage, start-up and scale"),
    "app": ("csto_qa.ui", "start the chat app in the browser (same as python app.py)"),
}


def add_engine_arguments(parser: argparse.ArgumentParser) -> None:
    """Options every engine-backed command shares."""
    parser.add_argument(
        "--index-dir",
        help="index folder (default: $CSTO_QA_INDEX, else index/ beside the corpus folder); "
        "only a folder csto-qa built, or an empty one, is ever replaced",
    )
    parser.add_argument("--corpus-dir", help="corpus folder (default: $CSTO_QA_CORPUS, else ./corpus)")
    parser.add_argument(
        "--model",
        help="sentence-transformers model name or local path "
        "(default: $CSTO_QA_MODEL or the bundled all-MiniLM-L6-v2)",
    )


def build_parser() -> argparse.ArgumentParser:
    from csto_qa import __version__

    parser = argparse.ArgumentParser(
        prog="csto-qa",
        description="Answer questions about the CSTO with cited passages from the corpus.",
    )
    parser.add_argument("--version", action="version", version=f"csto-qa {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    ask = sub.add_parser("ask", help="answer a question with cited passages")
    ask.add_argument("question", nargs="?", help="the question; omit to read one per line from stdin")
    ask.add_argument("--k", type=int, default=5, help="number of passages (default: 5)")
    ask.add_argument("--mode", choices=("hybrid", "bm25", "dense"), default="hybrid")
    ask.add_argument("--json", action="store_true", help="print one JSON object per question")
    ask.add_argument("--no-abstain", action="store_true", help="always list passages, even on weak evidence")
    add_engine_arguments(ask)

    index = sub.add_parser("index", help="build the index from corpus/ (only if stale)")
    index.add_argument("--rebuild", action="store_true", help="rebuild even if up to date")
    add_engine_arguments(index)

    for name, (module, help_text) in EXTERNAL.items():
        command = sub.add_parser(name, help=help_text)
        try:
            importlib.import_module(module).add_arguments(command)
        except ImportError:
            command.set_defaults(unavailable=module)
    return parser


def open_engine(args: argparse.Namespace):  # -> Engine, kept lazy for --help speed
    from csto_qa.engine import Engine

    return Engine.open(index_dir=args.index_dir, corpus_dir=args.corpus_dir, model=args.model)


def format_answer(answer: Answer, width: int = 100) -> str:
    """A readable rendering of an answer for the terminal (control characters removed)."""
    from csto_qa.tokenizing import clean_query as plain

    lines = [f"Q: {plain(answer.question)}"]
    if answer.query and answer.query != answer.question:
        lines.append(f"   (searched for: {plain(answer.query)})")
    if answer.abstained:
        lines.append(f"   {plain(answer.message)}")
        return "\n".join(lines)
    if answer.message:
        lines.append(f"   note: {plain(answer.message)}")
    wrap = textwrap.TextWrapper(width=width, initial_indent="    ", subsequent_indent="    ")
    for p in answer.passages:
        where = plain(p.title) + (f" — {plain(p.section)}" if p.section else "")
        where += f", {p.page_label}" if p.page_label else ""
        lines.append(f"\n[{p.rank}] {where}  (chars {p.start}–{p.end})")
        highlight, rest = plain(p.highlight), plain(p.text)
        lines.append(wrap.fill("» " + highlight))
        if rest != highlight:
            lines.append(wrap.fill(rest))
        if len(p.sources) > 1:
            lines.append(f"    also in: {', '.join(plain(s) for s in p.sources[1:])}")
        dense = f"{p.dense_score:.3f}" if p.dense_score is not None else "–"
        bm25 = f"{p.bm25_score:.2f}" if p.bm25_score is not None else "–"
        lines.append(
            f"    score {p.score:.3f} · BM25 {bm25} (#{p.bm25_rank or '–'}) · "
            f"cosine {dense} (#{p.dense_rank or '–'})"
        )
    return "\n".join(lines)


def run_ask(args: argparse.Namespace) -> int:
    from csto_qa.config import check_request
    from csto_qa.live import LiveEngine

    check_request(args.k, args.mode, 50)
    # A one-shot command: a long rebuild is left to ``csto-qa index``, with a note (live.py).
    engine = LiveEngine.open(index_dir=args.index_dir, corpus_dir=args.corpus_dir, model=args.model)
    if engine.notice:
        print(f"csto-qa: note: {engine.notice}", file=sys.stderr, flush=True)
    if args.question is None and hasattr(sys.stdin, "reconfigure"):
        sys.stdin.reconfigure(errors="replace")  # one stray non-UTF-8 byte must not end the run
    questions = [args.question] if args.question is not None else (line.rstrip("\n") for line in sys.stdin)
    for question in questions:
        if args.question is None and not question.strip():
            continue
        answer = engine.ask(question, k=args.k, mode=args.mode, abstain=not args.no_abstain)
        if args.json:
            print(json.dumps(answer.to_dict(), ensure_ascii=False), flush=True)
        else:
            print(format_answer(answer) + "\n", flush=True)
    return 0


def run_index(args: argparse.Namespace) -> int:
    from pathlib import Path

    from csto_qa.config import default_corpus_dir, default_index_dir
    from csto_qa.embedding import load_encoder
    from csto_qa.indexing import build

    corpus_dir = Path(args.corpus_dir) if args.corpus_dir else default_corpus_dir()
    index_dir = Path(args.index_dir) if args.index_dir else default_index_dir(corpus_dir)
    encoder = load_encoder(args.model)
    manifest = build(corpus_dir, index_dir, encoder, only_if_stale=not args.rebuild)
    counts = manifest["counts"]
    print(
        f"index '{index_dir}': {counts['documents']} documents, {counts['chunks']} passages, "
        f"model {manifest['model']['name']}"
    )
    for line in account_lines(manifest):
        print(line)
    return 0


def account_lines(manifest: dict) -> list[str]:
    """Per document: characters, how many were indexed, and what was left out and why."""
    from csto_qa.tokenizing import clean_query as plain

    corpus = manifest.get("corpus") if isinstance(manifest.get("corpus"), dict) else {}
    accounts = [a for a in corpus.get("accounts", []) if isinstance(a, dict)]
    if not accounts:
        return []
    width = max(len(plain(str(a.get("doc_id", "")))) for a in accounts)
    lines = [f"  {'document':<{width}}  {'characters':>10}  {'indexed':>10}  left out (why)"]
    for a in accounts:
        left = a.get("left_out") if isinstance(a.get("left_out"), dict) else {}
        why = ", ".join(f"{n:,} {reason}" for reason, n in sorted(left.items(), key=lambda kv: -kv[1]))
        lines.append(
            f"  {plain(str(a.get('doc_id', ''))):<{width}}  {a.get('characters', 0):>10,}  "
            f"{a.get('indexed', 0):>10,}  {why or '-'}"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    from csto_qa.errors import CstoQaError

    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "unavailable", None):
        print(f"csto-qa: error: the '{args.command}' command is not available in this build", file=sys.stderr)
        return 2
    handlers = {"ask": run_ask, "index": run_index}
    try:
        if args.command in handlers:
            return handlers[args.command](args)
        return int(importlib.import_module(EXTERNAL[args.command][0]).run(args) or 0)
    except CstoQaError as exc:
        print(f"csto-qa: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("csto-qa: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())

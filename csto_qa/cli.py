"""Command line: ``csto-qa ask | index | eval | app``; every option of the product is parsed here.

A thin layer over plain functions: ``ask`` and ``index`` over the engine and the build,
``eval`` over :func:`csto_qa.evaluation.evaluate.run`, ``app`` over :func:`csto_qa.app.ui.run`. Handlers
and heavy libraries are imported only when a command runs, so ``csto-qa --help`` answers at
once. User mistakes end with one line on stderr and a non-zero exit, never a traceback.
The benchmarks are tooling, not a command: ``python -m benchmarks.bench`` (see the README).
"""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from csto_qa.config import FUSIONS, MODES, EngineSettings

if TYPE_CHECKING:
    from csto_qa.engine import Engine
    from csto_qa.ingest.chunking import ChunkAccount
    from csto_qa.live import LiveEngine
    from csto_qa.records import Answer


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


def add_eval_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``csto-qa eval``."""
    from csto_qa.evaluation.evaluate import (
        DEFAULT_OUT,  # a light module: its heavy imports are inside functions
    )

    parser.add_argument(
        "--questions", help="JSONL questions file (default: corpus/eval/questions.jsonl; see its README)"
    )
    parser.add_argument(
        "--modes", default=",".join(MODES), help=f"comma-separated modes (default: {','.join(MODES)})"
    )
    parser.add_argument("--k", type=int, default=10, help="passages per question (default: 10)")
    parser.add_argument("--out", default=DEFAULT_OUT, help=f"folder for the report (default: {DEFAULT_OUT}/)")
    parser.add_argument("--fusion", choices=FUSIONS, help="override the fusion method")
    parser.add_argument("--alpha", type=float, help="override the dense weight of convex fusion")
    parser.add_argument("--rrf-k", type=int, help="override the RRF constant")
    parser.add_argument("--abstain-threshold", type=float, help="override the abstention threshold")
    parser.add_argument(
        "--set",
        action="append",
        metavar="NAME=VALUE",
        help="override any engine setting, e.g. --set weak_threshold=0.45 (repeatable)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_engine_arguments(parser)


def add_app_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``csto-qa app`` and ``python app.py``."""
    from csto_qa.app.ui import (  # a light module: gradio is imported inside functions
        DEFAULT_HOST,
        DEFAULT_PORT,
    )

    parser.add_argument(
        "--host",
        default=DEFAULT_HOST,
        help=f"address to listen on (default: {DEFAULT_HOST}, this machine only; 0.0.0.0 opens it to all)",
    )
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default: {DEFAULT_PORT})")
    add_engine_arguments(parser)


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
    ask.add_argument("--mode", choices=MODES, default=MODES[0])
    ask.add_argument("--json", action="store_true", help="print one JSON object per question")
    ask.add_argument("--no-abstain", action="store_true", help="always list passages, even on weak evidence")
    add_engine_arguments(ask)

    index = sub.add_parser("index", help="build the index from corpus/ (only if stale)")
    index.add_argument("--rebuild", action="store_true", help="rebuild even if up to date")
    add_engine_arguments(index)

    add_eval_arguments(
        sub.add_parser("eval", help="measure retrieval on the evaluation set (table, report, plot)")
    )
    add_app_arguments(sub.add_parser("app", help="start the chat app in the browser (same as python app.py)"))
    return parser


def open_engine(args: argparse.Namespace) -> Engine:
    """The engine of the command's options (the index is rebuilt first when stale)."""
    from csto_qa.engine import Engine

    return Engine.open(index_dir=args.index_dir, corpus_dir=args.corpus_dir, model=args.model)


def open_live_engine(args: argparse.Namespace) -> LiveEngine:
    """For the app, a long-lived server: a stale index answers at once while a background
    rebuild runs (live.py)."""
    from csto_qa.live import LiveEngine

    return LiveEngine.open(
        index_dir=args.index_dir, corpus_dir=args.corpus_dir, model=args.model, background=True
    )


def format_answer(answer: Answer, width: int = 100) -> str:
    """A readable rendering of an answer for the terminal (control characters removed)."""
    from csto_qa.retrieval.tokenizing import clean_query as plain

    lines = [f"Q: {plain(answer.question)}"]
    if answer.query and answer.query != answer.question:
        lines.append(f"   (searched for: {plain(answer.query)})")
    if answer.abstained:
        lines.append(f"   {plain(answer.message)}")
        if answer.passages:  # on topic but unsupported: the closest passages, so nothing is hidden
            lines.append("   The closest passages:")
            for p in answer.passages:
                where = plain(p.title) + (f" — {plain(p.section)}" if p.section else "")
                lines.append(f"   [{p.rank}] {where}: {plain(p.highlight_display or p.highlight)}")
        return "\n".join(lines)
    if answer.message:
        lines.append(f"   note: {plain(answer.message)}")
    wrap = textwrap.TextWrapper(width=width, initial_indent="    ", subsequent_indent="    ")
    for p in answer.passages:
        where = plain(p.title) + (f" — {plain(p.section)}" if p.section else "")
        where += f", {p.page_label}" if p.page_label else ""
        lines.append(f"\n[{p.rank}] {where}  (chars {p.start}–{p.end})")
        highlight, rest = plain(p.highlight_display or p.highlight), plain(p.display or p.text)
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

    check_request(args.k, args.mode, EngineSettings().max_k)
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
    from csto_qa.config import default_corpus_dir, default_index_dir
    from csto_qa.embedding.encoder import load_encoder
    from csto_qa.index.build import build

    corpus_dir = Path(args.corpus_dir) if args.corpus_dir else default_corpus_dir()
    index_dir = Path(args.index_dir) if args.index_dir else default_index_dir(corpus_dir)
    encoder = load_encoder(args.model)
    manifest = build(corpus_dir, index_dir, encoder, only_if_stale=not args.rebuild)
    counts = manifest.counts
    print(
        f"index '{index_dir}': {counts.documents} documents, {counts.chunks} passages, "
        f"model {manifest.model.name}"
    )
    for line in account_lines(manifest.corpus.accounts):
        print(line)
    return 0


def account_lines(accounts: Sequence[ChunkAccount]) -> list[str]:
    """Per document: characters, how many were indexed, and what was left out and why."""
    from csto_qa.retrieval.tokenizing import clean_query as plain

    if not accounts:
        return []
    width = max(len(plain(a.doc_id)) for a in accounts)
    lines = [f"  {'document':<{width}}  {'characters':>10}  {'indexed':>10}  left out (why)"]
    for a in accounts:
        why = ", ".join(f"{n:,} {reason}" for reason, n in sorted(a.left_out.items(), key=lambda kv: -kv[1]))
        lines.append(f"  {plain(a.doc_id):<{width}}  {a.characters:>10,}  {a.indexed:>10,}  {why or '-'}")
    return lines


def run_eval(args: argparse.Namespace) -> int:
    from csto_qa.evaluation.evaluate import parse_settings, run

    overrides = {
        name: value
        for name, value in (
            ("fusion", args.fusion),
            ("alpha", args.alpha),
            ("rrf_k", args.rrf_k),
            ("abstain_threshold", args.abstain_threshold),
        )
        if value is not None
    }
    overrides.update(parse_settings(args.set))
    return run(
        questions_path=Path(args.questions) if args.questions else None,
        modes=args.modes,
        k=args.k,
        out=Path(args.out),
        overrides=overrides,
        progress=not args.no_progress,
        open_engine=lambda: open_engine(args),
    )


def run_app(args: argparse.Namespace) -> int:
    import os

    from csto_qa.app.ui import run

    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # the program's own setting: no telemetry
    return run(args.host, args.port, open_engine=lambda: open_live_engine(args))


HANDLERS: dict[str, Callable[[argparse.Namespace], int]] = {
    "ask": run_ask,
    "index": run_index,
    "eval": run_eval,
    "app": run_app,
}


def main(argv: list[str] | None = None, parser: argparse.ArgumentParser | None = None) -> int:
    """Run one command; ``parser`` (default: all of ``csto-qa``) is how ``app.py`` parses its options."""
    from csto_qa.errors import CstoQaError

    args = (parser or build_parser()).parse_args(argv)
    command = getattr(args, "command", None) or "app"
    try:
        return int(HANDLERS[command](args) or 0)
    except CstoQaError as exc:
        print(f"csto-qa: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("csto-qa: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


def app_parser() -> argparse.ArgumentParser:
    """The options of ``python app.py`` (the same as ``csto-qa app``)."""
    parser = argparse.ArgumentParser(
        prog="app.py", description="Chat with the CSTO documents in the browser."
    )
    add_app_arguments(parser)
    return parser


if __name__ == "__main__":
    sys.exit(main())

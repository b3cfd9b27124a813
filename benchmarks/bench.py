"""Where a query's time goes, index build speed, start-up and memory, on this corpus.

    python -m benchmarks.bench                 # stages, build, start-up, memory; bench-out/bench.json
    python -m benchmarks.bench --limit 20 --skip app --cold-runs 1    # a quick run

Query stages come from ``Engine.ask`` and its ``Answer.timings_ms`` over the evaluation
questions, after a warm-up pass (see :mod:`benchmarks.measure`). The build is the real
``indexing.build`` into a temporary folder with the loaded model, then ``csto-qa index
--rebuild`` in fresh processes (with the model load, and with an empty model cache).
Start-up figures come from fresh processes (``csto-qa --help``, the index load, the model
load, ``csto-qa ask``, the app), each process's own peak memory from /proc. Results: a
table on stdout and JSON in ``--out``. Timings depend on the machine's load: the JSON
records the load average before and after so a noisy run can be told from a quiet one.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchmarks.measure import (
    CPU,
    STAGES,
    guarded,
    machine_info,
    question_texts,
    summary,
    time_questions,
    write_json,
)
from benchmarks.options import (
    add_engine_options,
    add_query_options,
    check_query_options,
    engine_args,
    run_main,
)
from benchmarks.processes import CLI, app_server, peak_rss_mb, repeated, run_child
from csto_qa.errors import CstoQaError

if TYPE_CHECKING:
    from csto_qa.engine import Engine

E2E_OVER_ENCODE_LIMIT = 1.5  # p95 over p95
E2E_OVER_ENCODE_MEDIAN_LIMIT = 1.3  # median over median (issue 12: the answer layer's budget)
PARTS = ("query", "build", "startup", "app")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench", description=__doc__.splitlines()[0])
    add_engine_options(parser)
    add_query_options(parser)
    parser.add_argument("--cold-runs", type=int, default=3, help="fresh processes per start-up figure (3)")
    parser.add_argument(
        "--skip", action="append", default=[], choices=PARTS, help="leave out a part (repeatable)"
    )
    return parser


def run(args: argparse.Namespace) -> int:
    from csto_qa.engine import Engine

    check_query_options(args)
    if args.cold_runs < 1:
        raise CstoQaError(f"--cold-runs {args.cold_runs} must be at least 1")
    report: dict[str, Any] = {"meta": machine_info()}
    engine = Engine.open(index_dir=args.index_dir, corpus_dir=args.corpus_dir, model=args.model)
    report["meta"].update(model=engine.encoder.name, runtime=getattr(engine.encoder, "runtime", "?"))
    report["meta"]["index_dir"] = str(engine.stored.folder)
    questions = question_texts(args.questions, args.limit)
    if "query" not in args.skip:
        report["query"] = bench_queries(engine, questions, args.k, args.mode, args.repeat)
    if "build" not in args.skip:
        report["build"] = guarded(lambda: bench_build(engine, args))
    if "startup" not in args.skip:
        report["startup"] = guarded(lambda: bench_startup(engine, args, questions[0]))
    report["memory"] = {"bench_peak_mb": peak_rss_mb()}
    report["meta"]["load_after"] = os.getloadavg()
    report["targets"] = check_targets(report)
    path = write_json(report, args.out, "bench.json")
    print(format_report(report))
    print(f"\nresults written to {path}")
    return 0


# --- query stages -------------------------------------------------------------------------------


def bench_queries(engine: Engine, questions: list[str], k: int, mode: str, repeat: int) -> dict[str, Any]:
    samples = time_questions(engine, questions, k, mode, repeat)
    stages = {stage: summary(samples[stage]) for stage in (*STAGES, CPU)}
    ratio = stages["end_to_end"]["p95_ms"] / max(stages["encode"]["p95_ms"], 1e-9)
    median_ratio = stages["end_to_end"]["median_ms"] / max(stages["encode"]["median_ms"], 1e-9)
    return {
        "questions": len(questions),
        "passes": max(1, repeat),
        "k": k,
        "mode": str(mode),
        "depth": engine.settings.depth,
        "stages": stages,
        "target": {
            "end_to_end_p95_over_encode_p95": round(ratio, 3),
            "limit": E2E_OVER_ENCODE_LIMIT,
            "met": ratio <= E2E_OVER_ENCODE_LIMIT,
        },
        "median_target": {
            "end_to_end_median_over_encode_median": round(median_ratio, 3),
            "limit": E2E_OVER_ENCODE_MEDIAN_LIMIT,
            "met": median_ratio <= E2E_OVER_ENCODE_MEDIAN_LIMIT,
        },
    }


def check_targets(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The targets next to the measured figures (those this run measured)."""

    def get(*path: str) -> float | None:
        node: Any = report
        for key in path:
            node = node.get(key) if isinstance(node, dict) else None
        return node if isinstance(node, int | float) and not isinstance(node, bool) else None

    rows = [
        ("end-to-end p95 / encode p95", get("query", "target", "end_to_end_p95_over_encode_p95"), 1.5, ""),
        (
            "end-to-end median / encode median",
            get("query", "median_target", "end_to_end_median_over_encode_median"),
            E2E_OVER_ENCODE_MEDIAN_LIMIT,
            "",
        ),
        ("csto-qa --help", get("startup", "help", "median_s"), 1.0, " s"),
        ("index load without the model", get("startup", "index_load", "in_process_median_s"), 1.0, " s"),
        ("index build incl. model load", get("build", "cli_index_s"), 30.0, " s"),
    ]
    return [
        {"target": name, "value": value, "limit": limit, "unit": unit.strip(), "met": value <= limit}
        for name, value, limit, unit in rows
        if value is not None
    ]


# --- index build --------------------------------------------------------------------------------


def bench_build(engine: Engine, args: argparse.Namespace) -> dict[str, Any]:
    """The real build with the loaded model in this process, then whole builds in fresh processes."""
    from csto_qa.config import default_corpus_dir
    from csto_qa.index.build import build, quiet

    corpus_dir = Path(args.corpus_dir) if args.corpus_dir else default_corpus_dir()
    with tempfile.TemporaryDirectory(prefix="csto-bench-") as folder:
        started = time.perf_counter()
        manifest = build(corpus_dir, Path(folder) / "built", engine.encoder, report=quiet, progress=False)
        seconds = time.perf_counter() - started
        counts = manifest.counts
        result: dict[str, Any] = {
            "documents": counts.documents,
            "chunks": counts.chunks,
            "sentences": counts.sentences,
            "in_process_s": round(seconds, 3),
            "manifest_build_seconds": manifest.build_seconds,
            "chunks_per_s": round(counts.chunks / max(seconds, 1e-9), 1),
            "texts_embedded_per_s": round((counts.chunks + counts.sentences) / max(seconds, 1e-9), 1),
        }
        command = [*CLI, "index", "--rebuild", "--index-dir", str(Path(folder) / "index")]
        command += ["--corpus-dir", str(corpus_dir), *(["--model", args.model] if args.model else [])]
        child = run_child(command)
        result["cli_index_s"] = child["wall_s"]
        result["cli_index_peak_mb"] = child["peak_mb"]
        result["cli_index_ok"] = child["returncode"] == 0
        # First use on a new machine: the ONNX graph is derived from the weights again.
        child = run_child(command, env={"CSTO_QA_CACHE": str(Path(folder) / "empty-cache")})
        result["cli_index_empty_model_cache_s"] = child["wall_s"]
    return result


# --- start-up -----------------------------------------------------------------------------------


def bench_startup(engine: Engine, args: argparse.Namespace, question: str) -> dict[str, Any]:
    """Fresh-process figures, each the median of ``--cold-runs`` runs."""
    index_dir = str(engine.stored.folder)
    load_code = (
        "import json,sys,time;t=time.perf_counter();from pathlib import Path;"
        "from csto_qa.index.storage import load_index;load_index(Path(sys.argv[1]));"
        "print(json.dumps({'seconds':time.perf_counter()-t}))"
    )
    model_code = (
        "import json,sys,time;t=time.perf_counter();from csto_qa.embedding.encoder import load_encoder;"
        "e=load_encoder(sys.argv[1] or None);"
        "print(json.dumps({'seconds':time.perf_counter()-t,'runtime':e.runtime}))"
    )
    runs = args.cold_runs
    figures: dict[str, Any] = {}
    figures["help"] = repeated(runs, lambda: run_child([*CLI, "--help"]))
    figures["index_load"] = repeated(runs, lambda: run_child([sys.executable, "-c", load_code, index_dir]))
    figures["model_load"] = repeated(
        runs, lambda: run_child([sys.executable, "-c", model_code, args.model or ""])
    )
    ask = [*CLI, "ask", question, "--json", *engine_args(args, index_dir)]
    figures["cli_first_answer"] = repeated(runs, lambda: run_child(ask))
    if "app" in args.skip:
        figures["app_ready"] = {"skipped": "--skip app"}
    else:
        figures["app_ready"] = guarded(
            lambda: repeated(runs, lambda: app_ready(engine_args(args, index_dir)))
        )
    return figures


def app_ready(extra: list[str], timeout: float = 180.0) -> dict[str, Any]:
    """Seconds from starting ``csto-qa app`` to its first HTTP 200, and its peak memory then."""
    with app_server(extra, timeout) as server:
        return {"wall_s": server.ready_s, "returncode": 0, "peak_mb": peak_rss_mb(server.pid)}


def format_report(report: dict[str, Any]) -> str:
    """The human-readable tables."""
    meta = report["meta"]
    lines = [
        f"benchmarks.bench — {meta.get('model')} ({meta.get('runtime')}), {meta['cpus']} CPUs, "
        f"load {meta['load_before'][0]:.2f} → {meta.get('load_after', [0])[0]:.2f}"
    ]
    query = report.get("query")
    if query:
        lines += [
            "",
            f"Query stages over {query['questions']} questions × {query['passes']} passes "
            f"(k={query['k']}, {query['mode']}, depth {query['depth']}), ms:",
            f"  {'stage':<12}{'median':>9}{'p95':>9}{'mean':>9}{'max':>9}",
        ]
        for stage, s in query["stages"].items():
            lines.append(
                f"  {stage:<12}{s['median_ms']:>9.2f}{s['p95_ms']:>9.2f}"
                f"{s['mean_ms']:>9.2f}{s['max_ms']:>9.2f}"
            )
        t = query["target"]
        lines.append(
            f"  end-to-end p95 / encode p95 = {t['end_to_end_p95_over_encode_p95']:.2f} "
            f"(target ≤ {t['limit']}: {'met' if t['met'] else 'NOT met'})"
        )
        m = query["median_target"]
        lines.append(
            f"  end-to-end median / encode median = {m['end_to_end_median_over_encode_median']:.2f} "
            f"(target ≤ {m['limit']}: {'met' if m['met'] else 'NOT met'})"
        )
    build = report.get("build")
    if build:
        lines += ["", "Index build:"]
        if "skipped" in build:
            lines.append(f"  skipped: {build['skipped']}")
        else:
            lines.append(
                f"  {build['chunks']} passages, {build['sentences']} sentences; indexing.build with the "
                f"model loaded {build['in_process_s']:.2f} s = {build['chunks_per_s']:.1f} passages/s, "
                f"{build['texts_embedded_per_s']:.1f} texts embedded/s"
            )
            lines.append(
                f"  csto-qa index --rebuild (fresh process, with model load): {build['cli_index_s']:.2f} s, "
                f"peak {build['cli_index_peak_mb']:.0f} MB; with an empty model cache: "
                f"{build['cli_index_empty_model_cache_s']:.2f} s"
            )
    startup = report.get("startup")
    if startup:
        lines += ["", "Start-up (fresh processes, median):"]
        if "skipped" in startup:
            lines.append(f"  skipped: {startup['skipped']}")
        for name, s in startup.items() if "skipped" not in startup else []:
            if "skipped" in s:
                lines.append(f"  {name:<18} skipped: {s['skipped']}")
                continue
            inner = f" (in process {s['in_process_median_s']:.2f} s)" if "in_process_median_s" in s else ""
            status = "" if s["ok"] else f"  FAILED: {s.get('error', '')}"
            lines.append(f"  {name:<18}{s['median_s']:>8.2f} s{inner}, peak {s['peak_mb']:.0f} MB{status}")
    lines += ["", f"Peak memory of this benchmark process: {report['memory']['bench_peak_mb']:.0f} MB"]
    if report.get("targets"):
        lines += ["", "Targets:"]
        for t in report["targets"]:
            verdict = "met" if t["met"] else "NOT met"
            lines.append(f"  {t['target']:<32}{t['value']:>8.2f}{t['unit']:<2} (≤ {t['limit']:g}): {verdict}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    return run_main("bench", build_parser(), run, argv)


if __name__ == "__main__":
    sys.exit(main())

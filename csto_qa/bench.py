"""``csto-qa bench``: where a query's time goes, index build speed, start-up and memory.

    csto-qa bench                       # this corpus: stages, build, start-up, memory
    csto-qa bench --scale 1k 10k 100k 1M   # synthetic corpora (see bench_scale.py)

Query stages are timed inside ``Engine.ask`` itself (the engine's encoder, indexes and
answer builder are wrapped by timers), over the evaluation questions, after a warm-up
pass: encode, BM25, dense, fusion (the rest of retrieval), assembly and end-to-end.
Start-up figures come from fresh processes (``csto-qa --help``, ``csto-qa ask``, the
app), each process's own peak memory from ``wait4``. Results: a table on stdout and
JSON in ``--out``. Timings depend on the machine's load: the JSON records the load
average before and after so a noisy run can be told from a quiet one.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

STAGES = ("encode", "bm25", "dense", "fusion", "assembly", "other", "end_to_end")
E2E_OVER_ENCODE_LIMIT = 1.5
PYTHON = [sys.executable, "-m", "csto_qa.cli"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``csto-qa bench``."""
    from csto_qa.cli import add_engine_arguments

    add_engine_arguments(parser)
    parser.add_argument("--out", default="bench-out", help="folder for the JSON results (default: bench-out)")
    parser.add_argument("--repeat", type=int, default=3, help="timed passes over the questions (default: 3)")
    parser.add_argument(
        "--cold-runs", type=int, default=3, help="fresh processes per start-up figure (default: 3)"
    )
    parser.add_argument("--k", type=int, default=5, help="passages per answer (default: 5)")
    parser.add_argument("--mode", choices=("hybrid", "bm25", "dense"), default="hybrid")
    parser.add_argument(
        "--skip",
        action="append",
        default=[],
        choices=("query", "build", "startup", "app"),
        help="leave out a part (repeatable)",
    )
    parser.add_argument("--questions", help="JSONL question file (default: the evaluation set)")
    parser.add_argument("--limit", type=int, help="use only the first N questions (quick runs)")
    parser.add_argument(
        "--scale",
        nargs="+",
        metavar="N",
        help="instead, measure retrieval on synthetic corpora of N passages (e.g. 1k 10k 100k 1M)",
    )
    parser.add_argument(
        "--vectors",
        choices=("random", "mixed"),
        default="random",
        help="--scale passage vectors: random unit vectors, or mixes of real sentence vectors",
    )
    parser.add_argument(
        "--dense-kind",
        choices=("auto", "flat", "hnsw"),
        default="auto",
        help="--scale: dense index kind (default: auto, by dense.HNSW_THRESHOLD)",
    )
    parser.add_argument(
        "--hnsw",
        default="",
        metavar="EF,EF",
        help="--scale: also build an HNSW graph and report recall@10 and latency at these efSearch values",
    )


def run(args: argparse.Namespace) -> int:
    if args.scale:
        from csto_qa.bench_scale import run_scale

        return run_scale(args)
    from csto_qa.cli import open_engine

    report: dict[str, Any] = {"meta": machine_info()}
    engine = open_engine(args)
    report["meta"].update(model=engine.encoder.name, runtime=getattr(engine.encoder, "runtime", "?"))
    report["meta"]["index_dir"] = str(engine.stored.folder)
    questions = load_question_texts(args)
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


class Timed:
    """Forwards everything to ``inner``; adds the wall and CPU time of one method to ``ms``/``cpu``.

    CPU time is this thread's own (the query path is single-threaded), which stays close to
    the quiet-machine figure when other processes compete for the cores.
    """

    def __init__(self, inner: Any, method: str) -> None:
        self.inner, self.method = inner, method
        self.ms = self.cpu = 0.0

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.inner, name)
        if name != self.method:
            return attr

        def timed(*args: Any, **kwargs: Any) -> Any:
            wall, cpu = time.perf_counter(), time.thread_time()
            try:
                return attr(*args, **kwargs)
            finally:
                self.ms += (time.perf_counter() - wall) * 1e3
                self.cpu += (time.thread_time() - cpu) * 1e3

        return timed


def instrumented(engine: Any) -> tuple[Any, dict[str, Timed]]:
    """A copy of ``engine`` whose encoder, indexes and answer builder time themselves."""
    from csto_qa.engine import Engine

    timers = {"encode": Timed(engine.encoder, "encode_query")}
    copy = Engine(engine.stored, timers["encode"], engine.settings)
    timers["bm25"] = copy.retriever.bm25 = Timed(copy.retriever.bm25, "search")
    timers["dense"] = copy.retriever.dense = Timed(copy.retriever.dense, "search")
    timers["retrieve"] = copy.retriever = Timed(copy.retriever, "retrieve")
    timers["assembly"] = copy.builder = Timed(copy.builder, "build")
    timers["ask"] = Timed(copy, "ask")
    return timers["ask"], timers


def time_questions(
    engine: Any, questions: list[str], k: int, mode: str, repeat: int
) -> dict[str, list[float]]:
    """Per-stage milliseconds of ``engine.ask`` for every question, after one warm-up pass.

    Keys are the stage names (wall time) and the same names ending in ``_cpu``.
    """
    timed, timers = instrumented(engine)
    samples: dict[str, list[float]] = {}
    for _ in range(1 + max(1, repeat)):
        for question in questions:
            for timer in timers.values():
                timer.ms = timer.cpu = 0.0
            timed.ask(question, k=k, mode=mode)
            for suffix, clock in (("", "ms"), ("_cpu", "cpu")):
                t = {name: getattr(timer, clock) for name, timer in timers.items()}
                row = {
                    "encode": t["encode"],
                    "bm25": t["bm25"],
                    "dense": t["dense"],
                    "fusion": max(0.0, t["retrieve"] - t["bm25"] - t["dense"]),
                    "assembly": t["assembly"],
                    "other": max(0.0, t["ask"] - t["encode"] - t["retrieve"] - t["assembly"]),
                    "end_to_end": t["ask"],
                }
                for stage, value in row.items():
                    samples.setdefault(stage + suffix, []).append(value)
    warm = len(questions)  # the first pass only warms caches
    return {stage: values[warm:] for stage, values in samples.items()}


def summary(values: list[float]) -> dict[str, float]:
    """Median, p95, mean and max of a list of milliseconds (rounded to microseconds)."""
    import numpy as np

    if not values:
        return {"median_ms": 0.0, "p95_ms": 0.0, "mean_ms": 0.0, "max_ms": 0.0, "n": 0}
    a = np.asarray(values, dtype=np.float64)
    stats = {
        "median_ms": np.median(a),
        "p95_ms": np.percentile(a, 95),
        "mean_ms": a.mean(),
        "max_ms": a.max(),
    }
    return {**{key: round(float(v), 3) for key, v in stats.items()}, "n": int(a.size)}


def with_cpu(samples: dict[str, list[float]], stage: str) -> dict[str, float]:
    """Wall-clock summary of a stage plus its CPU median and p95."""
    cpu = summary(samples[stage + "_cpu"])
    return {**summary(samples[stage]), "cpu_median_ms": cpu["median_ms"], "cpu_p95_ms": cpu["p95_ms"]}


def bench_queries(engine: Any, questions: list[str], k: int, mode: str, repeat: int) -> dict[str, Any]:
    samples = time_questions(engine, questions, k, mode, repeat)
    stages = {stage: with_cpu(samples, stage) for stage in STAGES}
    ratio = stages["end_to_end"]["p95_ms"] / max(stages["encode"]["p95_ms"], 1e-9)
    cpu_ratio = stages["end_to_end"]["cpu_p95_ms"] / max(stages["encode"]["cpu_p95_ms"], 1e-9)
    return {
        "questions": len(questions),
        "passes": max(1, repeat),
        "k": k,
        "mode": mode,
        "depth": engine.settings.depth,
        "stages": stages,
        "target": {
            "end_to_end_p95_over_encode_p95": round(ratio, 3),
            "cpu_end_to_end_p95_over_encode_p95": round(cpu_ratio, 3),
            "limit": E2E_OVER_ENCODE_LIMIT,
            "met": ratio <= E2E_OVER_ENCODE_LIMIT,
        },
    }


def check_targets(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue's targets next to the measured figures (those this run measured)."""

    def get(*path: str) -> float | None:
        node: Any = report
        for key in path:
            node = node.get(key) if isinstance(node, dict) else None
        return node if isinstance(node, int | float) and not isinstance(node, bool) else None

    rows = [
        ("end-to-end p95 / encode p95", get("query", "target", "end_to_end_p95_over_encode_p95"), 1.5, ""),
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


def bench_build(engine: Any, args: argparse.Namespace) -> dict[str, Any]:
    """Stage times of a build in this process, then whole builds in fresh processes."""
    from csto_qa.chunking import ChunkParams, chunk_corpus
    from csto_qa.config import default_corpus_dir
    from csto_qa.dense import DenseIndex
    from csto_qa.ingest import load_corpus
    from csto_qa.lexical import BM25Index
    from csto_qa.tokenizing import tokenize

    corpus_dir = Path(args.corpus_dir) if args.corpus_dir else default_corpus_dir()
    stages: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        stages[name] = round(now - clock, 3)
        clock = now

    documents = load_corpus(corpus_dir).documents
    chunked = chunk_corpus(documents, ChunkParams())
    sentences, chunks = chunked.sentences, chunked.chunks
    lap("corpus_and_chunking_s")
    BM25Index.build([tokenize(c.index_text) for c in chunks])
    lap("bm25_s")
    vectors = engine.encoder.encode([c.index_text for c in chunks])
    lap("encode_passages_s")
    texts = {d.doc_id: d.text for d in documents}
    engine.encoder.encode([texts[s.doc_id][s.start : s.end] for s in sentences], batch_size=64)
    lap("encode_sentences_s")
    DenseIndex.build(vectors)
    lap("dense_s")
    in_process = sum(stages.values())
    result: dict[str, Any] = {
        "chunks": len(chunks),
        "sentences": len(sentences),
        "stages": stages,
        "in_process_s": round(in_process, 3),
        "chunks_per_s": round(len(chunks) / max(in_process, 1e-9), 1),
        "encode_texts_per_s": round(
            (len(chunks) + len(sentences))
            / max(stages["encode_passages_s"] + stages["encode_sentences_s"], 1e-9),
            1,
        ),
    }
    with tempfile.TemporaryDirectory(prefix="csto-bench-") as folder:
        command = [*PYTHON, "index", "--rebuild", "--index-dir", str(Path(folder) / "index")]
        command += ["--corpus-dir", str(corpus_dir), *model_args(args)]
        run_ = run_child(command)
        result["cli_index_s"] = run_["wall_s"]
        result["cli_index_peak_mb"] = run_["peak_mb"]
        result["cli_index_ok"] = run_["returncode"] == 0
        # First use on a new machine: the ONNX graph is derived from the weights again.
        env = {"CSTO_QA_CACHE": str(Path(folder) / "empty-cache")}
        run_ = run_child(command, env=env)
        result["cli_index_empty_model_cache_s"] = run_["wall_s"]
    return result


# --- start-up -----------------------------------------------------------------------------------


def bench_startup(engine: Any, args: argparse.Namespace, question: str) -> dict[str, Any]:
    """Fresh-process figures, each the median of ``--cold-runs`` runs."""
    index_dir = str(engine.stored.folder)
    engine_args = ["--index-dir", index_dir, *model_args(args)]
    if args.corpus_dir:
        engine_args += ["--corpus-dir", args.corpus_dir]
    load_code = (
        "import json,sys,time;t=time.perf_counter();from pathlib import Path;"
        "from csto_qa.storage import load_index;load_index(Path(sys.argv[1]));"
        "print(json.dumps({'seconds':time.perf_counter()-t}))"
    )
    model_code = (
        "import json,sys,time;t=time.perf_counter();from csto_qa.embedding import load_encoder;"
        "e=load_encoder(sys.argv[1] or None);"
        "print(json.dumps({'seconds':time.perf_counter()-t,'runtime':e.runtime}))"
    )
    runs = max(1, args.cold_runs)
    figures: dict[str, Any] = {}
    figures["help"] = repeated(runs, lambda: run_child([*PYTHON, "--help"]))
    figures["index_load"] = repeated(runs, lambda: run_child([sys.executable, "-c", load_code, index_dir]))
    figures["model_load"] = repeated(
        runs, lambda: run_child([sys.executable, "-c", model_code, args.model or ""])
    )
    ask = [*PYTHON, "ask", question, "--json", *engine_args]
    figures["cli_first_answer"] = repeated(runs, lambda: run_child(ask))
    if "app" in args.skip:
        figures["app_ready"] = {"skipped": "--skip app"}
    else:
        figures["app_ready"] = guarded(lambda: repeated(runs, lambda: app_ready(engine_args)))
    return figures


def app_ready(engine_args: list[str], timeout: float = 180.0) -> dict[str, Any]:
    """Seconds from starting ``csto-qa app`` to its first HTTP 200; then stop it."""
    import importlib.util
    import urllib.request

    if importlib.util.find_spec("csto_qa.ui") is None:
        raise RuntimeError("the app (csto_qa/ui.py) is not in this build")
    port = free_port()
    command = [*PYTHON, "app", "--port", str(port), *engine_args]
    errors = tempfile.TemporaryFile()  # a file, not a pipe: a chatty app must never block on it
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=errors, env=child_env())
    ready, peak = None, 0.0
    try:
        while time.perf_counter() - started < timeout and process.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response:
                    if response.status == 200:
                        ready = time.perf_counter() - started
                        peak = peak_rss_mb(process.pid)
                        break
            except OSError:
                time.sleep(0.1)
    finally:
        if process.poll() is None:
            process.terminate()
        process.wait()
        errors.seek(0)
        error = errors.read().decode("utf-8", "replace")[-300:]
        errors.close()
    if ready is None:
        raise RuntimeError(f"the app did not answer HTTP 200 within {timeout:.0f} s: {error.strip()}")
    return {"wall_s": round(ready, 3), "returncode": 0, "peak_mb": peak}


# --- helpers ------------------------------------------------------------------------------------


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ, HF_HUB_OFFLINE="1", GRADIO_ANALYTICS_ENABLED="False")
    return {**env, **(extra or {})}


def run_child(
    command: list[str], env: dict[str, str] | None = None, timeout: float = 900.0
) -> dict[str, Any]:
    """Run a process to its end: wall seconds, exit code, its own peak RSS, its stdout."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=err, env=child_env(env))
        peak = 0.0
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if _has_exec(process.pid, command):  # before exec, /proc shows the forked parent
                peak = max(peak, _status_mb("VmHWM", process.pid) or 0.0)
            if time.perf_counter() - started > timeout:
                process.kill()
                os.wait4(process.pid, 0)
                raise RuntimeError(f"{' '.join(command[:4])}… took more than {timeout:.0f} s")
            time.sleep(0.005)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        text, error = out.read().decode("utf-8", "replace").strip(), err.read().decode("utf-8", "replace")
    # The last /proc reading is a few ms before the exit; ru_maxrss would add the parent's RSS.
    peak = peak or round(usage.ru_maxrss / 1024, 1)
    result = {"wall_s": round(wall, 3), "returncode": process.returncode, "peak_mb": peak}
    if process.returncode != 0:
        result["error"] = error.strip()[-300:]
    if text.startswith("{") and text.endswith("}") and "\n" not in text:
        result["output"] = json.loads(text)
    return result


def repeated(runs: int, measure: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Median of several fresh-process measurements (and every run, for the record)."""
    import statistics

    results = [measure() for _ in range(runs)]
    walls = [r["wall_s"] for r in results]
    summary_ = {"median_s": round(statistics.median(walls), 3), "min_s": min(walls), "max_s": max(walls)}
    summary_["ok"] = all(r["returncode"] == 0 for r in results)
    summary_["peak_mb"] = max(r["peak_mb"] for r in results)
    inner = [
        r["output"]["seconds"]
        for r in results
        if isinstance(r.get("output"), dict) and "seconds" in r["output"]
    ]
    if inner:
        summary_["in_process_median_s"] = round(statistics.median(inner), 3)
    errors = [r["error"] for r in results if "error" in r]
    if errors:
        summary_["error"] = errors[0]
    return summary_


def guarded(measure: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """A measurement, or ``{"skipped": reason}`` when it cannot be taken here."""
    try:
        return measure()
    except Exception as exc:  # one missing part must not lose the other figures
        return {"skipped": f"{exc.__class__.__name__}: {exc}"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def model_args(args: argparse.Namespace) -> list[str]:
    return ["--model", args.model] if args.model else []


def _status_mb(field: str, pid: int | str = "self") -> float | None:
    """A memory line of /proc/<pid>/status in MB (Linux), else None."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return round(int(line.split()[1]) / 1024, 1)
    except (OSError, ValueError):
        pass
    return None


def _has_exec(pid: int, command: list[str]) -> bool:
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        return argv[: len(command)] == [part.encode() for part in command]
    except OSError:
        return False


def peak_rss_mb(pid: int | str = "self") -> float:
    """Peak resident memory of a process (VmHWM; ru_maxrss where /proc is missing).

    VmHWM rather than ru_maxrss because a child's ru_maxrss also counts the memory of the
    parent it was forked from, up to its exec.
    """
    found = _status_mb("VmHWM", pid)
    return found if found is not None else round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def current_rss_mb() -> float:
    """This process's resident memory now (VmRSS), or the peak where /proc is missing."""
    found = _status_mb("VmRSS")
    return found if found is not None else peak_rss_mb()


def load_question_texts(args: argparse.Namespace) -> list[str]:
    from csto_qa.evalset import default_questions_path, load_questions

    path = Path(args.questions) if args.questions else default_questions_path()
    from csto_qa.errors import QueryError

    questions = [q.question for q in load_questions(path)]
    questions = questions[: args.limit] if args.limit is not None else questions
    if not questions:
        raise QueryError(f"no questions to time in '{path}' (or --limit is 0)")
    return questions


def machine_info() -> dict[str, Any]:
    import numpy

    from csto_qa import __version__

    versions = {"csto_qa": __version__, "python": platform.python_version(), "numpy": numpy.__version__}
    for name in ("onnxruntime", "faiss", "scipy"):
        try:
            versions[name] = __import__(name).__version__
        except (ImportError, AttributeError):
            pass
    return {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "load_before": os.getloadavg(),
        "versions": versions,
    }


def write_json(report: dict[str, Any], out: str, name: str) -> Path:
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    temp = path.with_suffix(".tmp")
    temp.write_text(json.dumps(report, indent=2, default=float) + "\n", encoding="utf-8")
    shutil.move(temp, path)
    return path


def format_report(report: dict[str, Any]) -> str:
    """The human-readable tables."""
    meta = report["meta"]
    lines = [
        f"csto-qa bench — {meta.get('model')} ({meta.get('runtime')}), {meta['cpus']} CPUs, "
        f"load {meta['load_before'][0]:.2f} → {meta.get('load_after', [0])[0]:.2f}"
    ]
    query = report.get("query")
    if query:
        lines += [
            "",
            f"Query stages over {query['questions']} questions × {query['passes']} passes "
            f"(k={query['k']}, {query['mode']}, depth {query['depth']}), ms:",
            f"  {'stage':<12}{'median':>9}{'p95':>9}{'mean':>9}{'cpu med':>10}{'cpu p95':>9}",
        ]
        for stage, s in query["stages"].items():
            lines.append(
                f"  {stage:<12}{s['median_ms']:>9.2f}{s['p95_ms']:>9.2f}{s['mean_ms']:>9.2f}"
                f"{s['cpu_median_ms']:>10.2f}{s['cpu_p95_ms']:>9.2f}"
            )
        t = query["target"]
        lines.append(
            f"  end-to-end p95 / encode p95 = {t['end_to_end_p95_over_encode_p95']:.2f} "
            f"(CPU time: {t['cpu_end_to_end_p95_over_encode_p95']:.2f}; "
            f"target ≤ {t['limit']}: {'met' if t['met'] else 'NOT met'})"
        )
    build = report.get("build")
    if build:
        lines += ["", "Index build:"]
        if "skipped" in build:
            lines.append(f"  skipped: {build['skipped']}")
        else:
            lines.append(
                f"  {build['chunks']} passages, {build['sentences']} sentences; in-process "
                f"{build['in_process_s']:.2f} s = {build['chunks_per_s']:.1f} passages/s, "
                f"encoder {build['encode_texts_per_s']:.1f} texts/s"
            )
            lines.append("  " + ", ".join(f"{k[:-2]} {v:.2f} s" for k, v in build["stages"].items()))
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

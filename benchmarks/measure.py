"""Query stage timings through the engine's public API, and the pieces every report shares.

Each question goes through ``Engine.ask``; rewrite, encode, retrieve and assembly come from the
answer's own ``timings_ms``, end to end is the wall time of the call. BM25 scoring and the
dense search are then timed on their own, through the indexes' public ``search`` with the
answer's query and the depth the retriever uses, and fusion (with best-sentence rescoring)
is the rest of retrieval. Nothing inside the engine is replaced.
"""

from __future__ import annotations

import json
import math
import os
import platform
import shutil
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from csto_qa.errors import CstoQaError

if TYPE_CHECKING:
    from csto_qa.engine import Engine

STAGES = ("rewrite", "encode", "bm25", "dense", "fusion", "assembly", "other", "end_to_end")
# This thread's CPU time in ``Engine.ask`` (the query path is single-threaded): it stays close to
# the quiet-machine figure when other processes compete for the cores, so runs under different
# loads can still be compared.
CPU = "end_to_end_cpu"


def elapsed_ms(call: Callable[[], object]) -> float:
    """Wall milliseconds of one call."""
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1e3


def retrieval_depth(engine: Engine, k: int) -> int:
    """Candidates each side returns for ``ask(k=k)``: the engine asks the retriever for
    ``max(4k, 20)`` hits and the retriever searches ``max(depth, that)`` deep."""
    return max(engine.settings.depth, k * 4, 20)


def time_questions(
    engine: Engine, questions: Sequence[str], k: int, mode: str, repeat: int
) -> dict[str, list[float]]:
    """Milliseconds of every stage (``STAGES``, and ``CPU``) for every question, after one warm-up pass."""
    from csto_qa.retrieval.tokenizing import tokenize

    depth = retrieval_depth(engine, k)
    bm25, dense = engine.stored.bm25, engine.stored.dense
    samples: dict[str, list[float]] = {stage: [] for stage in (*STAGES, CPU)}
    for _ in range(1 + max(1, repeat)):
        for question in questions:
            started, cpu = time.perf_counter(), time.thread_time()
            answer = engine.ask(question, k=k, mode=mode)
            wall = (time.perf_counter() - started) * 1e3
            samples[CPU].append((time.thread_time() - cpu) * 1e3)
            t = answer.timings_ms
            if not {"encode", "retrieve", "assemble", "total"} <= set(t):
                raise CstoQaError(
                    f"the engine timed no retrieval for question {question!r}; time real questions"
                )
            tokens = tokenize(answer.query)
            vector = engine.encoder.encode_query(answer.query)
            bm25_ms = elapsed_ms(lambda: bm25.search(tokens, depth))  # noqa: B023 - called at once
            dense_ms = elapsed_ms(lambda: dense.search(vector, depth))  # noqa: B023 - called at once
            row = {
                "rewrite": t.get("rewrite", 0.0),  # the follow-up rewrite (contextualize)
                "encode": t["encode"],
                "bm25": bm25_ms,
                "dense": dense_ms,
                "fusion": max(0.0, t["retrieve"] - bm25_ms - dense_ms),
                "assembly": t["assemble"],
                "other": max(0.0, wall - t["total"]),  # input checks, cleaning, the decline decision
                "end_to_end": wall,
            }
            for stage, value in row.items():
                samples[stage].append(value)
    warm = len(questions)  # the first pass only warms caches
    return {stage: values[warm:] for stage, values in samples.items()}


def percentile(sorted_values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile of already sorted values (0 for none)."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(share / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def summary(values: Sequence[float]) -> dict[str, float]:
    """Median, p95, mean and max of milliseconds (numpy's interpolated percentiles, rounded to µs)."""
    import numpy as np

    if not len(values):
        return {"median_ms": 0.0, "p95_ms": 0.0, "mean_ms": 0.0, "max_ms": 0.0, "n": 0}
    a = np.asarray(values, dtype=np.float64)
    stats = {
        "median_ms": np.median(a),
        "p95_ms": np.percentile(a, 95),
        "mean_ms": a.mean(),
        "max_ms": a.max(),
    }
    return {**{key: round(float(v), 3) for key, v in stats.items()}, "n": int(a.size)}


def guarded(measure: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """A measurement, or ``{"skipped": reason}`` when it cannot be taken here."""
    try:
        return measure()
    except Exception as exc:  # one missing part must not lose the other figures
        return {"skipped": f"{exc.__class__.__name__}: {exc}"}


def question_texts(path: str | None, limit: int | None) -> list[str]:
    """The questions of a JSONL file (default: the evaluation set), the first ``limit`` of them."""
    from csto_qa.evaluation.questions import default_questions_path, load_questions

    source = Path(path) if path else default_questions_path()
    questions = [q.question for q in load_questions(source)]
    questions = questions[:limit] if limit is not None else questions
    if not questions:
        raise CstoQaError(f"no questions to time in '{source}' (or --limit is 0)")
    return questions


def machine_info() -> dict[str, Any]:
    """CPUs, platform, library versions and the load average (a noisy run can be told apart)."""
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


def write_json(report: dict[str, Any], out: str | Path, name: str) -> Path:
    """``out/name`` written whole (through a temporary file), so a reader never sees half of it."""
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    temp = path.with_suffix(".tmp")
    temp.write_text(json.dumps(report, indent=2, default=float) + "\n", encoding="utf-8")
    shutil.move(temp, path)
    return path

"""Retrieval at N passages on synthetic corpora: build time, query latency, memory, HNSW recall.

    python -m benchmarks.scale 1k 10k 100k 1M            # bench-out/bench-scale.json
    python -m benchmarks.scale 100k --vectors mixed --hnsw 64,128,256

The real index's sentences are the pool the synthetic passages are drawn from (see
:mod:`benchmarks.synthetic`); the evaluation questions are encoded once here, then each
size runs in a fresh process so its peak memory is its own.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.measure import machine_info, question_texts, write_json
from benchmarks.options import add_engine_options, add_query_options, check_query_options, run_main
from benchmarks.processes import run_child
from csto_qa.errors import CstoQaError

SUFFIXES = {"k": 1_000, "m": 1_000_000}


def parse_size(text: str) -> int:
    """'1k' → 1000, '1M' → 1000000, '2500' → 2500."""
    text = text.strip().lower().replace("_", "")
    factor = SUFFIXES.get(text[-1:], 1)
    number = text[:-1] if text[-1:] in SUFFIXES else text
    try:
        value = int(float(number) * factor)
    except ValueError:
        raise CstoQaError(f"size {text!r} is not a number like 1000, 10k or 1M") from None
    if value < 1:
        raise CstoQaError(f"size {text!r} must be at least 1")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scale", description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="+", metavar="N", help="passages per synthetic corpus (1k, 10k, 1M…)")
    add_engine_options(parser)  # the real index: its sentences are the synthetic passages' pool
    add_query_options(parser)
    parser.add_argument(
        "--vectors",
        choices=("random", "mixed"),
        default="random",
        help="passage vectors: random unit vectors, or mixes of real sentence vectors",
    )
    parser.add_argument(
        "--dense-kind",
        choices=("auto", "flat", "hnsw"),
        default="auto",
        help="dense index kind (default: auto, by dense.HNSW_THRESHOLD)",
    )
    parser.add_argument(
        "--hnsw",
        default="",
        metavar="EF,EF",
        help="also build an HNSW graph and report recall@10 and latency at these efSearch values",
    )
    return parser


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from csto_qa.engine import Engine

    sizes = [parse_size(s) for s in args.sizes]
    if not all(e.strip().isdigit() for e in args.hnsw.split(",") if e.strip()):
        raise CstoQaError(f"--hnsw {args.hnsw!r} must list efSearch values, such as 64,128,256")
    check_query_options(args)
    engine = Engine.open(index_dir=args.index_dir, corpus_dir=args.corpus_dir, model=args.model)
    questions = question_texts(args.questions, args.limit)
    report: dict[str, Any] = {"meta": machine_info(), "sizes": []}
    report["meta"].update(model=engine.encoder.name, index_dir=str(engine.stored.folder))
    with tempfile.TemporaryDirectory(prefix="csto-scale-") as folder:
        qjson, qnpy = Path(folder) / "questions.json", Path(folder) / "vectors.npy"
        qjson.write_text(json.dumps(questions), encoding="utf-8")
        np.save(qnpy, engine.encoder.encode(questions), allow_pickle=False)
        del engine
        for n in sizes:
            out = Path(folder) / f"scale-{n}.json"
            command = [sys.executable, "-m", "benchmarks.synthetic", "--n", str(n), "--out", str(out)]
            command += ["--index-dir", report["meta"]["index_dir"], "--questions-json", str(qjson)]
            command += ["--vectors-npy", str(qnpy), "--vectors", args.vectors, "--hnsw", args.hnsw]
            command += ["--kind", args.dense_kind]
            command += ["--repeat", str(max(1, args.repeat)), "--k", str(args.k), "--mode", str(args.mode)]
            child = run_child(command, timeout=6 * 3600)
            if child["returncode"] != 0:
                report["sizes"].append({"n": n, "error": child.get("error", "failed")})
                print(f"N={n:>9,}  failed: {child.get('error', '')}", flush=True)
                continue
            result = json.loads(out.read_text(encoding="utf-8"))
            result["process"] = {"wall_s": child["wall_s"], "peak_mb": child["peak_mb"]}
            report["sizes"].append(result)
            print(format_size(result), flush=True)
    report["meta"]["load_after"] = os.getloadavg()
    path = write_json(report, args.out, "bench-scale.json")
    print(f"\nresults written to {path}")
    return 0


def format_size(r: dict[str, Any]) -> str:
    q, b, s = r["query"]["excluding_encoding"], r["build"], r["query"]["stages"]
    memory = f"memory {r['rss']['engine_mb']:.0f} MB (peak {r['rss']['peak_mb']:.0f})"
    lines = [
        f"N={r['n']:>9,}  {r['dense_kind']:<5} build: bm25 {b['bm25_s']:.2f} s + dense {b['dense_s']:.2f} s "
        f"({b['passages_per_s']:,} passages/s)  {memory}",
        f"{'':13}query excl. encoding: median {q['median_ms']:.2f} ms, p95 {q['p95_ms']:.2f} ms "
        f"(CPU {q['cpu_median_ms']:.2f} / {q['cpu_p95_ms']:.2f})",
        f"{'':13}p95 by stage: "
        + ", ".join(f"{k} {v['p95_ms']:.2f}" for k, v in s.items() if k not in ("end_to_end", "other")),
    ]
    h = r.get("hnsw")
    if h:
        lines.append(
            f"{'':13}HNSW: build {h['build_s']:.1f} s, {h['bytes'] / 2**20:.0f} MB; "
            f"exact search p95 {h['exact_search']['p95_ms']:.2f} ms; query excl. encoding with "
            f"efSearch {h['default_ef_search']}: p95 {h['pipeline_excluding_encoding']['p95_ms']:.2f} ms"
        )
        for e in h["by_ef_search"]:
            lines.append(
                f"{'':19}efSearch {e['ef_search']:>4}: recall@10 {e['recall_at_10']:.3f}, "
                f"search p95 {e['search']['p95_ms']:.2f} ms"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    return run_main("scale", build_parser(), run, argv)


if __name__ == "__main__":
    sys.exit(main())

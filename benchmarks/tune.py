"""Tuning sweep behind the engine's defaults: fusion, passage size and abstention threshold.

    python -m benchmarks.tune                      # writes tune-out/tune.md and tune.json
    python -m benchmarks.tune --targets 90 --alphas 0.5

For each passage size (``target_words``; ``max_words`` kept at 5/3 of it) an index is built
in its own folder under ``--work``; on it every question is asked through ``Engine.ask``
(via :func:`csto_qa.evaluation.evaluate.evaluate`) with BM25 only, embeddings only, and hybrid with
convex fusion for each ``alpha`` and RRF for each ``k``. Then the abstention threshold is
swept on the answers' confidence. Query embeddings are computed once per question and
shared by every run (same model, same text, same vector).

The tables report every setting next to its neighbours, with the paired count of
questions a hybrid setting finds in the top 5 that BM25 / embeddings alone do not (and
the reverse), so a choice on a plateau can be told from a one-question blip.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from csto_qa.config import EngineSettings
from csto_qa.engine import Engine
from csto_qa.evaluation.evaluate import THRESHOLDS, CachedQueryEncoder, evaluate, read_questions
from csto_qa.evaluation.metrics import abstention_rates
from csto_qa.evaluation.questions import default_questions_path
from csto_qa.evaluation.results import EvalReport
from csto_qa.index.build import quiet
from csto_qa.ingest.chunking import ChunkParams

METRICS = ("recall@1", "recall@3", "recall@5", "recall@10", "mrr@10", "ndcg@10", "mean_words")


def chunk_params(target: int) -> ChunkParams:
    """Passage size ``target`` words, ``max_words`` 5/3 of it (90 → 150, the shipped ratio)."""
    return ChunkParams(target_words=target, max_words=round(target * 5 / 3))


def _floats(text: str) -> list[float]:
    return [float(x) for x in text.split(",") if x.strip()]


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def row_of(report: EvalReport, mode: str, label: str, extra: dict[str, Any]) -> dict[str, Any]:
    """One table row: the mode's figures plus per-question first-hit ranks for paired tests."""
    s = report.summaries[mode]
    ranks = {r.id: r.first_relevant for r in report.results if r.mode == mode and r.answerable}
    conf = {r.id: r.confidence for r in report.results if r.mode == mode}
    return {
        "label": label,
        "mode": mode,
        **extra,
        **{m: s.metrics[m] for m in METRICS},
        "missed@5": len(s.misses),
        "categories": {c: f.get("recall@5") for c, f in s.categories.items()},
        "first_relevant": ranks,
        "confidence": conf,
        "answerable": {r.id: r.answerable for r in report.results if r.mode == mode},
    }


def paired(a: dict[str, Any], b: dict[str, Any], cut: int = 5) -> tuple[int, int]:
    """(questions ``a`` finds in the top ``cut`` and ``b`` does not, and the reverse)."""
    hit_a = {q for q, r in a["first_relevant"].items() if r is not None and r <= cut}
    hit_b = {q for q, r in b["first_relevant"].items() if r is not None and r <= cut}
    return len(hit_a - hit_b), len(hit_b - hit_a)


def sweep_chunking(
    target: int, args: argparse.Namespace, questions: list, memo: CachedQueryEncoder
) -> list[dict[str, Any]]:
    """Every mode and fusion setting on one passage size."""
    params = chunk_params(target)
    started = time.perf_counter()
    opened = Engine.open(
        index_dir=Path(args.work) / f"tw{target}",
        settings=EngineSettings(),
        chunking=params,
        report=quiet,
        progress=False,
    )
    base = Engine(opened.stored, memo, EngineSettings())
    n_chunks = len(base.stored.chunks)
    print(
        f"target_words={target}: {n_chunks} passages, opened in {time.perf_counter() - started:.0f} s",
        file=sys.stderr,
    )
    extra = {"target_words": target, "max_words": params.max_words, "chunks": n_chunks}
    rows = []
    single = evaluate(base, questions, ("bm25", "dense"), args.k)
    rows.append(row_of(single, "bm25", "BM25 only", extra))
    rows.append(row_of(single, "dense", "embeddings only", extra))
    grid: list[tuple[str, dict[str, Any]]] = [
        (f"convex α={a:g}", {"fusion": "convex", "alpha": a}) for a in args.alphas
    ]
    grid += [(f"RRF k={k}", {"fusion": "rrf", "rrf_k": k}) for k in args.rrf_ks]
    weights = args.sentence_weights if target == args.detail_target else []
    for label, change in grid:
        for w in weights or [None]:
            settings = dict(change) if w is None else {**change, "sentence_weight": w}
            report = evaluate(base.with_settings(**settings), questions, ("hybrid",), args.k)
            plain = w is None or w == EngineSettings().sentence_weight
            tag = label if plain else f"{label}, sent.w={w:.2f}"
            rows.append(row_of(report, "hybrid", tag, {**extra, **settings}))
        print(f"  {label}: done ({time.perf_counter() - started:.0f} s)", file=sys.stderr)
    return rows


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f}"


def fusion_table(rows: list[dict[str, Any]]) -> str:
    """Markdown table of one passage size: every setting with paired wins against each baseline."""
    bm25 = next(r for r in rows if r["mode"] == "bm25")
    dense = next(r for r in rows if r["mode"] == "dense")
    out = [
        "| setting | R@1 | R@3 | R@5 | R@10 | MRR@10 | nDCG@10 | missed@5 "
        "| vs BM25 @5 (+/−) | vs emb. @5 (+/−) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        vs_b = "" if r is bm25 else "{} / {}".format(*paired(r, bm25))
        vs_d = "" if r is dense else "{} / {}".format(*paired(r, dense))
        out.append(
            f"| {r['label']} | {_pct(r['recall@1'])} | {_pct(r['recall@3'])} | {_pct(r['recall@5'])} | "
            f"{_pct(r['recall@10'])} | {r['mrr@10']:.3f} | {r['ndcg@10']:.3f} | {r['missed@5']} "
            f"| {vs_b} | {vs_d} |"
        )
    return "\n".join(out)


def size_table(all_rows: list[dict[str, Any]], labels: list[str]) -> str:
    """Passage sizes side by side for a few settings."""
    out = [
        "| passage size (target/max words) | passages | mean words | setting "
        "| R@1 | R@5 | R@10 | MRR@10 | nDCG@10 |",
        "|---|---:|---:|---|---:|---:|---:|---:|---:|",
    ]
    for r in all_rows:
        if r["label"] in labels:
            out.append(
                f"| {r['target_words']}/{r['max_words']} | {r['chunks']} | {r['mean_words']:.0f} "
                f"| {r['label']} | "
                f"{_pct(r['recall@1'])} | {_pct(r['recall@5'])} | {_pct(r['recall@10'])} | "
                f"{r['mrr@10']:.3f} | {r['ndcg@10']:.3f} |"
            )
    return "\n".join(out)


def threshold_table(rows: list[dict[str, Any]]) -> str:
    """Declined shares at each threshold for the given rows (confidence → abstain below)."""
    out = [
        "| threshold | "
        + " | ".join(f"{r['label']} ({r['target_words']}w): unans. / ans. declined %" for r in rows)
        + " |"
    ]
    out.append("|---:|" + "---:|" * len(rows))
    for t in THRESHOLDS:
        cells = []
        for r in rows:
            good = [c for q, c in r["confidence"].items() if r["answerable"][q]]
            bad = [c for q, c in r["confidence"].items() if not r["answerable"][q]]
            rates = abstention_rates(good, bad, t)
            cells.append(f"{_pct(rates['unanswerable_declined'])} / {_pct(rates['answerable_declined'])}")
        out.append(f"| {t:.2f} | " + " | ".join(cells) + " |")
    return "\n".join(out)


def confidence_gaps(row: dict[str, Any]) -> str:
    """The confidences around the decision: highest unanswerable vs lowest answerable."""
    good = sorted(c for q, c in row["confidence"].items() if row["answerable"][q])
    bad = sorted(c for q, c in row["confidence"].items() if not row["answerable"][q])
    return (
        f"{row['label']} ({row['target_words']}w): unanswerable confidences "
        f"{', '.join(f'{c:.2f}' for c in bad)}; "
        f"lowest answerable {', '.join(f'{c:.2f}' for c in good[:5])}"
    )


def _rows_json(rows: list[dict[str, Any]]) -> str:
    """One JSON object per line: the per-question maps make an indented file very long."""
    return "[\n" + ",\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n]\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", default=str(default_questions_path()))
    parser.add_argument("--targets", type=_ints, default=[60, 90, 120], help="passage sizes, e.g. 60,90,120")
    parser.add_argument("--alphas", type=_floats, default=[0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8])
    parser.add_argument("--rrf-ks", type=_ints, default=[10, 30, 60])
    parser.add_argument(
        "--sentence-weights",
        type=_floats,
        default=[],
        help="also sweep EngineSettings.sentence_weight on --detail-target (e.g. 0,0.5)",
    )
    parser.add_argument("--detail-target", type=int, default=90)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--work", default="/tmp/csto-qa-tune", help="folder for the per-size indexes")
    parser.add_argument("--out", default="tune-out", help="folder for tune.md and tune.json")
    args = parser.parse_args(argv)
    questions = read_questions(args.questions)
    started = time.perf_counter()
    from csto_qa.embedding.encoder import load_encoder

    memo = CachedQueryEncoder(load_encoder())
    all_rows: list[dict[str, Any]] = []
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    defaults = EngineSettings()
    md = [
        f"# Tuning sweep ({len(questions)} questions, k={args.k})",
        "",
        f"Other settings at their defaults: {defaults.to_dict()}. Recall in %, over answerable "
        "questions. *vs BM25 @5 (+/−)*: questions this setting finds in the top 5 that BM25 alone "
        "does not / that BM25 alone finds and this setting does not.",
        "",
    ]
    for target in args.targets:
        rows = sweep_chunking(target, args, questions, memo)
        all_rows.extend(rows)
        (out / "tune.json").write_text(_rows_json(all_rows), encoding="utf-8")  # partial results
        md += [
            f"## Passages of {target} words (max {rows[0]['max_words']}): {rows[0]['chunks']} passages",
            "",
        ]
        md += [fusion_table(rows), ""]
    default_label = (
        f"convex α={defaults.alpha:g}" if defaults.fusion == "convex" else f"RRF k={defaults.rrf_k}"
    )
    md += [
        "## Passage size",
        "",
        size_table(all_rows, ["BM25 only", "embeddings only", default_label, "RRF k=60"]),
        "",
    ]
    picks = [r for r in all_rows if r["label"] == default_label]
    picks += [
        r
        for r in all_rows
        if r["label"] in ("BM25 only", "embeddings only") and r["target_words"] == args.detail_target
    ]
    md += ["## Abstention threshold", "", threshold_table(picks), ""]
    md += ["Confidences around the decision:", ""]
    md += [f"- {confidence_gaps(r)}" for r in picks if r["mode"] == "hybrid"]
    md += ["", f"Sweep time {time.perf_counter() - started:.0f} s.", ""]
    (out / "tune.md").write_text("\n".join(md), encoding="utf-8")
    (out / "tune.json").write_text(_rows_json(all_rows), encoding="utf-8")
    print("\n".join(md))
    return 0


if __name__ == "__main__":
    sys.exit(main())

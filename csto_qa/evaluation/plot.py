"""The evaluation plot: recall@k by mode, recall@5 per category, the abstention trade-off
and the precision / coverage curve of the decline rule (one PNG, four panels).

matplotlib (Agg backend) is imported inside :func:`plot_report` only, so ``csto-qa eval
--help`` and the report's text parts never pay for it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from csto_qa.evaluation.results import EvalReport

MODE_COLORS = {"hybrid": "#1b6ca8", "bm25": "#e07b39", "dense": "#3a9d5d"}
MODE_LABELS = {"hybrid": "hybrid", "bm25": "BM25 only", "dense": "embeddings only"}


def pct(value: float | None) -> str:
    """A share as a percentage with one decimal, "–" when there is none."""
    return "–" if value is None else f"{100 * value:.1f}"


def settings_line(report: EvalReport) -> str:
    """The settings the figures were measured with, on one line (fusion, depth, threshold, model)."""
    s, ch = report.settings, report.index.get("chunking", {})
    fusion = f"convex α={s['alpha']}" if s.get("fusion") == "convex" else f"RRF k={s.get('rrf_k')}"
    return (
        f"fusion {fusion}, depth {s.get('depth')}, abstain below {s.get('abstain_threshold')}; "
        f"passages target {ch.get('target_words', '?')} / max {ch.get('max_words', '?')} words; "
        f"model {report.index.get('model', '?')}"
    )


def plot_report(report: EvalReport, path: Path) -> Path:
    """Recall@k curves by mode, recall@5 per category, the abstention trade-off and the
    precision / coverage curve of the decline rule."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cut = min(5, report.k)
    fig, axes = plt.subplots(
        2, 2, figsize=(15, 10), gridspec_kw={"width_ratios": [1, 1.4]}, constrained_layout=True
    )
    (ax1, ax2), (ax3, ax4) = axes
    ks = list(range(1, report.k + 1))
    for mode, s in report.summaries.items():
        color = MODE_COLORS.get(mode)
        ax1.plot(
            ks,
            [100 * v for v in s.recall_curve],
            marker="o",
            ms=4,
            lw=2,
            color=color,
            label=f"{MODE_LABELS.get(mode, mode)} (R@{cut} {pct(s.metrics.get(f'recall@{cut}'))}%)",
        )
    lowest = min((v for s in report.summaries.values() for v in s.recall_curve), default=0.0)
    bottom = max(0, 10 * int(100 * lowest / 10) - 10)  # zoom in: the curves differ by a few points
    ax1.axvline(cut, color="grey", ls=":", lw=1)
    ax1.set(
        xlabel="k (passages shown)",
        ylabel="answer-recall@k (%)",
        title="Answer-recall@k by mode" + (f" (axis from {bottom}%)" if bottom else ""),
        xticks=ks,
        ylim=(bottom, 100),
    )
    ax1.grid(alpha=0.3)
    ax1.legend(loc="lower right", fontsize=9)

    cats = [
        c for c in report.categories if f"recall@{cut}" in report.summaries[report.modes[0]].categories[c]
    ]
    width = 0.8 / max(len(report.modes), 1)
    for j, mode in enumerate(report.modes):
        values = [100 * report.summaries[mode].categories[c][f"recall@{cut}"] for c in cats]
        xs = [i + (j - (len(report.modes) - 1) / 2) * width for i in range(len(cats))]
        bars = ax2.bar(xs, values, width, color=MODE_COLORS.get(mode), label=MODE_LABELS.get(mode, mode))
        ax2.bar_label(bars, fmt="%.0f", fontsize=7, padding=1)
    counts = [int(report.summaries[report.modes[0]].categories[c]["n"]) for c in cats]
    ax2.set_xticks(
        range(len(cats)),
        [f"{c.replace('_', chr(10))}\n(n={n})" for c, n in zip(cats, counts, strict=True)],
        fontsize=9,
    )
    ax2.set(
        ylabel=f"answer-recall@{cut} (%)", title=f"Answer-recall@{cut} by question category", ylim=(0, 119)
    )
    ax2.set_yticks(range(0, 101, 20))
    ax2.grid(axis="y", alpha=0.3)
    ax2.legend(loc="upper center", fontsize=9, ncols=len(report.modes), frameon=False)

    _plot_abstention(ax3, report)
    _plot_precision_coverage(ax4, report)
    fig.suptitle(
        f"csto-qa evaluation: {report.n_answerable} answerable + "
        f"{report.n_unanswerable} unanswerable questions\n{settings_line(report)}",
        fontsize=10,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _plot_abstention(ax: Any, report: EvalReport) -> None:
    """Declined shares of the first mode (hybrid by default) as the threshold moves."""
    mode = "hybrid" if "hybrid" in report.modes else report.modes[0]
    mine = [r for r in report.results if r.mode == mode]
    good = [r.confidence for r in mine if r.answerable]
    bad = [r.confidence for r in mine if not r.answerable]
    grid = [round(0.1 + 0.005 * i, 3) for i in range(141)]  # 0.10 .. 0.80
    groups = [("unanswerable", bad, "-")]
    for scope, style in (("off_topic", ":"), ("on_topic", "-.")):
        scoped = [r.confidence for r in mine if not r.answerable and r.scope == scope]
        if scoped:
            groups.append((scope.replace("_", "-"), scoped, style))
    for label, values, style in groups if bad else []:
        ax.plot(
            grid,
            [100 * sum(c < t for c in values) / len(values) for t in grid],
            color="#2a7f3f",
            lw=2.2 if style == "-" else 1.6,
            ls=style,
            label=f"{label} declined (good, n={len(values)})",
        )
    if good:
        ax.plot(
            grid,
            [100 * sum(c < t for c in good) / len(good) for t in grid],
            color="#c0392b",
            lw=2.2,
            ls="--",
            label=f"answerable declined (wrong, n={len(good)})",
        )
    threshold = report.settings.get("abstain_threshold")
    if threshold is not None:
        ax.axvline(threshold, color="black", ls=":", lw=1.2)
        ax.annotate(f" current threshold {threshold:.2f}", (threshold, 101), fontsize=8)
    ax.set(
        xlabel="abstain when answer confidence <",
        ylabel="% declined",
        title=f"Abstention trade-off ({mode})",
        ylim=(0, 108),
        xlim=(grid[0], grid[-1]),
    )
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")


def _plot_precision_coverage(ax: Any, report: EvalReport) -> None:
    """Per mode: precision of the lead sentence against coverage as the confidence threshold
    moves, with the engine's own decisions marked as a point."""
    for mode, s in report.summaries.items():
        points = [p for p in s.precision_coverage if p.get("precision") is not None]
        if not points:
            continue
        color = MODE_COLORS.get(mode)
        lead = s.metrics.get("lead_accuracy")
        ax.plot(
            [100 * float(p["coverage"] or 0.0) for p in points],
            [100 * float(p["precision"] or 0.0) for p in points],
            color=color,
            lw=2,
            label=f"{MODE_LABELS.get(mode, mode)} (lead {pct(lead)}%)",
        )
        op = s.operating_point or {}
        if op.get("precision") is not None and op.get("coverage") is not None:
            ax.plot(
                [100 * float(op["coverage"] or 0.0)],
                [100 * float(op["precision"] or 0.0)],
                marker="o",
                ms=8,
                color=color,
                mec="black",
            )
    ax.set(
        xlabel="coverage: answerable questions answered (%)",
        ylabel="precision: answered with the right lead sentence (%)",
        title="Decline rule: precision / coverage on answer confidence (dot: engine's decisions)",
        xlim=(0, 102),
        ylim=(0, 102),
    )
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower left")

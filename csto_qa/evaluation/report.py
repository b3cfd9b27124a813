"""Rendering of an :class:`~csto_qa.evaluation.results.EvalReport`: terminal table, Markdown and JSON;
the PNG is drawn by :mod:`csto_qa.evaluation.plot`.

    write_report(report, Path("eval-out"))   # results.json, report.md, plot.png
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any

from csto_qa.evaluation.plot import pct, plot_report, settings_line

if TYPE_CHECKING:
    from csto_qa.evaluation.results import EvalReport

JSON_NAME = "results.json"
MARKDOWN_NAME = "report.md"
PLOT_NAME = "plot.png"


def _columns(report: EvalReport) -> list[tuple[str, str, str]]:
    """(metric key, short header, kind) of the main table, in order."""
    cols = [(f"recall@{c}", f"R@{c}", "pct") for c in report.cutoffs]
    cols += [(f"mrr@{report.depth}", f"MRR@{report.depth}", "num")]
    cols += [(f"ndcg@{report.depth}", f"nDCG@{report.depth}", "num")]
    cols += [("mean_words", "words", "int")]
    cols += [
        ("unanswerable_declined", "unans. declined", "pct"),
        ("answerable_declined", "ans. declined", "pct"),
    ]
    return cols


def _cell(value: float | None, kind: str) -> str:
    if value is None:
        return "–"
    if kind == "pct":
        return pct(value)
    if kind == "int":
        return f"{value:.0f}"
    return f"{value:.3f}"


def _mode_rows(report: EvalReport) -> tuple[list[str], list[list[str]]]:
    cols = _columns(report)
    header = ["mode", *(h for _, h, _ in cols), f"missed@{min(5, report.k)}"]
    rows = []
    for mode, s in report.summaries.items():
        cells = [_cell(s.metrics.get(key), kind) for key, _, kind in cols]
        rows.append([mode, *cells, str(len(s.misses))])
    return header, rows


ANSWER_COLUMNS = (
    ("recall@1", "R@1"),
    ("lead_accuracy", "lead"),
    ("phrase_accuracy", "phrase"),
    ("phrase_given", "phrase shown"),
    ("phrase_precision", "phrase right when shown"),
)
DECLINE_COLUMNS = (
    ("answerable_declined", "wrongly declined"),
    ("off_topic_declined", "off-topic declined"),
    ("on_topic_declined", "on-topic declined"),
    ("unanswerable_declined", "all unans. declined"),
)


def _answer_rows(
    report: EvalReport,
    columns: tuple[tuple[str, str], ...] = ANSWER_COLUMNS + DECLINE_COLUMNS,
    with_point: bool = True,
) -> tuple[list[str], list[list[str]]]:
    """Per mode, what a user reads: R@1, lead sentence and phrase right, declined shares,
    and (``with_point``) the precision / coverage of the engine's own decisions."""
    header = ["mode", *(h for _, h in columns), *(["precision / coverage"] if with_point else [])]
    rows = []
    for mode, s in report.summaries.items():
        cells = [pct(s.metrics.get(key)) for key, _ in columns]
        point = s.operating_point or {}
        if with_point:
            cells.append(f"{pct(point.get('precision'))} / {pct(point.get('coverage'))}")
        rows.append([mode, *cells])
    return header, rows


def _follow_up_rows(report: EvalReport) -> tuple[list[str], list[list[str]]]:
    """Second turns of conversations: retrieval with the engine's history, alone, joined."""
    depth = report.depth
    header = ["mode", "n"]
    for name in ("engine", "alone", "joined"):
        header += [f"{name} R@1", f"{name} R@5", f"{name} MRR"]
    header.append("engine ≥ best")
    rows = []
    for mode, s in report.summaries.items():
        f = s.follow_up
        if not f:
            continue
        cells = [mode, str(int(f["n"]))]
        for name in ("engine", "alone", "joined"):
            cells += [
                pct(f[f"{name}_recall@1"]),
                pct(f[f"{name}_recall@5"]),
                f"{f[f'{name}_mrr@{depth}']:.3f}",
            ]
        cells.append(pct(f["engine_at_least_best"]))
        rows.append(cells)
    return header, rows


def _category_rows(report: EvalReport) -> tuple[list[str], list[list[str]]]:
    """Per category and mode: R@5 / lead-sentence accuracy (declined share for unanswerable)."""
    cut = min(5, report.k)
    header = ["category", "n", *(f"{m} R@{cut} / lead" for m in report.modes)]
    rows = []
    for cat in report.categories:
        first = report.summaries[report.modes[0]].categories[cat]
        cells = []
        for mode in report.modes:
            fig = report.summaries[mode].categories[cat]
            if f"recall@{cut}" in fig:
                cells.append(f"{pct(fig[f'recall@{cut}'])} / {pct(fig.get('lead_accuracy'))}")
            else:
                cells.append(f"{pct(fig.get('unanswerable_declined'))} declined")
        rows.append([cat, str(int(first["n"])), *cells])
    return header, rows


def _declined_rows(report: EvalReport) -> tuple[list[str], list[list[str]]]:
    """Unanswerable questions by scope: how many and the share each mode declines."""
    header = ["unanswerable", "n", *(f"{m} declined" for m in report.modes)]
    rows = []
    first = report.summaries[report.modes[0]].metrics
    for scope, label in (("off_topic", "off-topic"), ("on_topic", "on-topic")):
        if f"n_{scope}" in first:
            cells = [pct(report.summaries[m].metrics.get(f"{scope}_declined")) for m in report.modes]
            rows.append([label, str(int(first[f"n_{scope}"])), *cells])
    return header, rows


def _text_table(header: list[str], rows: list[list[str]]) -> str:
    widths = [
        max(len(header[i]), *(len(r[i]) for r in rows)) if rows else len(header[i])
        for i in range(len(header))
    ]

    def line(cells: list[str]) -> str:
        first = cells[0].ljust(widths[0])
        return "  ".join([first, *(c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True))])

    return "\n".join([line(header), "  ".join("-" * w for w in widths), *(line(r) for r in rows)])


def _md_table(header: list[str], rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out)


def render_table(report: EvalReport) -> str:
    """The terminal summary: per-mode figures, per-category R@5 and the missed ids."""
    parts = [
        f"{report.n_questions} questions ({report.n_answerable} answerable, "
        f"{report.n_unanswerable} unanswerable), k={report.k}, {report.seconds:.0f} s",
        settings_line(report),
        "recall figures in %, over answerable questions",
        "",
        _text_table(*_mode_rows(report)),
        "",
        "answer level in %: lead sentence / answer phrase right, declined by the engine's own rule",
        _text_table(*_answer_rows(report, ANSWER_COLUMNS, with_point=False)),
        "",
        _text_table(*_answer_rows(report, DECLINE_COLUMNS)),
        "",
        _text_table(*_category_rows(report)),
    ]
    follow = _follow_up_rows(report)
    if follow[1]:
        parts += [
            "",
            "follow-ups (second turn): with the engine's history, alone, previous joined",
            _text_table(*follow),
        ]
    for mode, s in report.summaries.items():
        if s.misses:
            ids = " ".join(m["id"] for m in s.misses)
            parts.append("")
            parts.append(textwrap.fill(f"{mode} missed at {min(5, report.k)}: {ids}", 100))
    return "\n".join(parts)


def readme_table(report: EvalReport) -> str:
    """The per-mode Markdown table for the README."""
    header, rows = _mode_rows(report)
    header = [h if h.startswith(("mode", "words", "missed", "MRR", "nDCG")) else f"{h} %" for h in header]
    return _md_table(header, [[f"**{r[0]}**" if r[0] == "hybrid" else r[0], *r[1:]] for r in rows])


def _short(text: str, limit: int = 220) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|")


def render_markdown(report: EvalReport, plot_name: str | None = PLOT_NAME) -> str:
    """The full Markdown report: tables, abstention sweep, and every miss with its top passage."""
    cut = min(5, report.k)
    lines = [
        "# csto-qa retrieval and answer evaluation",
        "",
        f"Questions: `{Path(report.questions_file).name or '(in memory)'}`, {report.n_questions} "
        f"({report.n_answerable} answerable, {report.n_unanswerable} unanswerable); k = {report.k}.",
        f"Settings: {settings_line(report)}.",
        "",
        "A passage is relevant when its text contains one of the question's answer strings "
        "(whitespace-normalised). Recall@k (answer-recall) is the share of answerable questions "
        "with a relevant passage in the top k; MRR and nDCG (binary gains, ideal = min(#relevant "
        f"chunks, {report.depth})) are over answerable questions; *words* is the mean passage length. "
        "*unans. declined*: share of unanswerable questions the app declines (higher is better); "
        "*ans. declined*: share of answerable questions it wrongly declines (lower is better).",
        "",
    ]
    if plot_name:
        lines += [f"![recall@k by mode and recall@{cut} by category]({plot_name})", ""]
    lines += ["## By mode", "", readme_table(report), ""]
    lines += [
        "## Answer level (%)",
        "",
        "*R@1*: the first passage holds an answer string. *lead*: the highlighted sentence of the "
        "first passage holds one (what the reply shows in bold). *phrase*: the marked answer phrase "
        "holds one, or is a run of an answer string's words that adds a word the question lacks and "
        "holds a number or capitalised word or half the string (no phrase marked counts as wrong); "
        "*phrase shown*: share with a phrase marked; *phrase right when shown*: of those, the share "
        "right. *wrongly declined*: answerable questions the engine "
        "declines; *off-/on-topic declined*: unanswerable questions it declines, by scope. "
        "*precision / coverage*: of the questions the engine answers, the share whose lead sentence "
        "is right (an answered unanswerable question is wrong), and the share of answerable "
        "questions it answers. Lead and phrase are judged on the list the engine would show, "
        "also when it declines.",
        "",
        _md_table(*_answer_rows(report)),
        "",
    ]
    declined = _declined_rows(report)
    if declined[1]:
        lines += [_md_table(*declined), ""]
    follow = _follow_up_rows(report)
    if follow[1]:
        lines += [
            "## Follow-ups: second turn of a conversation (%)",
            "",
            "*engine*: asked with the earlier question as history, as the app asks it; *alone*: the "
            "second question by itself; *joined*: the earlier question and this one as one query. "
            "*engine ≥ best*: share of conversations where the engine's reciprocal rank is at least "
            "the better of the other two.",
            "",
            _md_table(*follow),
            "",
        ]
    lines += [f"## Recall@{cut} / lead-sentence accuracy by category (%)", ""]
    lines += [_md_table(*_category_rows(report)), ""]
    lines += ["## Abstention by threshold on answer confidence", ""]
    split = "on_topic_declined" in (report.summaries[report.modes[0]].abstention or [{}])[0]
    shown = "unans. (off / on) / ans. declined %" if split else "unans. / ans. declined %"
    header = ["threshold", *(f"{m}: {shown}" for m in report.modes)]
    lines += [
        "Declined shares if the engine declined exactly when answer confidence < threshold "
        "(a what-if on `Answer.confidence`; the engine's own rule decides the figures above).",
        "",
    ]
    rows = []
    for i, point in enumerate(report.summaries[report.modes[0]].abstention):
        cells = []
        for mode in report.modes:
            p = report.summaries[mode].abstention[i]
            unans = pct(p["unanswerable_declined"])
            if split:
                unans += f" ({pct(p.get('off_topic_declined'))} / {pct(p.get('on_topic_declined'))})"
            cells.append(f"{unans} / {pct(p['answerable_declined'])}")
        rows.append([f"{point['threshold']:.2f}", *cells])
    lines += [_md_table(header, rows), ""]
    lines += _precision_coverage_table(report)
    lines += _answer_misses(report)
    for mode, s in report.summaries.items():
        lines += [f"## Missed at {cut} by {mode} ({len(s.misses)})", ""]
        if not s.misses:
            lines += ["None.", ""]
            continue
        lines += [
            "| id | category | question | answers | first hit | top passage returned (its highlight) |",
            "|---|---|---|---|---:|---|",
        ]
        for m in s.misses:
            top = m["top"]
            where = (
                "nothing"
                if top is None
                else f"*{top['doc']}*" + (f" › {top['section']}" if top["section"] else "")
            )
            passage = "" if top is None else ": " + _md_escape(_short(top["highlight"] or top["text"]))
            lines.append(
                f"| {m['id']} | {m['category']} | {_md_escape(m['question'])} | "
                f"{_md_escape(' / '.join(m['answers']))} | {m['first_relevant'] or '–'} | {where}{passage} |"
            )
        lines.append("")
    return "\n".join(lines)


def _precision_coverage_table(report: EvalReport) -> list[str]:
    """Coverage / precision / unanswerable declined at the thresholds of the abstention sweep."""
    first = report.summaries[report.modes[0]]
    wanted = [p["threshold"] for p in first.abstention]
    header = ["threshold", *(f"{m}: coverage / precision / unans. declined %" for m in report.modes)]
    rows = []
    for t in wanted:
        cells = []
        for mode in report.modes:
            point = next((p for p in report.summaries[mode].precision_coverage if p["threshold"] == t), None)
            if point is None:
                cells.append("–")
                continue
            figures = (point["coverage"], point["precision"], point["unanswerable_declined"])
            cells.append(" / ".join(pct(v) for v in figures))
        rows.append([f"{t:.2f}", *cells])
    if not rows or not first.precision_coverage:
        return []
    return [
        "## Precision / coverage if answering only at confidence ≥ threshold",
        "",
        "*coverage*: answerable questions answered; *precision*: answered questions whose lead "
        "sentence is right (an answered unanswerable question counts as wrong).",
        "",
        _md_table(header, rows),
        "",
    ]


def _answer_misses(report: EvalReport) -> list[str]:
    """For the first mode: answerable questions whose lead sentence is wrong, and unanswerable
    questions the engine answered, each with the lead sentence it showed."""
    mode = report.modes[0]
    mine = [r for r in report.results if r.mode == mode]
    wrong_lead = [r for r in mine if r.answerable and not r.lead_correct]
    answered = [r for r in mine if not r.answerable and not r.abstained]
    lines = [f"## Lead sentence wrong ({mode}, {len(wrong_lead)} of {sum(r.answerable for r in mine)})", ""]
    if report.lead_unreachable:
        lines += [
            f"{len(report.lead_unreachable)} of them cannot be right with a one-sentence lead: every "
            "answer string crosses a sentence boundary of the index: "
            + ", ".join(report.lead_unreachable)
            + ".",
            "",
        ]
    lines += [
        "| id | category | question | answers | R@1 | lead sentence shown |",
        "|---|---|---|---|---|---|",
    ]
    for r in wrong_lead:
        lead = _md_escape(_short((r.top or {}).get("highlight") or "", 160)) if r.top else "nothing"
        lines.append(
            f"| {r.id} | {r.category} | {_md_escape(r.question)} | {_md_escape(' / '.join(r.answers))} | "
            f"{'yes' if r.flags[:1] == [True] else 'no'} | {lead} |"
        )
    lines += [
        "",
        f"## Unanswerable but answered ({mode}, {len(answered)} of {sum(not r.answerable for r in mine)})",
        "",
    ]
    lines += ["| id | scope | question | confidence | lead sentence shown |", "|---|---|---|---:|---|"]
    for r in answered:
        lead = _md_escape(_short((r.top or {}).get("highlight") or "", 160)) if r.top else "nothing"
        lines.append(
            f"| {r.id} | {r.scope or '–'} | {_md_escape(r.question)} | {r.confidence:.2f} | {lead} |"
        )
    return [*lines, ""]


def _json_text(data: dict[str, Any]) -> str:
    """Indented JSON with one line per question result, so the file stays short and diffable."""
    results = data.pop("results", [])
    head = json.dumps(data, ensure_ascii=False, indent=1)
    rows = ",\n".join("  " + json.dumps(r, ensure_ascii=False) for r in results)
    return f'{head[:-2]},\n "results": [\n{rows}\n ]\n}}\n'


def write_report(report: EvalReport, out_dir: Path) -> dict[str, Path]:
    """Write ``results.json``, ``report.md`` and ``plot.png`` into ``out_dir``; returns the paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"json": out_dir / JSON_NAME, "markdown": out_dir / MARKDOWN_NAME, "plot": out_dir / PLOT_NAME}
    paths["json"].write_text(_json_text(report.to_dict()), encoding="utf-8")
    paths["markdown"].write_text(render_markdown(report, PLOT_NAME) + "\n", encoding="utf-8")
    plot_report(report, paths["plot"])
    return paths

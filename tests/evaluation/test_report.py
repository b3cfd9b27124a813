"""The evaluation report (eval_report.py): JSON, Markdown, the README table and the plot, from
a report of the stand-in engine (the ``fake_report`` fixture)."""

from __future__ import annotations

import json
from pathlib import Path

from fakes import EVAL_QUESTIONS as QUESTIONS

from csto_qa.evaluation.report import readme_table, render_markdown, render_table, write_report


def test_report_writer_writes_json_markdown_and_png(fake_report, tmp_path: Path) -> None:
    paths = write_report(fake_report, tmp_path / "out")
    data = json.loads(paths["json"].read_text(encoding="utf-8"))
    assert data["summaries"]["hybrid"]["metrics"]["recall@2"] == 1.0
    assert len(data["results"]) == len(QUESTIONS) * 2
    markdown = paths["markdown"].read_text(encoding="utf-8")
    assert "| hybrid" in markdown or "| **hybrid**" in markdown
    assert "q2" in markdown and "plot.png" in markdown
    png = paths["plot"].read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 10_000
    table = render_table(fake_report)
    assert "hybrid" in table and "bm25 missed at 2: q2" in table
    assert readme_table(fake_report).startswith("| mode")
    assert "Missed at 2 by bm25 (1)" in render_markdown(fake_report)

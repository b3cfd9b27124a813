"""The command line: help, readable and JSON output, errors without tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from csto_qa.cli import main

ROOT = Path(__file__).resolve().parent.parent


def run_cli(*args: str, stdin: str | None = None, env: dict[str, str] | None = None):
    return subprocess.run(
        [sys.executable, "-m", "csto_qa.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        timeout=600,
    )


def test_help_lists_every_command_and_no_tooling() -> None:
    result = run_cli("--help")
    assert result.returncode == 0
    for command in ("ask", "index", "eval", "app"):
        assert command in result.stdout
    assert "bench" not in result.stdout  # the benchmarks are tooling: python -m benchmarks.bench


def test_help_does_not_import_heavy_libraries() -> None:
    code = (
        "import sys; from csto_qa.cli import build_parser; build_parser(); "
        "heavy = [m for m in ('torch', 'sentence_transformers', 'gradio', 'faiss', 'numpy', 'matplotlib', "
        "'benchmarks', 'csto_qa.engine') "
        "if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_bad_k_is_one_line_on_stderr_and_exit_2(capsys) -> None:
    assert main(["ask", "When?", "--k", "0"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "k=0" in err[0]


def test_missing_corpus_is_a_clear_error(tmp_path: Path, capsys) -> None:
    code = main(["index", "--corpus-dir", str(tmp_path / "nowhere"), "--index-dir", str(tmp_path / "ix")])
    err = capsys.readouterr().err
    assert code == 2 and "nowhere" in err and "Traceback" not in err


@pytest.mark.slow
def test_ask_json_reads_questions_from_stdin(index_dir: Path, corpus_dir: Path) -> None:
    questions = "When did Uzbekistan suspend its CSTO membership?\n\nwho won the 2018 football world cup\n"
    result = run_cli(
        "ask", "--json", "--index-dir", str(index_dir), "--corpus-dir", str(corpus_dir), stdin=questions
    )
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["abstained"] for line in lines] == [False, True]
    assert "28 June 2012" in lines[0]["passages"][0]["text"]


@pytest.mark.slow
def test_ask_prints_readable_citations(index_dir: Path, corpus_dir: Path) -> None:
    result = run_cli(
        "ask",
        "When did Uzbekistan suspend its CSTO membership?",
        "--k",
        "2",
        "--index-dir",
        str(index_dir),
        "--corpus-dir",
        str(corpus_dir),
    )
    assert result.returncode == 0, result.stderr
    assert "[1]" in result.stdout and "28 June 2012" in result.stdout and "[3]" not in result.stdout


def test_a_declined_answer_still_lists_the_closest_passages() -> None:
    from csto_qa.cli import format_answer
    from csto_qa.records import Answer, Passage

    passage = Passage(
        rank=1, doc="d", title="Doc", section="Budget", start=0, end=10, text="x", highlight="raw | form",
        highlight_start=0, highlight_end=5, score=1.0, bm25_score=None, bm25_rank=None, dense_score=None,
        dense_rank=None, sources=["d"], highlight_display="Readable: form",
    )  # fmt: skip
    declined = Answer("What is the budget?", "q", "hybrid", True, [passage], 0.2, "The documents do not say.")
    text = format_answer(declined)
    assert "The documents do not say." in text and "[1] Doc — Budget: Readable: form" in text
    assert "[1]" not in format_answer(Answer("q", "q", "hybrid", True, [], 0.1, "No."))

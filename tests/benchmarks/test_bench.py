"""``python -m benchmarks.bench`` runs and reports every figure the README quotes.

Timing values are never asserted (they depend on the machine): only that each figure is
there and is a number. A tiny corpus keeps this to seconds.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fakes import write_tiny_corpus

from benchmarks import bench
from benchmarks.measure import CPU, STAGES, percentile, summary, time_questions
from csto_qa.errors import CstoQaError


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("bench")
    return {"root": root, "corpus": write_tiny_corpus(root / "corpus"), "index": root / "index"}


def is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value >= 0


def test_stage_timings_come_from_the_engine_public_api(tiny_fake_engine) -> None:
    engine = tiny_fake_engine
    samples = time_questions(
        engine, ["When was the CSTO founded?", "Who froze its participation?"], 3, "hybrid", 2
    )
    assert set(samples) == {*STAGES, CPU}
    assert all(len(values) == 4 and all(is_number(v) for v in values) for values in samples.values())
    for i, end_to_end in enumerate(samples["end_to_end"]):  # the parts never exceed the whole
        assert samples["encode"][i] + samples["assembly"][i] <= end_to_end
        assert samples[CPU][i] <= end_to_end + 1.0  # CPU time of one thread, within clock granularity


def test_empty_questions_are_refused_with_the_reason(tiny_fake_engine) -> None:
    engine = tiny_fake_engine
    with pytest.raises(CstoQaError, match="timed no retrieval"):
        time_questions(engine, ["   "], 3, "hybrid", 1)


def test_summaries_by_hand() -> None:
    assert summary([1.0, 2.0, 3.0, 10.0]) == {
        "median_ms": 2.5,
        "p95_ms": 8.95,
        "mean_ms": 4.0,
        "max_ms": 10.0,
        "n": 4,
    }
    assert summary([])["n"] == 0
    assert percentile([], 95) == 0.0 and percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 95) == 4.0


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--k", "0"], "--k 0"),
        (["--k", "51"], "from 1 to 50"),
        (["--repeat", "0"], "--repeat"),
        (["--limit", "0"], "--limit"),
    ],
)
def test_bad_options_fail_before_the_model_loads(argv: list[str], message: str, capsys) -> None:
    assert bench.main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]


@pytest.mark.slow
def test_bench_reports_every_figure(tiny: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    out = tiny["root"] / "out"
    argv = ["--corpus-dir", str(tiny["corpus"]), "--index-dir", str(tiny["index"]), "--out", str(out)]
    argv += ["--repeat", "1", "--cold-runs", "1", "--limit", "4", "--skip", "app"]
    assert bench.main(argv) == 0
    report = json.loads((out / "bench.json").read_text(encoding="utf-8"))
    stages = report["query"]["stages"]
    assert set(stages) == {*STAGES, CPU}
    for stage in stages.values():
        assert all(is_number(stage[key]) for key in ("median_ms", "p95_ms", "mean_ms", "max_ms"))
        assert stage["n"] == 4
    assert is_number(report["query"]["target"]["end_to_end_p95_over_encode_p95"])
    median = report["query"]["median_target"]
    assert is_number(median["end_to_end_median_over_encode_median"]) and median["limit"] == 1.3
    build = report["build"]
    assert build["chunks"] >= 1 and build["sentences"] >= build["chunks"] and build["cli_index_ok"] is True
    for key in (
        "in_process_s",
        "chunks_per_s",
        "cli_index_s",
        "cli_index_empty_model_cache_s",
        "cli_index_peak_mb",
    ):
        assert is_number(build[key]), key
    startup = report["startup"]
    for name in ("help", "index_load", "model_load", "cli_first_answer"):
        assert startup[name]["ok"] is True, startup[name]
        assert is_number(startup[name]["median_s"]) and startup[name]["peak_mb"] > 0
    assert is_number(startup["index_load"]["in_process_median_s"])
    assert "skipped" in startup["app_ready"]
    assert report["memory"]["bench_peak_mb"] > 0
    table = capsys.readouterr().out
    for word in ("end_to_end", "Index build", "cli_first_answer", "Peak memory"):
        assert word in table


@pytest.mark.slow
def test_app_ready_is_measured(tiny: dict[str, Path]) -> None:
    pytest.importorskip("gradio")
    figure = bench.app_ready(["--index-dir", str(tiny["index"]), "--corpus-dir", str(tiny["corpus"])])
    assert is_number(figure["wall_s"]) and figure["peak_mb"] > 0


def test_the_engine_times_each_stage_and_the_stages_make_the_total(tiny_fake_engine) -> None:
    engine = tiny_fake_engine
    answer = engine.ask("and when did it leave?", history=["When did Uzbekistan join the CSTO?"])
    t = answer.timings_ms
    assert set(t) == {"rewrite", "encode", "retrieve", "assemble", "total"}
    assert all(is_number(v) for v in t.values())
    parts = t["rewrite"] + t["encode"] + t["retrieve"] + t["assemble"]
    assert parts == pytest.approx(t["total"], abs=1e-6)  # the follow-up rewrite is not inside encode

"""``csto-qa eval``: evaluation logic on a stand-in engine, the report files, questions-file
errors, a user-supplied set through the CLI, and the retrieval-quality regression floors."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from fakes import EVAL_QUESTIONS as QUESTIONS
from fakes import EVAL_RANKINGS as RANKINGS
from fakes import EVAL_TEXTS as TEXTS
from fakes import RankingEngine as FakeEngine
from fakes import eval_question as _q

from csto_qa.cli import main
from csto_qa.errors import CstoQaError, QueryError
from csto_qa.evaluation.evaluate import QuestionsFileError, evaluate, parse_modes, read_questions
from csto_qa.evaluation.questions import EvalQuestion, default_questions_path, load_questions
from csto_qa.evaluation.report import render_markdown, render_table, write_report

# Regression floors for hybrid retrieval on corpus/eval/questions.jsonl with the shipped
# defaults, a little below the measured values (docs/eval/report.md: recall@5 0.958 = 136/142,
# MRR@10 0.855). The run is deterministic, so falling below them means a change made
# retrieval worse; the margin (4-5 questions at recall@5) leaves room for harmless reordering.
HYBRID_RECALL_AT_5_FLOOR = 0.93
HYBRID_MRR_AT_10_FLOOR = 0.84
# Answer-level floors, measured before the answer-precision work (docs/eval/report.md):
# lead 0.613 = 87/142, off-topic declined 4/7, wrongly declined 0/142, follow-up second
# turns R@5 23/24. Floors sit about five questions below (one below for off-topic).
HYBRID_LEAD_FLOOR = 0.58
HYBRID_OFF_TOPIC_DECLINED_FLOOR = 0.5
HYBRID_WRONGLY_DECLINED_CEILING = 0.05
HYBRID_FOLLOW_UP_RECALL_AT_5_FLOOR = 0.9


def test_evaluate_figures_on_a_stand_in_engine(fake_report) -> None:
    hybrid = fake_report.summaries["hybrid"].metrics
    assert fake_report.cutoffs == [1, 2]
    assert hybrid["recall@1"] == pytest.approx(0.5)
    assert hybrid["recall@2"] == pytest.approx(1.0)
    assert hybrid["mrr@2"] == pytest.approx((1 + 0.5) / 2)
    assert hybrid["unanswerable_declined"] == 1.0
    assert hybrid["answerable_declined"] == pytest.approx(0.5)
    bm25 = fake_report.summaries["bm25"]
    assert bm25.metrics["recall@2"] == pytest.approx(0.5)
    assert bm25.metrics["unanswerable_declined"] == 0.0
    assert [m["id"] for m in bm25.misses] == ["q2"]
    assert bm25.misses[0]["top"]["text"] == TEXTS["b"]  # the passage it returned first
    assert bm25.categories["people_countries"]["recall@2"] == 0.0
    assert fake_report.summaries["hybrid"].recall_curve == [0.5, 1.0]


def test_declined_is_the_engines_decision_and_the_list_is_still_judged() -> None:
    engine = FakeEngine(RANKINGS, decline_below=0.9)  # declines everything but q1 (0.8 < 0.9 too)
    report = evaluate(engine, QUESTIONS, ["hybrid"], k=2)
    hybrid = report.summaries["hybrid"].metrics
    assert hybrid["answerable_declined"] == 1.0 and hybrid["unanswerable_declined"] == 1.0
    assert hybrid["recall@2"] == 1.0  # judged on the list it would have shown
    # asked once as the app asks, then once more with abstain=False because it declined
    assert engine.calls[:2] == [("when signed", (), True), ("when signed", (), False)]
    lenient = evaluate(FakeEngine(RANKINGS, decline_below=0.0), QUESTIONS, ["hybrid"], k=2)
    assert lenient.summaries["hybrid"].metrics["unanswerable_declined"] == 0.0


ANSWER_TEXT_QUESTIONS = [
    _q("a1", "when signed", ["15 May 1992"], "dates_numbers"),
    _q("a2", "where meet", ["Moscow"], "lexical"),
    _q("a3", "who froze", ["Armenia"], "people_countries"),
    _q("a4", "when froze", ["2024"], "dates_numbers"),
    EvalQuestion("u1", "budget", (), (), "unanswerable", False, scope="on_topic", probe=("budget",)),
    EvalQuestion("u2", "pizza", (), (), "unanswerable", False, scope="off_topic"),
    EvalQuestion("u3", "navy", (), (), "unanswerable", False, scope="on_topic", probe=("navy",)),
    EvalQuestion("f1", "and when?", ("2024",), ("doc",), "follow_up", True, history=("who froze",)),
]
ANSWER_RANKINGS = {
    ("when signed", "hybrid"): (["a:signed on 15 May 1992"], 0.8),  # lead right
    ("where meet", "hybrid"): (["b:Members meet every year."], 0.7),  # passage right, lead wrong
    ("who froze", "hybrid"): (["b", "c"], 0.6),  # first passage wrong: lead wrong
    ("when froze", "hybrid"): (["c:Armenia froze its participation in 2024."], 0.3),  # declined
    ("budget", "hybrid"): (["b"], 0.5),  # answered: wrong
    ("pizza", "hybrid"): (["b"], 0.1),  # declined
    ("navy", "hybrid"): (["b"], 0.2),  # declined
    ("who froze and when?", "hybrid"): (["c"], 0.9),  # engine with history: rank 1
    ("and when?", "hybrid"): (["a", "b", "c"], 0.5),  # alone: rank 3
}
PHRASES = {"when signed": "15 May 1992", "where meet": "every year", "when froze": "2024"}


def test_answer_level_figures_by_hand() -> None:
    engine = FakeEngine(ANSWER_RANKINGS, PHRASES, decline_below=0.4)
    summary = evaluate(engine, ANSWER_TEXT_QUESTIONS, ["hybrid"], k=3).summaries["hybrid"]
    m = summary.metrics
    # answerable: a1 a2 a3 a4 f1 (5). R@1: a1, a2, a4, f1 → 4/5.
    assert m["recall@1"] == pytest.approx(4 / 5)
    # lead: a1 (highlight holds it), a4 (declined, but its list's lead holds it), f1 → 3/5.
    assert m["lead_accuracy"] == pytest.approx(3 / 5)
    # phrase: a1 and a4 right, a2 marked but wrong, a3 and f1 none marked → 2/5.
    assert m["phrase_accuracy"] == pytest.approx(2 / 5)
    assert m["phrase_given"] == pytest.approx(3 / 5)
    assert m["phrase_precision"] == pytest.approx(2 / 3)  # of the 3 marked, 2 right
    assert m["answerable_declined"] == pytest.approx(1 / 5)  # a4
    assert m["unanswerable_declined"] == pytest.approx(2 / 3)  # u2, u3
    assert m["off_topic_declined"] == 1.0 and m["n_off_topic"] == 1
    assert m["on_topic_declined"] == pytest.approx(1 / 2) and m["n_on_topic"] == 2
    # the engine answered a1 a2 a3 f1 and u1: right leads a1, f1 → precision 2/5, coverage 4/5
    assert summary.operating_point == {"coverage": pytest.approx(4 / 5), "precision": pytest.approx(2 / 5)}
    at_half = next(p for p in summary.precision_coverage if p["threshold"] == 0.5)
    # confidence >= 0.5: a1 a2 a3 f1 u1 → same as the engine here
    assert at_half["coverage"] == pytest.approx(4 / 5) and at_half["precision"] == pytest.approx(2 / 5)


def test_follow_up_with_and_without_history() -> None:
    engine = FakeEngine(ANSWER_RANKINGS, PHRASES)
    report = evaluate(engine, ANSWER_TEXT_QUESTIONS, ["hybrid"], k=3)
    f1 = next(r for r in report.results if r.id == "f1")
    assert f1.query == "who froze and when?" and f1.history == ["who froze"]
    assert f1.flags == [True] and f1.variants["alone"]["flags"] == [False, False, True]
    assert f1.variants["joined"]["query"] == "who froze and when?"
    assert ("and when?", ("who froze",), True) in engine.calls  # asked with its history
    follow = report.summaries["hybrid"].follow_up
    assert follow["n"] == 1
    assert follow["engine_recall@1"] == 1.0 and follow["alone_recall@1"] == 0.0
    assert follow["alone_mrr@3"] == pytest.approx(1 / 3) and follow["alone_recall@5"] == 1.0
    assert follow["engine_at_least_best"] == 1.0
    table = render_table(report)
    assert "follow-ups" in table and "lead" in table and "on-topic declined" in table
    markdown = render_markdown(report)
    assert "## Answer level" in markdown and "## Follow-ups" in markdown and "| on-topic | 2 |" in markdown


def test_results_json_round_trip_keeps_answer_fields(tmp_path: Path) -> None:
    from csto_qa.evaluation.results import EvalReport

    report = evaluate(FakeEngine(ANSWER_RANKINGS, PHRASES), ANSWER_TEXT_QUESTIONS, ["hybrid"], k=3)
    paths = write_report(report, tmp_path / "out")
    back = EvalReport.from_dict(json.loads(paths["json"].read_text(encoding="utf-8")))
    assert back.summaries["hybrid"].metrics == report.summaries["hybrid"].metrics
    assert back.summaries["hybrid"].operating_point == report.summaries["hybrid"].operating_point
    a1 = next(r for r in back.results if r.id == "a1")
    assert a1.lead_correct and a1.phrase == "15 May 1992" and a1.phrase_correct
    old = {k: v for k, v in a1.to_dict().items() if k not in ("scope", "lead_correct", "phrase", "variants")}
    assert type(a1).from_dict(old).lead_correct is False  # a results.json of before still reads


def test_ndcg_ideal_counts_relevant_chunks(fake_report) -> None:
    q1 = next(r for r in fake_report.results if r.id == "q1" and r.mode == "bm25")
    assert q1.n_relevant == 1 and q1.flags == [False, True]


def test_evaluate_refuses_bad_modes_and_k() -> None:
    engine = FakeEngine(RANKINGS)
    with pytest.raises(QueryError, match="sparse"):
        evaluate(engine, QUESTIONS, ["sparse"], k=2)
    with pytest.raises(QueryError, match="k=0"):
        evaluate(engine, QUESTIONS, ["hybrid"], k=0)
    assert parse_modes(" bm25, hybrid,bm25") == ["bm25", "hybrid"]
    with pytest.raises(QueryError):
        parse_modes(",")


def _write(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "questions.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


GOOD_LINE = json.dumps(QUESTIONS[0].to_dict())


@pytest.mark.parametrize(
    ("lines", "where", "problem"),
    [
        ([GOOD_LINE, "{not json"], ":2:", "invalid JSON"),
        ([GOOD_LINE, "", json.dumps({"id": "q9", "question": "x"})], ":3:", "missing field 'answers'"),
        ([GOOD_LINE, GOOD_LINE], ":2:", "duplicate id"),
        ([json.dumps({**QUESTIONS[0].to_dict(), "category": "trivia"})], ":1:", "unknown category"),
        ([GOOD_LINE, "[" * 50_000 + "]" * 50_000], ":2:", "longer than 20,000 characters"),
        ([GOOD_LINE, "[" * 5_000 + "]" * 5_000], ":2:", "nested 5000 levels deep"),
        (['{"id": {"a": {"b": {"c": {"d": {"e": {"f": {"g": {}}}}}}}}}'], ":1:", "nested 9 levels"),
        (['{"id": ' + "9" * 5000 + "}"], ":1:", "invalid JSON: Exceeds the limit"),
        ([json.dumps({**QUESTIONS[0].to_dict(), "question": "\ud800"})], ":1:", "lone surrogate"),
    ],
)
def test_bad_questions_file_names_file_and_line(
    tmp_path: Path, lines: list[str], where: str, problem: str
) -> None:
    path = _write(tmp_path, lines)
    with pytest.raises(QuestionsFileError) as info:
        read_questions(path)
    message = str(info.value)
    assert isinstance(info.value, CstoQaError)
    assert f"{path}{where}" in message and problem in message


def test_missing_or_empty_questions_file(tmp_path: Path) -> None:
    with pytest.raises(QuestionsFileError, match="does not exist"):
        read_questions(tmp_path / "nope.jsonl")
    with pytest.raises(QuestionsFileError, match="holds no questions"):
        read_questions(_write(tmp_path, [""]))


@pytest.mark.parametrize("bad", ["[1, 2]", "[" * 100_000 + "]" * 100_000, '{"a": ' * 3000 + "1" + "}" * 3000])
def test_cli_bad_questions_file_is_one_line_and_exit_2(tmp_path: Path, capsys, bad: str) -> None:
    path = _write(tmp_path, [GOOD_LINE, bad])
    code = main(["eval", "--questions", str(path), "--out", str(tmp_path / "out"), "--no-progress"])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.startswith("csto-qa: error:") and f"{path}:2:" in err and "\n" not in err
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_cli_eval_with_a_user_supplied_questions_file(
    tmp_path: Path, index_dir: Path, corpus_dir: Path, capsys
) -> None:
    rows = [
        {"id": "u1", "question": "When was the CSTO charter signed?", "answers": ["7 October 2002"],
         "docs": ["csto-wikipedia"], "category": "dates_numbers", "answerable": True},
        {"id": "u2", "question": "recipe for pancakes", "answers": [], "docs": [],
         "category": "unanswerable", "answerable": False},
    ]  # fmt: skip
    path = _write(tmp_path, [json.dumps(r) for r in rows])
    out = tmp_path / "report"
    args = ["eval", "--questions", str(path), "--modes", "hybrid,bm25", "--k", "5", "--out", str(out)]
    code = main([*args, "--index-dir", str(index_dir), "--corpus-dir", str(corpus_dir), "--no-progress"])
    assert code == 0
    assert "hybrid" in capsys.readouterr().out
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert data["n_questions"] == 2 and data["modes"] == ["hybrid", "bm25"] and data["k"] == 5
    assert (out / "report.md").stat().st_size > 0 and (out / "plot.png").stat().st_size > 0


@pytest.fixture(scope="module")
def shipped_report(engine):
    return evaluate(engine, load_questions(default_questions_path()), ("hybrid", "bm25", "dense"), k=10)


@pytest.mark.slow
def test_hybrid_stays_above_the_regression_floors(shipped_report) -> None:
    hybrid = shipped_report.summaries["hybrid"].metrics
    assert hybrid["recall@5"] >= HYBRID_RECALL_AT_5_FLOOR, shipped_report.summaries["hybrid"].misses
    assert hybrid["mrr@10"] >= HYBRID_MRR_AT_10_FLOOR


@pytest.mark.slow
def test_hybrid_beats_each_retriever_alone(shipped_report) -> None:
    m = {mode: s.metrics for mode, s in shipped_report.summaries.items()}
    for single in ("bm25", "dense"):
        assert m["hybrid"]["recall@5"] >= m[single]["recall@5"], single
        assert m["hybrid"]["mrr@10"] > m[single]["mrr@10"], single


def test_lead_unreachable_names_answers_that_cross_sentences() -> None:
    from csto_qa.evaluation.evaluate import lead_unreachable
    from csto_qa.records import Document, Sentence

    text = "Official language\n|\nRussian |\nThe treaty was signed on 15 May 1992."
    start = text.index("The")
    engine = SimpleNamespace(
        stored=SimpleNamespace(
            documents={"d": Document("d", "D", text)},
            sentences=[
                Sentence("d", 0, 17),
                Sentence("d", 18, 19),
                Sentence("d", 20, 29),
                Sentence("d", start, len(text)),
            ],
        )
    )
    questions = [
        _q("x1", "language", ["Official language | Russian"], "kids_page"),  # spans three lines
        _q("x2", "signed", ["15 May 1992"], "dates_numbers"),
        _q("x3", "budget", [], "unanswerable"),
    ]
    assert lead_unreachable(engine, questions) == ["x1"]  # type: ignore[arg-type]
    assert lead_unreachable(FakeEngine(RANKINGS), questions) == []  # type: ignore[arg-type]  # no sentences


@pytest.mark.slow
def test_answer_level_figures_on_the_real_set(shipped_report) -> None:
    for mode, summary in shipped_report.summaries.items():
        m = summary.metrics
        # a right lead sentence lies inside the first passage, so it is also a hit at 1
        assert m["lead_accuracy"] <= m["recall@1"], mode
        assert m["phrase_accuracy"] <= m["phrase_given"], mode
        assert m["n_on_topic"] >= 40 and m["n_off_topic"] >= 5
        assert summary.follow_up["n"] >= 20
        coverage = [p["coverage"] for p in summary.precision_coverage]
        assert coverage == sorted(coverage, reverse=True), mode  # a higher bar answers less
    hybrid = shipped_report.summaries["hybrid"]
    assert hybrid.metrics["lead_accuracy"] >= HYBRID_LEAD_FLOOR
    assert hybrid.metrics["off_topic_declined"] >= HYBRID_OFF_TOPIC_DECLINED_FLOOR
    assert hybrid.metrics["answerable_declined"] <= HYBRID_WRONGLY_DECLINED_CEILING
    assert hybrid.follow_up["engine_recall@5"] >= HYBRID_FOLLOW_UP_RECALL_AT_5_FLOOR


def test_set_option_reads_any_engine_setting_with_its_type() -> None:
    from csto_qa.evaluation.evaluate import parse_settings

    assert parse_settings(["alpha=0.5", "fusion=rrf", "rrf-k=10"]) == {
        "alpha": 0.5,
        "fusion": "rrf",
        "rrf_k": 10,
    }
    assert parse_settings(None) == {}
    with pytest.raises(QueryError, match="expected NAME=VALUE"):
        parse_settings(["colour=blue"])
    with pytest.raises(QueryError, match="expected NAME=VALUE"):
        parse_settings(["alpha"])
    with pytest.raises(QueryError, match="rrf_k takes a int"):
        parse_settings(["rrf_k=ten"])


def test_cli_bad_set_is_one_line_before_the_model_loads(tmp_path: Path, capsys) -> None:
    path = _write(tmp_path, [GOOD_LINE])
    code = main(["eval", "--questions", str(path), "--set", "alpha=2", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "alpha=2.0 must be between 0 and 1" in err and "\n" not in err


def test_cli_eval_on_a_stand_in_engine_writes_the_answer_figures(tmp_path: Path, monkeypatch, capsys) -> None:
    import csto_qa.cli

    engine = FakeEngine(ANSWER_RANKINGS, PHRASES)
    monkeypatch.setattr(csto_qa.cli, "open_engine", lambda args: engine)
    path = _write(tmp_path, [json.dumps(q.to_dict()) for q in ANSWER_TEXT_QUESTIONS])
    out = tmp_path / "report"
    code = main(
        [
            "eval",
            "--questions",
            str(path),
            "--modes",
            "hybrid",
            "--k",
            "3",
            "--out",
            str(out),
            "--no-progress",
        ]
    )
    printed = capsys.readouterr().out
    assert code == 0
    assert "lead" in printed and "on-topic declined" in printed and "follow-ups" in printed
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    metrics = data["summaries"]["hybrid"]["metrics"]
    assert metrics["lead_accuracy"] == pytest.approx(3 / 5) and metrics["on_topic_declined"] == 0.5
    assert data["summaries"]["hybrid"]["follow_up"]["engine_at_least_best"] == 1.0
    assert "## Answer level" in (out / "report.md").read_text(encoding="utf-8")
    assert (out / "plot.png").read_bytes().startswith(b"\x89PNG")

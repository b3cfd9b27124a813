"""Retrieval metrics: hand-worked examples, edge cases, and a cross-check against ranx."""

from __future__ import annotations

import math

import pytest

from csto_qa.evaluation.metrics import (
    Outcome,
    abstention_rates,
    dcg_at_k,
    first_relevant_rank,
    is_relevant,
    mean,
    ndcg_at_k,
    phrase_matches,
    precision_coverage,
    recall_at_k,
    reciprocal_rank,
    relevance_flags,
    word_count,
)

# Ranked list used in the hand-worked examples: relevant at ranks 2 and 4.
FLAGS = [False, True, False, True, False]


def test_is_relevant_normalises_whitespace_and_keeps_case() -> None:
    text = "The treaty was signed on\n15 May\u00a01992 in Tashkent."
    assert is_relevant(text, ["15 May 1992"])
    assert is_relevant(text, ["nothing", "signed  on 15"])  # any answer string is enough
    assert not is_relevant(text, ["15 may 1992"])  # answer strings are case-sensitive
    assert not is_relevant(text, [])
    assert not is_relevant(text, ["   "])  # a blank answer never matches everything


def test_relevance_flags_keeps_order() -> None:
    assert relevance_flags(["a b", "x", "b a"], ["b a"]) == [False, False, True]


def test_first_relevant_rank() -> None:
    assert first_relevant_rank(FLAGS) == 2
    assert first_relevant_rank([False, False]) is None
    assert first_relevant_rank([]) is None


@pytest.mark.parametrize(("k", "expected"), [(1, 0.0), (2, 1.0), (5, 1.0), (50, 1.0)])
def test_recall_at_k(k: int, expected: float) -> None:
    assert recall_at_k(FLAGS, k) == expected


def test_recall_of_empty_list_is_zero() -> None:
    assert recall_at_k([], 5) == 0.0


def test_reciprocal_rank_is_cut_at_k() -> None:
    assert reciprocal_rank(FLAGS, 10) == 0.5
    assert reciprocal_rank(FLAGS, 1) == 0.0
    assert reciprocal_rank([True], 10) == 1.0


def test_dcg_hand_worked() -> None:
    # hits at ranks 2 and 4: 1/log2(3) + 1/log2(5) = 0.6309 + 0.4307
    assert dcg_at_k(FLAGS, 5) == pytest.approx(1 / math.log2(3) + 1 / math.log2(5))
    assert dcg_at_k(FLAGS, 3) == pytest.approx(1 / math.log2(3))


def test_ndcg_hand_worked() -> None:
    # two relevant passages exist: ideal = 1 + 1/log2(3) = 1.6309; DCG = 1.0616; nDCG = 0.6509
    assert ndcg_at_k(FLAGS, 2, 5) == pytest.approx(1.0616 / 1.6309, abs=1e-4)
    # five exist, only two retrieved: ideal takes min(5, k) = 5 hits
    ideal5 = sum(1 / math.log2(r + 1) for r in range(1, 6))
    assert ndcg_at_k(FLAGS, 5, 5) == pytest.approx(dcg_at_k(FLAGS, 5) / ideal5)
    # the ideal list is cut at k too
    assert ndcg_at_k([True, True], 30, 2) == pytest.approx(1.0)


def test_ndcg_edge_cases() -> None:
    assert ndcg_at_k([False, False], 0, 10) == 0.0
    assert ndcg_at_k([True], 1, 10) == 1.0
    # an under-counted corpus (1) cannot push nDCG above 1
    assert ndcg_at_k([True, True, True], 1, 10) == pytest.approx(1.0)


def test_mean_and_word_count() -> None:
    assert mean([]) == 0.0
    assert mean([1.0, 0.0, 0.5]) == pytest.approx(0.5)
    assert word_count("  one two\nthree\t ") == 3


def test_abstention_rates_use_strict_less_than() -> None:
    rates = abstention_rates([0.3, 0.5, 0.7, 0.9], [0.1, 0.4, 0.6], threshold=0.5)
    assert rates["answerable_declined"] == pytest.approx(0.25)  # only 0.3 < 0.5
    assert rates["unanswerable_declined"] == pytest.approx(2 / 3)
    assert abstention_rates([], [], 0.4) == {
        "threshold": 0.4,
        "unanswerable_declined": 0.0,
        "answerable_declined": 0.0,
    }


@pytest.mark.parametrize(
    ("phrase", "answers", "question", "expected"),
    [
        ("28 June 2012", ["28 June 2012"], "", True),  # the answer string itself
        ("on 28 June 2012,", ["28 June 2012"], "", True),  # contains it
        ("June 2012", ["In June 2012"], "", True),  # a run of its words, with a number
        ("2012", ["28 June 2012"], "When did Uzbekistan leave?", True),  # the year is news
        ("Moscow", ["Moscow, Russia"], "", True),  # punctuation ignored
        (
            "Nikol Pashinyan",
            ["chaired by the Armenian Prime Minister Nikol Pashinyan"],
            "Who chaired it?",
            True,
        ),
        ("chaired by", ["chaired by the Armenian Prime Minister Nikol Pashinyan"], "Who chaired it?", False),
        ("military", ["repulse military aggression"], "What is it for?", False),  # 1 of 3, lowercase
        ("military aggression", ["repulse military aggression"], "What is it for?", True),  # 2 of 3
        ("Armenia", ["Armenia froze"], "Did Armenia leave?", False),  # only repeats the question
        ("Russia Moscow", ["Moscow, Russia"], "", False),  # not a run of its words
        ("moscow", ["Moscow"], "", False),  # case-sensitive, like relevance
        ("Moscow", ["Minsk", "Moscow"], "", True),  # any answer string is enough
        (None, ["Moscow"], "", False),  # no phrase marked
        ("  ", ["Moscow"], "", False),
    ],
)
def test_phrase_matches(phrase: str | None, answers: list[str], question: str, expected: bool) -> None:
    assert phrase_matches(phrase, answers, question) is expected


OUTCOMES = [
    Outcome(0.9, True, True),
    Outcome(0.7, True, False),
    Outcome(0.5, True, True),
    Outcome(0.6, False, False),
    Outcome(0.2, False, False),
]


def test_precision_coverage_hand_worked() -> None:
    # t = 0.55 answers 0.9, 0.7 (answerable) and 0.6 (unanswerable): 1 of the 3 is right.
    assert precision_coverage(OUTCOMES, 0.55) == {
        "threshold": 0.55,
        "coverage": pytest.approx(2 / 3),
        "precision": pytest.approx(1 / 3),
        "unanswerable_declined": pytest.approx(0.5),
    }
    everything = precision_coverage(OUTCOMES, 0.0)  # all 5 answered, 2 right
    assert everything["coverage"] == 1.0 and everything["precision"] == pytest.approx(2 / 5)
    assert everything["unanswerable_declined"] == 0.0
    at_edge = precision_coverage(OUTCOMES, 0.5)  # confidence >= t is answered
    assert at_edge["coverage"] == 1.0
    nothing = precision_coverage(OUTCOMES, 0.95)
    assert nothing["precision"] is None and nothing["coverage"] == 0.0
    assert nothing["unanswerable_declined"] == 1.0
    assert precision_coverage([], 0.5)["precision"] is None


@pytest.mark.slow  # ranx compiles its metrics with numba on first use (tens of seconds)
@pytest.mark.filterwarnings("ignore:unsafe cast")
def test_metrics_agree_with_ranx() -> None:
    """Averages over several queries equal ranx's hit_rate, mrr and ndcg (binary qrels)."""
    ranx = pytest.importorskip("ranx")
    # Per query: flags of the ranked list and how many relevant documents exist in total.
    runs = {
        "q1": ([False, True, False, True, False, False, False, False, False, False], 2),
        "q2": ([True, False, False, False, False, False, False, False, False, False], 3),
        "q3": ([False] * 10, 1),
        "q4": ([False, False, False, False, False, False, True, True, True, False], 4),
    }
    qrels_dict, run_dict = {}, {}
    for q, (flags, n_rel) in runs.items():
        relevant = [f"{q}-d{i}" for i, f in enumerate(flags) if f]
        missing = [f"{q}-x{i}" for i in range(n_rel - len(relevant))]  # relevant but never retrieved
        qrels_dict[q] = {d: 1 for d in relevant + missing}
        run_dict[q] = {f"{q}-d{i}": 10.0 - i for i in range(len(flags))}
    got = ranx.evaluate(
        ranx.Qrels(qrels_dict), ranx.Run(run_dict), ["hit_rate@1", "hit_rate@5", "mrr@10", "ndcg@10"]
    )
    ours = {
        "hit_rate@1": mean(recall_at_k(f, 1) for f, _ in runs.values()),
        "hit_rate@5": mean(recall_at_k(f, 5) for f, _ in runs.values()),
        "mrr@10": mean(reciprocal_rank(f, 10) for f, _ in runs.values()),
        "ndcg@10": mean(ndcg_at_k(f, n, 10) for f, n in runs.values()),
    }
    for name, value in ours.items():
        assert value == pytest.approx(float(got[name]), abs=1e-6), name

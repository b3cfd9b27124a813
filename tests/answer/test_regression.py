"""Regression floors of the answer layer on the real set (hybrid), a few questions below the
figures measured on this branch (docs/eval/answer-layer.md: lead 84.5 %, R@1 89.4 %, phrase
right when shown 83.3 %, wrongly declined 3.5 %, on-topic declined 69.4 %, off-topic 100 %). The run is
deterministic: falling below a floor means a change made the answers worse."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow

LEAD_FLOOR = 0.82  # 117 of 142 (measured 120, round 4)
RECALL_AT_1_FLOOR = 0.87  # 124 of 142 (measured 127)
PHRASE_PRECISION_FLOOR = 0.79  # of the phrases shown (measured 0.833, 75 of 90)
WRONGLY_DECLINED_CEILING = 0.05  # the target of issue 12 (measured 4 of 142)
ON_TOPIC_DECLINED_FLOOR = 0.6  # 30 of 49, issue 12's target (measured 34)


@pytest.fixture(scope="module")
def hybrid(engine):
    from csto_qa.evaluation.evaluate import evaluate
    from csto_qa.evaluation.questions import default_questions_path, load_questions

    return evaluate(engine, load_questions(default_questions_path()), ("hybrid",), k=10).summaries["hybrid"]


def test_lead_sentence_and_first_passage_floors(hybrid) -> None:
    assert hybrid.metrics["lead_accuracy"] >= LEAD_FLOOR
    assert hybrid.metrics["recall@1"] >= RECALL_AT_1_FLOOR
    assert hybrid.metrics["phrase_precision"] >= PHRASE_PRECISION_FLOOR


def test_decline_rule_floors(hybrid) -> None:
    assert hybrid.metrics["answerable_declined"] <= WRONGLY_DECLINED_CEILING
    assert hybrid.metrics["on_topic_declined"] >= ON_TOPIC_DECLINED_FLOOR
    # Issue 12's target, met since round 3 (the 7 off-topic questions' confidence is at most
    # 0.21, the threshold 0.33).
    assert hybrid.metrics["off_topic_declined"] == 1.0

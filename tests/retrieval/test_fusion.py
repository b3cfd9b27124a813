"""Fusion functions, checked against arithmetic worked by hand."""

from __future__ import annotations

import numpy as np
import pytest

from csto_qa.retrieval.fusion import (
    Scores,
    as_dict,
    convex,
    convex_scores,
    fuse,
    min_max,
    pooled,
    ranks,
    rrf,
)


def test_ranks_are_one_based_and_break_ties_by_id() -> None:
    assert ranks({7: 0.5, 3: 0.9, 5: 0.5}) == {3: 1, 5: 2, 7: 3}


def test_rrf_matches_hand_computation() -> None:
    # doc 1: ranks 1 and 3 -> 1/61 + 1/63; doc 2: rank 2 in the first list only -> 1/62
    fused = rrf([{1: 1, 2: 2}, {3: 1, 4: 2, 1: 3}], k=60)
    assert fused[1] == pytest.approx(1 / 61 + 1 / 63)
    assert fused[2] == pytest.approx(1 / 62)
    assert fused[3] == pytest.approx(1 / 61)
    assert sorted(fused, key=fused.get, reverse=True)[0] == 1


def test_rrf_rejects_negative_k() -> None:
    with pytest.raises(ValueError, match="-1"):
        rrf([{1: 1}], k=-1)


def test_min_max_scales_to_unit_interval_and_handles_constant_lists() -> None:
    assert min_max({1: 2.0, 2: 4.0, 3: 3.0}) == {1: 0.0, 2: 1.0, 3: 0.5}
    assert min_max({1: 7.0, 2: 7.0}) == {1: 1.0, 2: 1.0}
    assert min_max({}) == {}


def test_convex_matches_hand_computation() -> None:
    lexical = {1: 10.0, 2: 5.0, 3: 0.0}  # normalised: 1.0, 0.5, 0.0
    dense = {2: 0.8, 4: 0.4}  # normalised: 1.0, 0.0
    fused = convex(lexical, dense, alpha=0.25)
    assert fused[1] == pytest.approx(0.75 * 1.0)
    assert fused[2] == pytest.approx(0.75 * 0.5 + 0.25 * 1.0)
    assert fused[3] == pytest.approx(0.0)
    assert fused[4] == pytest.approx(0.0)


def test_convex_extremes_reduce_to_one_side() -> None:
    lexical, dense = {1: 3.0, 2: 1.0}, {1: 0.1, 2: 0.9}
    assert max(fuse(lexical, dense, "convex", alpha=0.0).items(), key=lambda kv: kv[1])[0] == 1
    assert max(fuse(lexical, dense, "convex", alpha=1.0).items(), key=lambda kv: kv[1])[0] == 2


@pytest.mark.parametrize("alpha", [-0.1, 1.5])
def test_convex_rejects_alpha_outside_unit_interval(alpha: float) -> None:
    with pytest.raises(ValueError, match=str(alpha)):
        convex({1: 1.0}, {1: 1.0}, alpha)


def test_unknown_method_names_the_choices() -> None:
    with pytest.raises(ValueError, match="'mean'.*convex, rrf"):
        fuse({}, {}, "mean")


def test_lists_on_one_pool_keep_what_each_holds() -> None:
    lexical, dense = pooled({5: 2.0, 1: 4.0}, {1: 0.5, 9: 0.25})
    assert lexical.ids.tolist() == dense.ids.tolist() == [1, 5, 9]
    assert lexical.has.tolist() == [True, True, False] and dense.has.tolist() == [True, False, True]
    assert lexical.ranks().tolist() == [1, 2, 0]  # 0: the list does not hold id 9
    assert as_dict(lexical) == {1: 4.0, 5: 2.0}


def test_pooled_convex_fusion_matches_hand_computation() -> None:
    # lexical normalised: 1 -> 1.0, 5 -> 0.0; dense normalised: 1 -> 1.0, 9 -> 0.0
    fused = convex_scores(*pooled({5: 2.0, 1: 4.0}, {1: 0.5, 9: 0.25}), alpha=0.25)
    assert fused.scores.tolist() == [0.25 * 1.0 + 0.75 * 1.0, 0.0, 0.0]
    assert fused.ids[fused.order()].tolist() == [1, 5, 9]  # ties to the lower id



def test_a_list_holding_every_id_is_min_max_normalised_over_all_of_them() -> None:
    # The dense side in hybrid holds every id of the pool (no mask is applied to it then).
    ids = np.arange(5, dtype=np.int64)
    dense = Scores(ids, np.array([0.3, 0.9, 0.1, 0.5, 0.7]), np.ones(5, dtype=bool))
    held = np.array([True, False, True, False, True])
    lexical = Scores(ids, np.array([2.0, 0.0, 1.0, 0.0, 4.0]), held)  # normalised: 1/3, 0, 1
    fused = convex_scores(lexical, dense, alpha=0.6)
    dense_norm = [0.25, 1.0, 0.0, 0.5, 0.75]
    lexical_norm = [1 / 3, 0.0, 0.0, 0.0, 1.0]
    want = [0.6 * d + 0.4 * x for d, x in zip(dense_norm, lexical_norm, strict=True)]
    assert fused.scores.tolist() == pytest.approx(want) and fused.has.all()
    one = Scores(ids[:1], np.array([0.4]), np.ones(1, dtype=bool))  # all equal: 1.0
    none = Scores(ids[:1], np.zeros(1), np.zeros(1, dtype=bool))
    assert convex_scores(none, one, 1.0).scores.tolist() == [1.0]

"""Settings, modes and default folders (config.py): every bad value is a QueryError quoting it."""

from __future__ import annotations

from pathlib import Path

import pytest

from csto_qa.config import (
    CORPUS_ENV,
    FUSIONS,
    INDEX_ENV,
    MODES,
    EngineSettings,
    Fusion,
    Mode,
    check_request,
    default_corpus_dir,
    default_index_dir,
)
from csto_qa.errors import QueryError


def test_modes_and_fusions_are_string_enums() -> None:
    assert MODES == ("hybrid", "bm25", "dense") and Mode.HYBRID == "hybrid"
    assert FUSIONS == ("convex", "rrf") and Fusion("rrf") is Fusion.RRF


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"fusion": "max"}, "fusion 'max' is not one of convex, rrf"),
        ({"alpha": 1.5}, "alpha=1.5 must be between 0 and 1"),
        ({"sentence_weight": -0.1}, "sentence_weight=-0.1 must be between 0 and 1"),
        ({"depth": 0}, "depth and max_k must be >= 1"),
        ({"rrf_k": -1}, "rrf_k >= 0"),
    ],
)
def test_bad_settings_are_refused_with_the_value(changes: dict, message: str) -> None:
    with pytest.raises(QueryError, match=message):
        EngineSettings(**changes)


def test_settings_round_trip_through_their_dict() -> None:
    settings = EngineSettings(fusion="rrf", alpha=0.4)
    assert EngineSettings(**settings.to_dict()) == settings


@pytest.mark.parametrize(
    ("k", "mode", "message"),
    [
        (0, "hybrid", "k=0 must be a whole number from 1 to 50"),
        (51, "hybrid", "k=51"),
        (True, "hybrid", "k=True"),
        (2.0, "hybrid", "k=2.0"),
        (3, "magic", "mode 'magic' is not one of hybrid, bm25, dense"),
    ],
)
def test_check_request_quotes_the_bad_value(k: object, mode: str, message: str) -> None:
    with pytest.raises(QueryError, match=message):
        check_request(k, mode, 50)  # type: ignore[arg-type]
    check_request(50, "dense", 50)  # the edge is allowed


def test_default_folders_follow_the_environment_then_the_corpus(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(CORPUS_ENV, raising=False)
    monkeypatch.delenv(INDEX_ENV, raising=False)
    docs = tmp_path / "docs"
    assert default_index_dir(docs) == tmp_path.resolve() / "index"  # beside the corpus given
    monkeypatch.chdir(tmp_path)
    (tmp_path / "corpus").mkdir()
    assert default_corpus_dir() == Path("corpus")  # ./corpus when there is one
    monkeypatch.setenv(CORPUS_ENV, str(docs))
    monkeypatch.setenv(INDEX_ENV, str(tmp_path / "elsewhere"))
    assert default_corpus_dir() == docs and default_index_dir() == tmp_path / "elsewhere"

"""Shared fixtures: the real corpus, one index built from it per session, and the engine."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROOT = Path(__file__).resolve().parent.parent
CORPUS_DIR = ROOT / "corpus"


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    """The real corpus of the repository (read-only: tests copy it before changing it)."""
    return CORPUS_DIR


@pytest.fixture(scope="session")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index of the real corpus with the real model, built once per test session."""
    from csto_qa.embedding.encoder import load_encoder
    from csto_qa.index.build import build, quiet

    folder = tmp_path_factory.mktemp("real") / "index"
    build(CORPUS_DIR, folder, load_encoder(), report=quiet, progress=False)
    return folder


@pytest.fixture(scope="session")
def engine(index_dir: Path):
    """The engine over the real corpus and model (shared: tests must not mutate it)."""
    from csto_qa.engine import Engine
    from csto_qa.index.build import quiet

    return Engine.open(index_dir=index_dir, corpus_dir=CORPUS_DIR, report=quiet, progress=False)


@pytest.fixture()
def fake_model(monkeypatch: pytest.MonkeyPatch):
    """Make ``Engine.open`` use the fake encoder instead of loading the real model."""
    from fakes import FakeEncoder

    encoder = FakeEncoder()
    monkeypatch.setattr("csto_qa.engine.load_encoder", lambda name=None: encoder)
    return encoder


@pytest.fixture()
def fake_report():
    """``evaluate`` over three hand-made questions answered by ``fakes.RankingEngine``."""
    from fakes import EVAL_QUESTIONS, EVAL_RANKINGS, RankingEngine

    from csto_qa.evaluation.evaluate import evaluate

    return evaluate(
        RankingEngine(EVAL_RANKINGS), EVAL_QUESTIONS, ["hybrid", "bm25"], k=2, questions_file="fake.jsonl"
    )


@pytest.fixture()
def copy(pristine: tuple[Path, Path], tmp_path: Path) -> tuple[Path, Path]:
    """A fresh copy of the test module's ``pristine`` (corpus, index) pair, to damage freely."""
    import shutil

    corpus, index = pristine
    shutil.copytree(corpus, tmp_path / "corpus")
    shutil.copytree(index, tmp_path / "index")
    return tmp_path / "corpus", tmp_path / "index"


@pytest.fixture(scope="session")
def tiny_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The index of ``tests/data/tiny`` built once with the fake encoder (do not modify it)."""
    from fakes import TINY_CORPUS, FakeEncoder

    from csto_qa.index.build import build, quiet

    index = tmp_path_factory.mktemp("tiny") / "index"
    build(TINY_CORPUS, index, FakeEncoder(), report=quiet, progress=False)
    return index


@pytest.fixture()
def tiny_fake_engine(tiny_index: Path):
    """A fresh engine over :func:`tiny_index` with the fake encoder."""
    from fakes import FakeEncoder

    from csto_qa.engine import Engine
    from csto_qa.index.storage import load_index

    return Engine(load_index(tiny_index), FakeEncoder())

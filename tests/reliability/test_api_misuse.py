"""Python API misuse is a QueryError with a clear message, never a bare TypeError."""

from __future__ import annotations

from pathlib import Path

import pytest
from fakes import FakeEncoder

from csto_qa.engine import Engine
from csto_qa.errors import QueryError
from csto_qa.index.build import quiet


@pytest.fixture()
def engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Engine:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("The CSTO was founded in 2002. Armenia is a member.\n", encoding="utf-8")
    monkeypatch.setattr("csto_qa.engine.load_encoder", lambda name=None: FakeEncoder())
    return Engine.open(index_dir=tmp_path / "index", corpus_dir=corpus, report=quiet, progress=False)


@pytest.mark.parametrize("history", [{"q": 1}, 7, (q for q in ["a"]), "What is the CSTO?"])
def test_history_of_the_wrong_type_is_a_query_error(engine: Engine, history: object) -> None:
    with pytest.raises(QueryError, match="history must be a list"):
        engine.ask("When was it founded?", history=history)  # type: ignore[arg-type]


@pytest.mark.parametrize("doc_id", [["a"], 3, None])
def test_document_with_a_non_string_id_is_a_query_error(engine: Engine, doc_id: object) -> None:
    with pytest.raises(QueryError, match="document id is a string"):
        engine.document(doc_id)  # type: ignore[arg-type]
    assert engine.document("a").doc_id == "a"

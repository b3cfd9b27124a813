"""The app's /ask endpoint function (ui_api.ask_json): request values checked, the JSON of
``csto-qa ask --json`` returned."""

from __future__ import annotations

import pytest
from fakes import sample_answer, scripted_engine

from csto_qa.app.api import ask_json
from csto_qa.errors import QueryError


def test_ask_json_passes_the_request_on_and_returns_the_answer_dict() -> None:
    calls = []

    def ask(question, k=5, mode="hybrid", history=None, abstain=True):
        calls.append((question, k, mode, history))
        return sample_answer(question=question)

    engine = scripted_engine(ask)
    assert ask_json(engine, "When?", 3.0, "bm25", ["Who?"]) == sample_answer(question="When?").to_dict()
    assert calls == [("When?", 3, "bm25", ["Who?"])]  # a JSON client's 3.0 is k=3
    ask_json(engine, None, 5)  # type: ignore[arg-type]
    assert calls[-1] == ("", 5, "hybrid", [])  # no question is the empty one, no history is []


@pytest.mark.parametrize("history", ["Who?", [1], {"q": "Who?"}])
def test_a_history_that_is_not_a_list_of_strings_is_a_query_error(history: object) -> None:
    engine = scripted_engine(lambda *a, **k: pytest.fail("must not be asked"))
    with pytest.raises(QueryError, match="history must be a list of the earlier questions"):
        ask_json(engine, "When?", 5, "hybrid", history)

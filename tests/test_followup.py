"""Follow-up rewriting of questions that lean on the previous turn."""

from __future__ import annotations

from csto_qa.followup import contextualize, needs_context


def test_pronoun_follow_up_gets_the_previous_names() -> None:
    query = contextualize("and when did it leave?", ["When did Uzbekistan join the CSTO?"])
    assert "Uzbekistan" in query and "CSTO" in query and query.startswith("and when did it leave?")


def test_standalone_question_is_left_alone() -> None:
    history = ["When did Uzbekistan join the CSTO?"]
    assert contextualize("Who is the Secretary General of the CSTO?", history) == (
        "Who is the Secretary General of the CSTO?"
    )


def test_what_about_uses_the_last_question_with_names() -> None:
    history = ["When did Armenia freeze its participation?", "thanks"]
    query = contextualize("what about Belarus?", history)
    assert "Belarus" in query and "freeze" in query and "Armenia" not in query


def test_no_history_means_no_change() -> None:
    assert contextualize("and when did it leave?", None) == "and when did it leave?"
    assert contextualize("and when did it leave?", []) == "and when did it leave?"


def test_needs_context_signals() -> None:
    assert needs_context("What did they decide?")
    assert needs_context("and then?")
    assert not needs_context("When was the Collective Security Treaty signed?")
    assert not needs_context("")


def test_follow_up_skips_turns_without_names() -> None:
    query = contextualize("when did it happen?", ["When did Armenia freeze its participation?", "ok thanks"])
    assert "Armenia" in query

"""Follow-up rewriting of questions that lean on the previous turn."""

from __future__ import annotations

from csto_qa.retrieval.followup import contextualize, needs_context


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


def test_question_with_its_own_subject_is_never_rewritten() -> None:
    history = ["When did Armenia freeze its participation in the CSTO?"]
    for question in (
        "When did Uzbekistan suspend its membership?",  # "its" refers inside the question
        "when did uzbekistan suspend its membership",  # lower case: the subject after "did"
        "when did the treaty enter into force?",
        "How many members does the CSTO have?",
    ):
        assert contextualize(question, history) == question


def test_what_about_replaces_the_previous_subject() -> None:
    history = ["When did Armenia freeze its participation in the CSTO?"]
    assert contextualize("what about Azerbaijan?", history) == (
        "When did Azerbaijan freeze its participation in the CSTO?"
    )
    assert contextualize("and Belarus?", history) == "When did Belarus freeze its participation in the CSTO?"
    assert (
        contextualize("How about the NATO?", history)
        == "When did Armenia freeze its participation in the NATO?"
    )


def test_and_then_is_not_a_new_subject() -> None:
    query = contextualize("and then?", ["When did Armenia freeze its participation?"])
    assert query.startswith("and then?") and "Armenia" in query


def test_pronoun_without_a_subject_leans_on_the_previous_turn() -> None:
    assert needs_context("What is its budget?")
    assert needs_context("Who leads it?")
    assert not needs_context("Who is the Secretary General?")


def test_a_pronoun_subject_leans_on_context_even_beside_a_name() -> None:
    query = contextualize(
        "what did she ask the CSTO to send?", ["Who was the interim president of Kyrgyzstan in 2010?"]
    )
    assert query.startswith("what did she ask the CSTO to send?") and "Kyrgyzstan" in query


def test_a_question_without_any_subject_borrows_the_previous_names() -> None:
    query = contextualize("how many troops took part?", ["Which country hosted the Rubezh 2008 exercise?"])
    assert "Rubezh" in query and "2008" in query


def test_a_common_noun_antecedent_brings_its_words() -> None:
    query = contextualize("where was it held?", ["What was the largest CSTO military exercise?"])
    assert all(w in query for w in ("largest", "military", "exercise"))


def test_the_previous_verb_is_left_behind() -> None:
    query = contextualize("and when did it leave?", ["When did Uzbekistan join the CSTO?"])
    assert "Uzbekistan" in query and "CSTO" in query and "join" not in query
    query = contextualize("when did he take office?", ["Who is the current secretary general of the CSTO?"])
    assert all(w in query for w in ("secretary", "general", "CSTO"))

"""The answer phrase (csto_qa.answer.phrase): the typed span nearest the question's words,
on hand-made sentences."""

from __future__ import annotations

from csto_qa.answer.answer_type import AnswerType
from csto_qa.answer.focus import question_focus
from csto_qa.answer.phrase import pick_phrase

IDF = {"council": 2.0, "leader": 1.5, "lead": 1.5, "csto": 0.1, "uzbekistan": 2.0}


def test_phrase_is_the_typed_span_nearest_the_focus_terms() -> None:
    focus = question_focus("When did Uzbekistan suspend its membership?", IDF, 100)
    text = "Georgia left in 1999, and Uzbekistan suspended its membership on 28 June 2012."
    span = pick_phrase(text, AnswerType.DATE, focus)
    assert span is not None and text[span.start : span.end] == "28 June 2012"


def test_phrase_is_never_the_questions_own_words() -> None:
    focus = question_focus("Which countries did Belarus side with?", IDF, 100)
    text = "Belarus sided with Russia."
    span = pick_phrase(text, AnswerType.COUNTRY, focus)
    assert span is not None and text[span.start : span.end] == "Russia"


def test_phrase_nearest_the_rarer_focus_word_wins_a_tie_of_distance() -> None:
    # "2006" touches "CSTO" (IDF 0.1) and "28 March 2008" follows "parliament" (IDF 3): the
    # IDF-weighted nearness picks the date the question asks about.
    idf = {"csto": 0.1, "parliament": 3.0, "ratifi": 3.0, "uzbek": 1.0}
    focus = question_focus("When did the Uzbek parliament ratify CSTO membership?", idf, 100)
    text = "It joined the CSTO in 2006 and was ratified by the Uzbek parliament on 28 March 2008."
    span = pick_phrase(text, AnswerType.DATE, focus)
    assert span is not None and text[span.start : span.end] == "28 March 2008"


def test_a_comma_between_a_phrase_and_a_focus_word_sets_them_apart() -> None:
    # "15 September 2022" touches "extraordinary" across a comma; "28 October 2022" follows
    # "videoconference" in its own clause.
    idf = {"extraordinari": 4.0, "session": 1.0, "held": 1.0, "videoconfer": 1.0}
    focus = question_focus("When was the extraordinary session held by videoconference?", idf, 100)
    text = (
        "To discuss the mission sent on 15 September 2022, an extraordinary session was held"
        " via videoconference on 28 October 2022."
    )
    span = pick_phrase(text, AnswerType.DATE, focus)
    assert span is not None and text[span.start : span.end] == "28 October 2022"
    text = "In 2021, Uzbekistan, after becoming observer to the union on 11 December 2020, held drills."
    idf = {"uzbekistan": 2.0, "observ": 2.0, "union": 0.1}
    focus = question_focus("When did Uzbekistan become an observer to the union?", idf, 100)
    span = pick_phrase(text, AnswerType.DATE, focus)
    assert span is not None and text[span.start : span.end] == "11 December 2020"


def test_phrase_for_how_many_takes_the_number_beside_the_rarer_word() -> None:
    idf = {"former": 3.0, "member": 0.5, "csto": 0.1}
    focus = question_focus("how many former members does the csto have", idf, 100)
    text = "Membership: 6 members, 3 former members, 1 observer"
    span = pick_phrase(text, AnswerType.NUMBER, focus)
    assert span is not None and text[span.start : span.end] == "3"


def test_reason_phrase_is_the_clause_that_gives_the_cause() -> None:
    focus = question_focus("Why did Belarus boycott the summit?", IDF, 100)
    assert focus.kind is AnswerType.REASON
    text = "In 2009, Belarus boycotted the summit because of a trade dispute with Russia."
    span = pick_phrase(text, AnswerType.REASON, focus)
    assert span is not None and text[span.start : span.end] == "because of a trade dispute with Russia"

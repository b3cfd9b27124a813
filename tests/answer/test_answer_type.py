"""Answer-type detection, phrase spans and the prose penalty, on hand-made cases."""

from __future__ import annotations

import pytest

from csto_qa.answer.answer_type import (
    HEADLINE_PENALTY,
    NAME_RUN,
    AnswerType,
    asks_name,
    asks_source,
    class_words,
    continues,
    defines,
    expected_type,
    field_key,
    find_phrases,
    name_run,
    name_words,
    prose_penalty,
    source_spans,
)

T = AnswerType


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("When did Uzbekistan suspend its membership?", T.DATE),
        ("what year was the treaty signed", T.DATE),
        ("In which year did Georgia leave?", T.DATE),
        ("How many members does the CSTO have?", T.NUMBER),
        ("how much does the force cost", T.NUMBER),
        ("Who leads the council?", T.PERSON),
        ("who is the chairman of the csto", T.PERSON),
        ("Where is the CSTO headquartered?", T.PLACE),
        ("In which city was the meeting held?", T.PLACE),
        ("Which countries left the organization?", T.COUNTRY),
        ("who are the members of the csto", T.COUNTRY),
        ("What is the Collective Security Treaty Organization?", T.DEFINITION),
        ("what is the tashkent pact", T.DEFINITION),
        ("define collective security", T.DEFINITION),
        ("What is the CSTO's annual budget?", T.OTHER),  # an attribute, not a definition
        ("What is the official language of the CSTO?", T.OTHER),
        ("Why did Belarus boycott the summit?", T.REASON),
        ("and when did it leave?", T.DATE),
        ("what kind of organisation is the csto", T.DEFINITION),
        ("What type of alliance is the CSTO?", T.DEFINITION),
        ("what kind of fighting did the armies rehearse", T.OTHER),  # no "is X": not a definition
    ],
)
def test_expected_type_reads_the_question_form(question: str, kind: AnswerType) -> None:
    assert expected_type(question) is kind


def phrases(text: str, kind: AnswerType) -> list[str]:
    return [text[s.start : s.end] for s in find_phrases(text, kind)]


def test_dates_are_whole_dates_not_their_parts() -> None:
    text = "On 28 June 2012 it left; it had joined on May 15, 1992, and again in 2006."
    assert phrases(text, T.DATE) == ["28 June 2012", "May 15, 1992", "2006"]


def test_numbers_skip_the_digits_of_dates() -> None:
    text = "In 2011, over 10,000 soldiers and six observers took part on 3 May 2011."
    assert phrases(text, T.NUMBER) == ["10,000", "six"]


def test_person_names_drop_titles_and_institutions() -> None:
    text = "President Alexander Lukashenko met the Collective Security Council and Dr. Ziva Rozen-Bakher."
    assert phrases(text, T.PERSON) == ["Alexander Lukashenko", "Ziva Rozen-Bakher"]


def test_country_lists_are_one_phrase() -> None:
    text = "The members are Armenia, Belarus, Kazakhstan and Russia; Georgia left."
    assert phrases(text, T.COUNTRY) == ["Armenia, Belarus, Kazakhstan and Russia", "Georgia"]


def test_places_after_a_preposition_or_in_an_info_box_row() -> None:
    assert phrases("It is headquartered in Moscow.", T.PLACE) == ["Moscow"]
    assert phrases("Headquarters | Moscow, Russia |", T.PLACE) == ["Moscow, Russia"]


def test_a_place_name_may_follow_its_article() -> None:
    assert phrases("They trained at the Harb Maidon training ground.", T.PLACE) == ["Harb Maidon"]
    assert phrases("The talks were held in the Fergana Valley.", T.PLACE) == ["Fergana Valley"]
    # An institution after the article is still no place.
    assert phrases("It has observer status in the CSTO Parliamentary Assembly.", T.PLACE) == []


def test_definition_is_the_predicate_of_an_is_sentence() -> None:
    text = "The Collective Security Treaty Organization (CSTO) is an intergovernmental military alliance."
    assert phrases(text, T.DEFINITION) == ["an intergovernmental military alliance"]
    assert defines(text, {"csto", "organization"})
    assert not defines("Collective Security Treaty Organization. Retrieved 2020.", {"organization"})
    assert phrases(text, T.OTHER) == []
    assert phrases("The CSTO is like a military alliance.", T.DEFINITION) == ["like a military alliance"]


def test_the_class_noun_of_what_kind_of_is_read() -> None:
    assert class_words("what kind of organisation is the csto") == ("organisation",)
    assert class_words("What sort of armed force is the KSOR?") == ("armed", "force")
    assert class_words("what kind of fighting did the armies rehearse") == ()
    assert class_words("What is the CSTO?") == ()


@pytest.mark.parametrize(
    ("text", "low", "high"),
    [
        ("The council is led by the Secretary General.", 0.0, 0.0),
        ("---|---|", 1.0, 1.0),
        ("![]() Emblem", 1.0, 1.0),
        ("|", 1.0, 1.0),
        ("Headquarters | Moscow, Russia |", 0.1, 0.3),  # an info-box fact, nearly prose
        ('"CSTO summit". Retrieved 5 May 2020.', 0.8, 0.8),
        ("See https://example.org/page for more.", 0.8, 0.8),
        ("2022 January Events and CSTO Peacekeeping Mission in Kazakhstan.", 0.5, 0.5),  # a title
        ("History", 0.4, 0.6),
    ],
)
def test_prose_penalty(text: str, low: float, high: float) -> None:
    assert low <= prose_penalty(text) <= high


def test_fields_are_facts_and_list_intros_are_not() -> None:
    assert prose_penalty("Headquarters: Moscow, Russia") == 0.2
    assert prose_penalty("Member states of the Collective Security Treaty Organization:") == 0.5
    assert prose_penalty("He said: we will stay in the alliance for now.") == 0.0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("It is meant to stop military attacks.", True),
        ("This was because of security problems near its border.", True),
        ("He started his job on January 1, 2023.", True),
        ("However, they refused.", True),
        ("The force is meant to stop attacks.", False),
        ("Items were sold.", False),  # "It" must be a whole word
        ("Thessaloniki hosted the meeting.", False),
    ],
)
def test_continues_detects_a_sentence_about_the_previous_ones_subject(text: str, expected: bool) -> None:
    assert continues(text) is expected


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("which Soviet-era accord did demonstrators want scrapped", True),
        ("What informal bloc does the analyst describe?", True),
        ("In which treaty is this written?", True),
        ("What is the CSTO?", False),
        ("what did Lukashenko say about the summit", False),
        ("Why did Belarus boycott the summit?", False),
    ],
)
def test_asks_name_reads_which_or_what_before_a_noun(question: str, expected: bool) -> None:
    assert asks_name(question) is expected


def test_name_words_are_the_capitalised_runs_past_the_first_word() -> None:
    text = "Some protesters called for the rejection of the Alma-Ata Protocol in Yerevan."
    assert name_words(text) == (frozenset({"alma", "ata", "protocol"}), frozenset({"yerevan"}))
    assert name_words("Protesters gathered outside.") == ()


def test_centres_services_and_media_are_institutions_not_persons() -> None:
    text = "CSTO Secretariat, CIS Anti-Terrorist Center sign memorandum of cooperation"
    assert phrases(text, T.PERSON) == []
    assert phrases("Forces complete drills at the range | Video Ruptly", T.PERSON) == []
    assert phrases("It was signed by Imangali Tasmagambetov.", T.PERSON) == ["Imangali Tasmagambetov"]


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("who did it take over from?", True),
        ("who did it take over from? Kazakhstan CSTO presidency", True),  # a follow-up rewritten
        ("Who did Armenia buy its weapons from", True),
        ("who is the president of kazakhstan", False),
        ("who received aid from Russia?", False),  # "from" is not left at the end
        ("where did they come from?", False),
    ],
)
def test_asks_source_reads_who_with_from_at_the_end(question: str, expected: bool) -> None:
    assert asks_source(question) is expected


def test_a_source_is_a_country_list_after_from() -> None:
    text = "Kazakhstan took over the rotating presidency of the CSTO from Belarus."
    assert [text[s.start : s.end] for s in source_spans(text)] == ["Belarus"]
    text = "It bought arms from Armenia and Belarus, not from the company."
    assert [text[s.start : s.end] for s in source_spans(text)] == ["Armenia and Belarus"]
    assert source_spans("Kazakhstan took over the presidency in 2023.") == []


def test_a_lone_surname_that_speaks_is_a_person() -> None:
    said = 'After the summit in 2009, Lukashenko said: "Why should my men fight?"'
    assert phrases(said, T.PERSON) == ["Lukashenko"]
    # Pronouns, countries and a sentence's first word ("Officials said") are not.
    assert phrases("Later he said no.", T.PERSON) == []
    assert phrases("In 2020, Russia said no.", T.PERSON) == []
    assert phrases("Officials said no.", T.PERSON) == []
    # A full name is found once.
    assert phrases("In 2009, Alexander Lukashenko said no.", T.PERSON) == ["Alexander Lukashenko"]


def test_a_who_is_a_country_after_by_in_a_sentence_naming_no_person() -> None:
    founded = "GUAM was established in 1997 by Georgia, Ukraine, Azerbaijan, and Moldova."
    assert phrases(founded, T.PERSON) == ["Georgia, Ukraine, Azerbaijan, and Moldova"]
    # The agent of a passive, not a source: "from Belarus" does not answer "who is the
    # president of Kazakhstan?" (it made that off-topic question look answered).
    assert phrases("Kazakhstan took over the presidency from Belarus.", T.PERSON) == []
    # Elsewhere a country is no "who", and a named person comes first.
    assert phrases("Iran could be the first country outside Russia to join.", T.PERSON) == []
    named = "Alexander Lukashenko took over the presidency from Belarus's prime minister."
    assert phrases(named, T.PERSON) == ["Alexander Lukashenko"]


def test_the_key_of_an_info_box_field_or_row() -> None:
    assert field_key("Latest Update: 29 October 2024") == "Latest Update"
    assert field_key("Headquarters | Moscow, Russia |") == "Headquarters"
    assert field_key("The council met in Moscow: it agreed on a force.") is None
    assert field_key("Members | Armenia | Belarus | Russia") is None  # a table row, no key


def test_link_labels_run_together_are_not_prose_and_names_in_a_list_are() -> None:
    labels = (
        "Soviet Armed Forces Commonwealth of Independent States (CIS) Eurasian Economic Union (EAEU) "
        "GUAM Organization for Democracy and Economic Development Warsaw Pact"
    )
    assert name_run(labels) >= NAME_RUN
    assert prose_penalty(labels) == 0.8
    # The same names separated as a sentence lists them are prose.
    listed = (
        "The alliance has eight observers: Afghanistan, China, Iran, Mongolia, Saudi Arabia, Serbia, Syria,"
        " and Uzbekistan, which take part in its exercises."
    )
    assert name_run(listed) < NAME_RUN and prose_penalty(listed) == 0.0
    # A long institution name is one name, not a run of labels.
    long_name = "It went to the National Assembly of the Islamic Republic of Afghanistan in 2013."
    assert name_run(long_name) < NAME_RUN and prose_penalty(long_name) == 0.0


def test_a_headline_with_its_link_is_a_fact_and_a_bare_link_line_is_not() -> None:
    headline = (
        "Trilateral military exercises in Tajikistan successfully completed by three armies https://x.org/a"
    )
    assert prose_penalty(headline) == HEADLINE_PENALTY < 0.8
    assert prose_penalty("Website of CSTO https://odkb-csto.org/") == 0.8


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("Foreign Minister Abdrakhmanov put forward a proposal.", ["Abdrakhmanov"]),
        ("Since Russia's invasion of Ukraine in February 2022, it has not been involved.", []),
        ("The US think tank The National Interest released an analysis.", []),
        ("Abdrakhmanov spoke first.", []),  # one word without a title is not taken for a name
        ("House Speaker Nancy Pelosi visited Yerevan.", ["Nancy Pelosi"]),
    ],
)
def test_person_names_need_two_words_or_a_title_and_are_not_countries_or_institutions(
    text: str, names: list[str]
) -> None:
    assert [text[s.start : s.end] for s in find_phrases(text, AnswerType.PERSON)] == names


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("date armenia froze csto participation", AnswerType.DATE),
        ("on what date in 1999 was the treaty renewed", AnswerType.DATE),
        ("Which regions does the alliance serve?", AnswerType.PLACE),
        ("which BRICS Plus members joined the drills", AnswerType.COUNTRY),
        ("In which country was Iran invited to observe an exercise?", AnswerType.COUNTRY),
        ("Which Armenian Security Council secretary lost hope?", AnswerType.PERSON),
        ("which American politician visited Yerevan?", AnswerType.PERSON),
        ("Which Kremlin foreign policy adviser threatened to publish it?", AnswerType.PERSON),
        ("which group did Uzbekistan join instead?", AnswerType.OTHER),
        ("What is the official language of the alliance?", AnswerType.OTHER),
    ],
)
def test_expected_type_reads_role_nouns_prepositions_and_keyword_questions(
    question: str, kind: AnswerType
) -> None:
    assert expected_type(question) is kind


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("leading interim Kyrgyz President Roza Otunbayeva to request help", ["Roza Otunbayeva"]),
        ("CSTO Secretary-General Stanislav Zas was criticised.", ["Stanislav Zas"]),
        ("the Russian President's foreign policy adviser Sergei Prikhodko", ["Sergei Prikhodko"]),
    ],
)
def test_a_name_is_what_follows_the_last_title(text: str, names: list[str]) -> None:
    assert [text[s.start : s.end] for s in find_phrases(text, AnswerType.PERSON)] == names


def test_the_defined_subject_is_read_once_for_any_question() -> None:
    from csto_qa.answer.answer_type import defined_subject

    assert defined_subject("The CSTO is a military alliance.") == {"the", "csto"}
    assert defined_subject("Moscow hosts the secretariat.") is None
    long_subject = " ".join(["word"] * 15) + " is a thing."
    assert defined_subject(long_subject) is None and not defines(long_subject, {"word"})
    assert defines("The CSTO is a military alliance.", frozenset({"csto"}))

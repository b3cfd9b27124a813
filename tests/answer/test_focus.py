"""The question's focus: head words read from the question's form, and how support weighs them."""

from __future__ import annotations

import pytest

from csto_qa.answer.answer_type import AnswerType
from csto_qa.answer.focus import (
    Spellings,
    _similar,
    bound_words,
    event_words,
    head_words,
    present_in,
    present_terms,
    question_focus,
    support,
    text_terms,
    unknown_terms,
)

IDF = {
    "tank": 3.0,
    "csto": 0.1,
    "popul": 4.0,
    "tajikistan": 1.5,
    "budget": 4.0,
    "annual": 2.0,
    "soldier": 2.0,
}


@pytest.mark.parametrize(
    ("question", "head"),
    [
        ("How many tanks does the CSTO have?", ["tanks"]),
        ("how many soldiers took part in the drill", ["soldiers"]),  # the counted noun, not the verb
        ("what is the population of tajikistan", ["population"]),
        ("What is the CSTO's annual budget?", ["annual", "budget"]),  # after the possessive
        ("What is the CSTO’s motto?", ["motto"]),  # a typographic apostrophe too
        ("How long is a Secretary General's term of office?", ["term"]),
        ("What is the name of the air base?", ["air", "base"]),  # "name" is form: its object
        ("Who founded NATO?", []),  # no counted or named noun in this form
        ("When did Uzbekistan suspend its membership?", []),
        ("What was behind Belarus boycotting the summit?", []),  # a relation asked for, no named thing
        ("What is the CSTO's counterpart to Article 5?", ["counterpart"]),  # a preposition ends it
    ],
)
def test_head_words_come_from_the_question_form(question: str, head: list[str]) -> None:
    assert head_words(question) == head


@pytest.mark.parametrize(
    ("question", "bound"),
    [
        ("who is the president of kazakhstan", ["kazakhstan"]),  # the head's complement
        ("what is the population of tajikistan", ["tajikistan"]),
        ("What is the capital of Armenia and Azerbaijan?", ["armenia", "azerbaijan"]),  # "and" joins
        ("Who was president of Kazakhstan when the CSTO sent troops?", ["kazakhstan"]),  # "when" ends it
        ("What is the name of the air base?", []),  # "of" led to the head itself: no complement
        ("How many tanks does the CSTO have?", ["csto"]),  # "how many N does X have": X's
        ("How many soldiers does NATO have?", ["nato"]),
        ("How many tanks are there?", []),  # no subject after "do"
        ("When was NATO founded?", ["nato"]),  # the subject before the final verb
        ("When was the European Union founded?", ["european", "union"]),
        ("When was the Monitoring Alliances page on the CSTO last updated?", []),  # a preposition follows
        ("where did the ousted kyrgyz leader find refuge", []),  # "did": no telling where the subject ends
        ("where is the secretariat", []),  # no verb after it: nothing to tell the subject by
        ("Who wrote War and Peace?", ["war", "peace"]),  # "who VERB OBJECT": the object
        ("Who founded NATO?", ["nato"]),  # not the verb: a passage words it otherwise
        ("who set up the GUAM group", []),  # a stop word after the verb: no object read
        ("Who is in charge?", []),  # "who" then an auxiliary: the head form, without a head
        ("When did Uzbekistan suspend its membership?", []),
    ],
)
def test_bound_words_are_the_complement_of_the_head(question: str, bound: list[str]) -> None:
    assert bound_words(question) == bound


@pytest.mark.parametrize(
    ("question", "event"),
    [
        ("when did uzbekistan quit GUAM", ["quit", "guam"]),  # a time: the verb phrase, subject left out
        ("Where did Bakiyev find refuge after he was ousted?", ["find", "refuge"]),  # a preposition ends it
        ("Why does Armenia boycott summits?", ["boycott", "summits"]),  # a cause
        ("how did the leader judge it", ["judge"]),  # bare "how": a manner; the determiner skipped
        ("How often does the presidency change hands?", ["change", "hands"]),  # a measure word
        ("When did Uzbekistan freeze its participation?", ["freeze"]),  # an object behind "its" is named
        ("When did the CSTO open an office in Paris?", ["open"]),  # "Paris" must be in the documents
        ("How many tanks does the CSTO have?", []),  # a counted object
        ("How much do the members spend?", []),  # an amount, the verb's object
        ("What did the deployment cost?", []),  # "what" asks the verb's object: the verb stays strict
        ("Which rifle do the troops carry?", []),
        ("Who did the official blame?", []),
        ("When was Tasmagambetov born?", []),  # no "do": no predicate read
        ("when will armenia hold a referendum", []),
        ("when did", []),  # too short to have a predicate
    ],
)
def test_event_words_are_the_bare_verb_phrase_after_a_circumstance_wh_word(
    question: str, event: list[str]
) -> None:
    assert event_words(question) == event


def test_an_unseen_word_of_the_event_weighs_the_event_weight() -> None:
    idf = {"uzbekistan": 2.0, "guam": 3.0}
    focus = question_focus("when did uzbekistan quit GUAM", idf, 100)
    assert focus.event == {"quit", "guam"}
    unseen = focus.terms["quit"].idf
    total = unseen + 5.0
    both = {"uzbekistan", "guam"}
    # "quit" is unseen (the passage says "withdrew"): half its IDF lost at 0.5, all of it at 1.
    half = 1 - 0.5 * unseen / total
    assert support(focus, both, {"quit"}, 0.0, both, 1.25, 2.0, 0.5) == pytest.approx(half)
    assert support(focus, both, {"quit"}, 0.0, both, 1.25, 2.0, 1.0) == pytest.approx(1 - unseen / total)
    # The verb of "what did ... cost" is what is asked: not an event word, counted in full.
    cost = question_focus("What did the deployment cost?", {"deploy": 2.0}, 100)
    assert cost.event == frozenset()
    full = 1 - cost.terms["cost"].idf / (cost.terms["cost"].idf + 2.0)
    assert support(cost, {"deploy"}, {"cost"}, 0.0, {"deploy"}, 1.25, 2.0, 0.5) == pytest.approx(full)


def test_an_unseen_generic_word_weighs_the_generic_weight() -> None:
    idf = {"chair": 2.0, "csto": 0.1}
    focus = question_focus("who chairs the csto at the moment", idf, 100)
    unseen = focus.terms["moment"].idf
    total = unseen + 2.1
    found = {"chair", "csto"}
    assert support(focus, found, {"moment"}, 0.0, found) == pytest.approx(1 - unseen / total)
    # "moment" is everyday English: a quarter of its IDF lost at 0.25, none at 0.
    at = {"generic": {"moment"}}
    assert support(focus, found, {"moment"}, 0.0, found, **at, generic_weight=0.25) == pytest.approx(
        1 - 0.25 * unseen / total
    )
    assert support(focus, found, {"moment"}, 0.0, found, **at, generic_weight=0.0) == 1.0
    # An event word that is also generic counts the smaller weight.
    event = question_focus("when did uzbekistan quit GUAM", {"uzbekistan": 2.0, "guam": 3.0}, 100)
    both = {"uzbekistan", "guam"}
    quit_idf = event.terms["quit"].idf
    lost = support(event, both, {"quit"}, 0.0, both, 1.25, 2.0, 0.75, None, {"quit"}, 0.5)
    assert lost == pytest.approx(1 - 0.5 * quit_idf / (quit_idf + 5.0))


def test_an_unseen_number_among_the_event_words_stays_strict() -> None:
    focus = question_focus(
        "When did the CSTO meet 2031 delegates?", {"csto": 0.1, "meet": 2.0, "deleg": 1.0}, 100
    )
    assert "2031" in focus.event
    unseen = focus.terms["2031"].idf
    total = unseen + 3.1
    # A number has no paraphrase: the number rule (at least once, or the head weight) comes first.
    expected = max(0.0, 1 - 1.25 * unseen / total)
    lead = {"csto", "meet", "deleg"}
    assert support(focus, lead, {"2031"}, 0.0, lead, 1.25, 2.0, 0.5) == pytest.approx(expected)


def test_a_bound_word_apart_from_the_lead_passage_weighs_like_a_head() -> None:
    idf = {"presid": 1.0, "kazakhstan": 1.5}
    focus = question_focus("who is the president of kazakhstan", idf, 100)
    assert focus.head == {"presid"} and focus.bound == {"kazakhstan"}
    both = {"presid", "kazakhstan"}
    # Another evidence passage has "kazakhstan", the lead passage (a president of Kyrgyzstan)
    # not: the bound word costs its weight, and the head counts as missing (0.5 × 1.0).
    assert support(focus, both, set(), 0.0, {"presid"}, 0.5, 1.0) == pytest.approx(1 - 2.0 / 2.5)
    assert support(focus, both, set(), 0.0, {"presid"}, 1.25, 2.0) == 0.0  # 4.25 lost of 2.5
    assert support(focus, both, set(), 0.0, {"presid"}, 1.25, 0.0) == 1.0  # no bound weight
    # Together in the lead passage: supported; in no passage at all: a paraphrase, no loss.
    assert support(focus, both, set(), 0.0, both, 1.25, 2.0) == 1.0
    assert support(focus, {"presid"}, set(), 0.0, {"presid"}, 1.25, 2.0) == 1.0


def test_a_bound_word_must_stand_beside_the_lead_sentence() -> None:
    idf = {"presid": 1.0, "uzbekistan": 1.5}
    focus = question_focus("who is the president of uzbekistan", idf, 100)
    both = {"presid", "uzbekistan"}
    # The lead passage has both words, but the lead sentence and its neighbours name the
    # president of another country: lost 0.5 × 1.0 (head) + 1.0 × 1.5 (bound) of 2.5.
    assert support(focus, both, set(), 0.0, both, 0.5, 1.0, 1.0, set()) == pytest.approx(0.2)
    assert support(focus, both, set(), 0.0, both, 0.5, 1.0, 1.0, {"uzbekistan"}) == 1.0
    assert support(focus, both, set(), 0.0, both, 0.5, 1.0, 1.0) == 1.0  # the passage, as before


def test_focus_keeps_only_head_words_that_are_focus_terms() -> None:
    focus = question_focus("How many tanks does the CSTO have?", IDF, 100)
    assert focus.head == {"tank"}
    assert question_focus("When did the CSTO meet?", IDF, 100).head == frozenset()


def test_a_head_term_missing_from_the_lead_passage_weighs_more_than_another_term() -> None:
    focus = question_focus("How many tanks does the CSTO have?", IDF, 100)
    everywhere = {"tank", "csto"}
    # "tank" is in the evidence pool (a "think tank" elsewhere) but not in the lead passage.
    assert support(focus, everywhere, set(), 0.0, {"csto"}, 0.0) == 1.0  # no head weight: supported
    # Lost: 1.5 x 3.0 of a total IDF of 3.1 -> nothing left.
    assert support(focus, everywhere, set(), 0.0, {"csto"}, 1.5) == 0.0
    assert support(focus, everywhere, set(), 0.0, {"csto"}, 0.5) == pytest.approx(1 - 1.5 / 3.1)
    # In the lead passage it is supported whatever the head weight.
    assert support(focus, everywhere, set(), 0.0, everywhere, 1.5) == 1.0


def test_a_paraphrased_non_head_term_costs_nothing_with_no_absent_weight() -> None:
    focus = question_focus("How many soldiers does the bloc have?", {**IDF, "bloc": 3.0}, 100)
    assert focus.kind is AnswerType.NUMBER
    # "bloc" (the passage says "the CSTO") is absent but not the head: no loss at weight 0.
    assert support(focus, {"soldier"}, set(), 0.0, {"soldier"}, 1.5) == 1.0


def test_unknown_terms_stay_unsupported_outright() -> None:
    focus = question_focus("When did the CSTO's budget office open?", {"csto": 0.1, "offic": 2.0}, 100)
    unseen = focus.terms["budget"].idf
    assert not focus.terms["budget"].known and focus.head == frozenset()  # no head in this form
    expected = 1 - unseen / (unseen + 2.0 + 0.1 + focus.terms["open"].idf)
    expected -= focus.terms["open"].idf / (unseen + 2.0 + 0.1 + focus.terms["open"].idf)
    assert support(focus, {"csto", "offic"}, {"budget", "open"}, 0.0, {"csto"}, 1.5) == pytest.approx(
        expected
    )


def test_an_unseen_head_counts_at_least_once_and_more_with_the_head_weight() -> None:
    focus = question_focus("How many drones does the CSTO have?", {"csto": 0.1}, 100)
    unseen = focus.terms["drone"].idf
    assert focus.head == {"drone"}
    total = unseen + 0.1
    # A head weight below 1 never makes an unseen word count less than a plain unseen one.
    assert support(focus, {"csto"}, {"drone"}, 0.0, {"csto"}, 0.5) == pytest.approx(1 - unseen / total)
    assert support(focus, {"csto"}, {"drone"}, 0.0, {"csto"}, 1.5) == 0.0


def test_an_unseen_number_weighs_like_a_head_and_a_known_one_costs_nothing() -> None:
    idf = {"csto": 0.1, "summit": 2.0, "2022": 2.0}
    later = question_focus("Where is the CSTO summit in 2027?", idf, 100)
    unseen = later.terms["2027"].idf
    total = unseen + 2.0 + 0.1
    assert support(later, {"csto", "summit"}, {"2027"}, 0.0, {"csto", "summit"}, 1.5) == pytest.approx(
        max(0.0, 1 - 1.5 * unseen / total)
    )
    known = question_focus("Where is the CSTO summit in 2022?", idf, 100)
    # A year the index has, but the lead passage lacks, is not a head: no loss.
    assert support(known, {"csto", "summit"}, set(), 0.0, {"csto", "summit"}, 1.5) == 1.0


VOCABULARY = ["uzbekistan", "kazakhstan", "membership", "member", "drones", "done", "2012", "peacekeepers"]


@pytest.mark.parametrize(
    "word",
    [
        "uzbekistn",
        "membershp",
        "kazakstan",
        "peacekeeper",
        "drone",
        "dne",
        "2013",
        "armenia",
        "u",
        "membershiping",
    ],
)
def test_grouped_spellings_find_what_a_scan_of_every_word_finds(word: str) -> None:
    assert Spellings(VOCABULARY).near(word) == _similar(word, VOCABULARY)


def test_spellings_take_near_spellings_of_long_words_only() -> None:
    spellings = Spellings(VOCABULARY)
    assert spellings.near("uzbekistn") and spellings.near("membershp")
    assert not spellings.near("drone")  # five letters: "done" is one edit away, not a typo
    assert not spellings.near("2013")  # numbers are never misspelt
    assert not spellings.near("armenia")


def test_present_terms_reads_exact_stems_and_near_spellings() -> None:
    focus = question_focus("When did Uzbekistn suspend its membership in 2012?", IDF, 100)
    text = "Uzbekistan suspended its membership in 2013."
    assert present_terms(focus, text) == {"uzbekistn", "suspend", "membership"}  # not "2012"
    asked: list[str] = []
    kept = present_in(focus, text_terms(text), lambda s, term: asked.append(s) or False)
    assert kept == {"suspend", "membership"} and asked == ["uzbekistn", "2012"]  # only the missing


def test_unknown_terms_read_a_vocabulary_or_its_spellings_alike() -> None:
    focus = question_focus("When did uzbekistn buy drones?", {"uzbekistan": 2.0, "drone": 3.0}, 100)
    vocabulary = ["uzbekistan", "drone"]
    assert unknown_terms(focus, vocabulary) == unknown_terms(focus, Spellings(vocabulary)) == {"buy"}

"""The scorer's per-question and per-passage records give what the functions they replace
give: coverage and the count of focus stems as focus.coverage, the debris penalty, the
continuation and the type check as answer_type's functions and pick_phrase, on hand-made
sentences."""

from __future__ import annotations

import pytest

from csto_qa.answer.answer_type import TYPED, AnswerType, continues, defines, prose_penalty
from csto_qa.answer.features import Asked, SentenceFeatures, covered, new_phrase, typed_sentences
from csto_qa.answer.focus import Focus, coverage, question_focus
from csto_qa.answer.phrase import pick_phrase
from csto_qa.retrieval.tokenizing import fold, stem, words

IDF = {"council": 2.0, "lead": 1.5, "csto": 0.1, "uzbekistan": 2.0, "found": 1.0, "treati": 1.2}
SENTENCES = [
    "The council is led by Nikolai Bordyuzha.",
    "It was founded on 15 May 1992 in Tashkent.",
    "The CSTO is a military alliance of six post-Soviet states.",
    "Uzbekistan suspended its membership in 2012 because of a dispute with Russia.",
    "| Headquarters | Moscow, Russia |",
    "![image](stub.png)",
    "About 20,000 troops and 3,600 peacekeepers.",
]
QUESTIONS = [
    "Who leads the council?",
    "When was the CSTO founded?",
    "What is the CSTO?",
    "Why did Uzbekistan leave?",
    "How many troops does the CSTO have?",
    "Where is the headquarters?",
    "Which countries are members?",
    "Tell me about the treaty",
]


def test_sentence_features_are_those_of_each_text() -> None:
    features = SentenceFeatures.of(7, SENTENCES)
    assert features.first == 7 and features.texts == tuple(SENTENCES)
    for i, text in enumerate(SENTENCES):
        assert features.stems[i] == {stem(w) for w in words(text)}
        assert features.penalties[i] == prose_penalty(text)
        assert features.continues[i] == continues(text)
    assert features.continues[1] and not features.continues[0]  # "It was founded ..."
    assert features.penalties[5] == 1.0  # an image stub


def test_a_name_question_holds_its_type_only_on_a_name_it_does_not_hold_itself() -> None:
    focus = question_focus("Which accord did the protesters in Yerevan want scrapped?", {}, 10)
    asked = Asked.of(focus, names=True)
    assert asked.names and focus.kind is AnswerType.OTHER
    texts = ["They called for the rejection of the Alma-Ata Protocol.", "They met in Yerevan."]
    features = SentenceFeatures.of(0, texts)
    new = [any(not n <= asked.words for n in runs) for runs in features.names]
    assert new == [True, False]  # "Yerevan" is the question's own word
    # A typed question keeps its own type: the flag is for questions with none.
    assert not Asked.of(question_focus("Which country left the CSTO?", {}, 10), names=True).names


def test_the_class_noun_of_what_kind_of_is_no_focus_of_the_scorer() -> None:
    idf = {"organis": 2.2, "csto": 0.1}
    focus = question_focus("what kind of organisation is the csto", idf, 10)
    asked = Asked.of(focus, kind_of=frozenset({stem("organisation")}))
    assert asked.keys == {"csto"} and asked.total == pytest.approx(0.1)
    # "X is an alliance" covers the question as a sentence naming the organisation does.
    assert covered(asked, frozenset({"csto", "allianc"}))[0] == 1.0
    assert Asked.of(focus).keys == {"organis", "csto"}


def test_a_name_of_the_corpus_topic_is_no_new_name() -> None:
    texts = [
        "The Secretary General is the main leader of the CSTO.",
        "He led the CSTO Parliamentary Assembly.",
    ]
    features = SentenceFeatures.of(0, texts, frozenset({"csto"}))
    assert features.names[0] == ()  # "CSTO" alone: the topic of every passage
    assert features.names[1] == (frozenset({"parliamentary", "assembly"}),)
    assert SentenceFeatures.of(0, texts).names[0] == (frozenset({"csto"}),)


def test_a_source_question_holds_its_type_on_a_country_after_from_it_does_not_name() -> None:
    focus = question_focus("who did Kazakhstan take over from?", {}, 10)
    asked = Asked.of(focus, source=True)
    assert asked.source and not Asked.of(question_focus("when did it leave?", {}, 10), source=True).source
    texts = [
        "Kazakhstan took over the presidency from Belarus.",
        "Belarus took over the presidency from Kazakhstan.",  # the question's own country
        "Kazakhstan took over the presidency in 2023.",
    ]
    sources = SentenceFeatures.of(0, texts).source_words()
    assert [new_phrase(found, asked.words) for found in sources] == [True, False, False]


def test_a_fields_key_is_kept_as_stems_and_prose_has_none() -> None:
    features = SentenceFeatures.of(0, ["Latest Update: 29 October 2024", "It was founded in 2002."])
    assert features.keys == (frozenset({stem("latest"), stem("update")}), frozenset())


@pytest.mark.parametrize("question", QUESTIONS)
def test_coverage_is_focus_coverage_to_the_last_bit(question: str) -> None:
    focus = question_focus(question, IDF, 100)
    asked = Asked.of(focus)
    for text in SENTENCES:
        own = frozenset(stem(w) for w in words(text))
        value, common = covered(asked, own)
        assert value == coverage(focus, own & focus.terms.keys())  # ==, not approx
        assert common == len(own & focus.terms.keys())


def test_topic_words_alone_give_a_share_of_the_coverage_floor() -> None:
    from csto_qa.answer.focus import Term

    # "Which countries are members of the CSTO?": two words at the IDF floor of topic words.
    focus = Focus(AnswerType.COUNTRY, {"member": Term("members", 0.1, True), "csto": Term("csto", 0.1, True)})
    both = frozenset({"member", "csto", "armenia"})
    assert covered(Asked.of(focus), both) == (1.0, 2)
    value, common = covered(Asked.of(focus, floor=1.0), both)
    assert value == pytest.approx(0.2) and common == 2  # 0.2 of IDF over a floor of 1.0
    assert covered(Asked.of(focus, floor=1.0), frozenset({"csto"}))[0] == pytest.approx(0.1)
    # A question whose IDF sum passes the floor is untouched: 3.5 of 3.5.
    rare = Focus(AnswerType.OTHER, {"council": Term("council", 2.0, True), "lead": Term("lead", 1.5, True)})
    assert covered(Asked.of(rare, floor=1.0), frozenset({"council", "lead"})) == (1.0, 2)
    assert covered(Asked.of(Focus(AnswerType.OTHER, {}), floor=1.0), frozenset({"council"})) == (1.0, 0)


def test_a_focus_without_terms_is_covered_by_anything() -> None:
    asked = Asked.of(Focus(AnswerType.OTHER, {}))
    assert covered(asked, frozenset({"council"})) == (1.0, 0)


@pytest.mark.parametrize("question", QUESTIONS)
def test_typed_sentences_follow_the_rule_of_each_kind(question: str) -> None:
    focus = question_focus(question, IDF, 100)
    features = SentenceFeatures.of(0, SENTENCES)
    for kind in [*TYPED, AnswerType.DEFINITION, AnswerType.REASON, AnswerType.OTHER]:
        as_kind = Focus(kind, focus.terms, focus.head)
        asked_words = {fold(w) for w in as_kind.words}
        for text, got in zip(SENTENCES, typed_sentences(features, Asked.of(as_kind)), strict=True):
            if kind in TYPED:
                expected = pick_phrase(text, kind, as_kind) is not None
            elif kind is AnswerType.DEFINITION:
                expected = defines(text, asked_words)
            elif kind is AnswerType.REASON:
                expected = pick_phrase(text, kind, as_kind) is not None
            else:
                expected = False
            assert got == expected, (question, kind, text)


def test_hand_made_type_verdicts() -> None:
    features = SentenceFeatures.of(0, SENTENCES)
    who = Asked.of(question_focus("Who leads the council?", IDF, 100))
    assert typed_sentences(features, who)[0]  # "Nikolai Bordyuzha"
    what = Asked.of(question_focus("What is the CSTO?", IDF, 100))
    assert what.kind is AnswerType.DEFINITION
    assert [i for i, t in enumerate(typed_sentences(features, what)) if t] == [2]  # "The CSTO is a ..."
    why = Asked.of(question_focus("Why did Uzbekistan leave?", IDF, 100))
    assert typed_sentences(features, why)[3] and not typed_sentences(features, why)[0]

"""Lead sentence, answer phrase and decline evidence, on hand-made cases and a tiny fake index."""

from __future__ import annotations

from pathlib import Path

import pytest
from fakes import FakeEncoder

from csto_qa.answer.answer_type import AnswerType
from csto_qa.answer.assemble import AnswerBuilder, _Candidate, sentence_score
from csto_qa.answer.decline import confidence, decline_message, indirect
from csto_qa.answer.focus import coverage, present_terms, question_focus, support, unknown_terms
from csto_qa.answer.phrase import pick_phrase
from csto_qa.records import Chunk, Hit

IDF = {"council": 2.0, "leader": 1.5, "lead": 1.5, "csto": 0.1, "uzbekistan": 2.0}


def test_a_sentence_that_carries_the_answer_beats_one_that_restates_the_question() -> None:
    focus = question_focus("Who leads the council?", IDF, 100)
    restating, carrying = "The council has a leader.", "The council is led by Nikolai Bordyuzha."
    assert focus.kind is AnswerType.PERSON
    scores = {}
    for text in (restating, carrying):
        typed = pick_phrase(text, focus.kind, focus) is not None
        covered = coverage(focus, present_terms(focus, text))
        # Same cosine for both: the answer type decides.
        scores[text] = sentence_score(0.6, covered, typed, 0.0, 0.5)
    assert scores[carrying] > scores[restating]


def test_debris_loses_to_prose() -> None:
    assert sentence_score(0.6, 0.8, False, 1.0, 0.5) < sentence_score(0.5, 0.8, False, 0.0, 0.5)


def test_a_sentence_with_new_words_beats_a_restatement_of_equal_cosine() -> None:
    assert sentence_score(0.6, 1.0, False, 0.0, 0.0) < sentence_score(0.6, 1.0, False, 0.0, 0.6)


def test_unknown_focus_terms_are_unsupported_and_typos_are_not_unknown() -> None:
    focus = question_focus("What is the CSTO's annual budget?", IDF, 100)
    unknown = unknown_terms(focus, IDF)
    assert unknown == {"budget", "annual"}
    assert support(focus, {"csto"}, unknown, 0.5) < 0.1
    typo = question_focus("when did uzbekistn leave", IDF, 100)
    assert "uzbekistn" not in unknown_terms(typo, IDF)
    whole = question_focus("When did the council meet?", IDF, 100)
    assert support(whole, present_terms(whole, "The council meets every year."), set(), 0.5) == 1.0


def test_confidence_is_capped_by_support() -> None:
    assert confidence(0.8, 1.0) == pytest.approx(min(0.8, confidence(1.0, 1.0)))
    assert confidence(0.8, 0.2) < confidence(0.8, 0.9)
    assert confidence(0.2, 1.0) == 0.2  # off topic: the cosine decides


def test_decline_message_names_what_is_missing() -> None:
    assert indirect("What is the CSTO's annual budget?") == "what the CSTO's annual budget is"
    message = decline_message("What is the CSTO's annual budget?", ["budget"], AnswerType.OTHER, True)
    assert message.startswith("The documents do not say what the CSTO's annual budget is.")
    assert "“budget”" in message
    dated = decline_message("When did it happen?", [], AnswerType.DATE, False)
    assert "date" in dated


@pytest.fixture(scope="module")
def fake_engine(tmp_path_factory: pytest.TempPathFactory):
    from csto_qa.engine import Engine
    from csto_qa.index.build import build, quiet

    base = tmp_path_factory.mktemp("answer")
    corpus = base / "corpus"
    corpus.mkdir()
    (corpus / "facts.txt").write_text(
        "Facts\n"
        "Headquarters | Moscow, Russia |\n"
        "The council has a leader. The council is led by Nikolai Bordyuzha since 2003.\n"
        "On 28 June 2012, Uzbekistan suspended its membership. It has six members.\n"
        "In 2023 Kazakhstan took over the rotating presidency from Belarus.\n",
        encoding="utf-8",
    )
    encoder = FakeEncoder()
    build(corpus, base / "index", encoder, report=quiet, progress=False)
    engine = Engine.open(index_dir=base / "index", corpus_dir=corpus, report=quiet, progress=False)
    return engine


@pytest.fixture(autouse=True)
def _fake_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("csto_qa.engine.load_encoder", lambda name=None: FakeEncoder())


@pytest.mark.parametrize(
    "question",
    ["When did Uzbekistan suspend its membership?", "How many members are there?", "Who leads the council?"],
)
def test_answer_phrase_offsets_point_into_the_document(fake_engine, question: str) -> None:
    answer = fake_engine.ask(question, abstain=False)
    for passage in answer.passages:
        text = fake_engine.document(passage.doc).text
        if passage.answer is not None:
            assert text[passage.answer_start : passage.answer_end] == passage.answer
            assert (
                passage.highlight_start <= passage.answer_start < passage.answer_end <= passage.highlight_end
            )
        else:
            assert passage.answer_start is None and passage.answer_end is None
    data = answer.to_dict()
    assert {"answer", "answer_start", "answer_end"} <= data["passages"][0].keys()


def test_a_who_from_question_is_answered_with_the_country_after_from(fake_engine) -> None:
    builder = fake_engine.builder
    sid = next(
        i for i in range(len(fake_engine.stored.sentences)) if "from Belarus" in builder.sentence_text(i)
    )
    focus = builder.focus("who did Kazakhstan take over from?")
    assert builder.answer_span(sid, focus) is None  # a person phrase: none in the sentence
    phrase = builder.answer_span(sid, focus, source=True)
    assert phrase is not None and phrase[0] == "Belarus"
    text = fake_engine.document(fake_engine.stored.sentences[sid].doc_id).text
    assert text[phrase[1] : phrase[2]] == "Belarus"


def test_lead_passage_is_first_and_ranks_follow(fake_engine) -> None:
    answer = fake_engine.ask("When did Uzbekistan suspend its membership?", abstain=False)
    assert [p.rank for p in answer.passages] == list(range(1, len(answer.passages) + 1))
    assert "28 June 2012" in answer.passages[0].highlight
    assert answer.passages[0].answer == "28 June 2012"


def test_unknown_focus_declines_with_the_passages_folded(fake_engine, tmp_path: Path) -> None:
    permissive = fake_engine.with_settings(abstain_threshold=-1.0)  # the cosine never declines
    kept = permissive.ask("What is the council's annual budget?")
    assert not kept.abstained  # nothing declines at this threshold
    strict = fake_engine.with_settings(abstain_threshold=0.2)
    built_support = strict.builder.build(
        "What is the council's annual budget?",
        strict.encoder.encode_query("x"),
        strict.retriever.retrieve(
            ["council", "annual", "budget"], strict.encoder.encode_query("x"), "hybrid", 5
        ),
        5,
    ).support
    assert built_support < 0.33 / 0.7  # the decline rule's support cut


def test_words_that_name_the_asked_type_are_not_focus_terms() -> None:
    from csto_qa.answer.focus import question_focus

    idf = {"citi": 2.0, "headquart": 3.0, "countri": 1.0, "member": 1.0, "budget": 4.0}
    assert question_focus("In which city is the headquarters?", idf, 100).words == {"headquarters"}
    assert question_focus("Which countries are members?", idf, 100).words == {"members"}
    # The same word is a focus term when the question does not ask for that type.
    assert "city" in question_focus("What is the budget of the city?", idf, 100).words


@pytest.fixture(scope="module")
def context_engine(tmp_path_factory: pytest.TempPathFactory):
    """An index whose passages hold a restatement followed by its continuation."""
    from csto_qa.engine import Engine
    from csto_qa.index.build import build, quiet

    base = tmp_path_factory.mktemp("context")
    corpus = base / "corpus"
    corpus.mkdir()
    (corpus / "force.txt").write_text(
        "Force\n"
        "The Collective Rapid Force is called KSOR. It is meant to stop attacks and fight terrorism.\n",
        encoding="utf-8",
    )
    (corpus / "summit.txt").write_text(
        "Summit\nNikolai Bordyuzha chaired the summit held in Yerevan in 2010. He later left the post.\n",
        encoding="utf-8",
    )
    build(corpus, base / "index", FakeEncoder(), report=quiet, progress=False)
    return Engine.open(index_dir=base / "index", corpus_dir=corpus, report=quiet, progress=False)


def test_a_continuation_of_a_restatement_leads(context_engine) -> None:
    # "It is meant to ..." speaks of the force the restatement names: it takes that
    # sentence's cosine and coverage and wins on the words the question does not have.
    # The sentence it leans on is shown with it: "It is meant to ..." alone does not say what
    # "it" is. The highlight stays one exact document span.
    answer = context_engine.ask("What is the Collective Rapid Force KSOR meant for?", abstain=False)
    lead = answer.passages[0]
    assert lead.highlight == (
        "The Collective Rapid Force is called KSOR. It is meant to stop attacks and fight terrorism."
    )
    text = context_engine.document(lead.doc).text
    assert text[lead.highlight_start : lead.highlight_end] == lead.highlight


def test_a_continuation_does_not_take_the_lead_from_the_answer(context_engine) -> None:
    # The first sentence carries the asked name; "He later left the post." inherits nothing.
    answer = context_engine.ask("Who chaired the summit in Yerevan?", abstain=False)
    assert answer.passages[0].highlight.startswith("Nikolai Bordyuzha chaired")


def _candidate(chunk_id: int, score: float, typed: bool, fused: float = 1.0) -> _Candidate:
    chunk = Chunk(chunk_id, "doc", "Title", "", 0, 10, "text", (chunk_id, chunk_id + 1))
    return _Candidate(Hit(chunk_id, fused, dense_score=0.5), chunk, chunk_id, 0.5, score, typed)


def test_a_typed_later_passage_leads_when_the_first_passages_hold_no_typed_sentence() -> None:
    focus = question_focus("Who leads the council?", IDF, 100)
    kept = [_candidate(0, 1.2, False), _candidate(1, 1.1, False), _candidate(2, 1.0, False)]
    later = _candidate(7, 1.5, True, fused=0.3)  # type bonus in its score
    assert AnswerBuilder._lead(kept + [later], [], focus) == 3
    assert AnswerBuilder._lead(kept, [later], focus) == 3  # an uncited reserve too


def test_a_first_passage_that_answers_in_another_form_keeps_the_lead_over_a_weak_typed_one() -> None:
    """A "who set up GUAM?" is answered by countries: the first passage's sentence, far
    better on the question, is not replaced by any later one that merely holds a name."""
    focus = question_focus("Who leads the council?", IDF, 100)
    kept = [_candidate(0, 1.9, False), _candidate(1, 1.1, False), _candidate(2, 1.0, False)]
    later = _candidate(7, 1.3, True, fused=0.3)
    assert AnswerBuilder._lead(kept + [later], [], focus) == 0

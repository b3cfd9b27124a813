"""Behaviour of the engine on the real corpus with the real model."""

from __future__ import annotations

import json

import pytest

from csto_qa.errors import QueryError
from csto_qa.records import Answer

pytestmark = pytest.mark.slow

CONTRACT_KEYS = {
    "rank",
    "doc",
    "title",
    "section",
    "start",
    "end",
    "text",
    "highlight",
    "score",
    "bm25_score",
    "bm25_rank",
    "dense_score",
    "dense_rank",
    "sources",
}


def test_uzbekistan_suspension_is_the_first_citation(engine) -> None:
    answer = engine.ask("When did Uzbekistan suspend its CSTO membership?")
    assert not answer.abstained
    first = answer.passages[0]
    assert "28 June 2012" in first.text
    assert "28 June 2012" in first.highlight  # the answering sentence is the highlight
    assert first.highlight in first.text


def test_off_topic_question_abstains(engine) -> None:
    answer = engine.ask("who won the 2018 football world cup")
    assert answer.abstained and answer.passages == []
    assert "do not answer" in answer.message


@pytest.mark.parametrize("mode", ["hybrid", "bm25", "dense"])
def test_every_mode_answers_and_carries_the_score_breakdown(engine, mode: str) -> None:
    answer = engine.ask("Who is the current Secretary General of the CSTO?", k=4, mode=mode)
    assert answer.mode == mode and 1 <= len(answer.passages) <= 4
    assert [p.rank for p in answer.passages] == list(range(1, len(answer.passages) + 1))
    # The passage holding the lead sentence comes first; the others keep their fused order.
    scores = [p.score for p in answer.passages[1:]]
    assert scores == sorted(scores, reverse=True)
    for p in answer.passages:
        assert p.dense_score is not None and -1.0 <= p.dense_score <= 1.0
        assert p.bm25_score is not None and p.bm25_score >= 0
    assert any("Tasmagambetov" in p.text for p in answer.passages)


def test_passages_are_exact_spans_of_their_documents(engine) -> None:
    answer = engine.ask("peacekeeping force Kazakhstan January 2022", k=8)
    for p in answer.passages:
        text = engine.document(p.doc).text
        assert text[p.start : p.end] == p.text
        assert text[p.highlight_start : p.highlight_end] == p.highlight
        assert p.start <= p.highlight_start < p.highlight_end <= p.end


def test_near_duplicates_are_collapsed_into_one_citation_with_all_sources(engine) -> None:
    # The suspension sentence is in both Wikipedia texts: one citation, two sources.
    answer = engine.ask("When did Uzbekistan suspend its CSTO membership?", k=10)
    carrying = [p for p in answer.passages if "28 June 2012, Uzbekistan suspended" in p.text]
    assert len(carrying) == 1
    assert {"csto-wikipedia", "csto-wikipedia-sections"} <= set(carrying[0].sources)
    highlights = [" ".join(p.highlight.split()) for p in answer.passages]
    assert len(highlights) == len(set(highlights))


def test_top_k_is_not_filled_with_copies_of_one_paragraph(engine) -> None:
    answer = engine.ask("What is the CSTO?", k=5)
    texts = [set(p.text.split()) for p in answer.passages]
    for i, a in enumerate(texts):
        for b in texts[i + 1 :]:
            assert len(a & b) / min(len(a), len(b)) < 0.9


def test_follow_up_uses_the_previous_question(engine) -> None:
    answer = engine.ask("and when did it leave?", history=["When did Uzbekistan join the CSTO?"])
    assert "Uzbekistan" in answer.query
    assert any("2012" in p.text for p in answer.passages[:3])


def test_empty_question_runs_no_retrieval(engine) -> None:
    answer = engine.ask("   ")
    assert answer.abstained and answer.passages == [] and answer.timings_ms == {}
    assert "type a question" in answer.message


def test_no_abstain_returns_passages_with_the_same_confidence(engine) -> None:
    declined = engine.ask("who won the 2018 football world cup")
    forced = engine.ask("who won the 2018 football world cup", abstain=False)
    assert declined.abstained and not forced.abstained and forced.passages
    assert forced.confidence == declined.confidence < engine.settings.abstain_threshold


def test_json_contract_is_stable(engine) -> None:
    data = json.loads(json.dumps(engine.ask("When was the CSTO founded?").to_dict()))
    assert {"question", "abstained", "passages"} <= data.keys()
    for passage in data["passages"]:
        assert CONTRACT_KEYS <= passage.keys()
        assert isinstance(passage["sources"], list) and passage["doc"] in passage["sources"]
    again = Answer.from_dict(data)
    assert again.passages[0].text == data["passages"][0]["text"]


@pytest.mark.parametrize(("k", "mode"), [(0, "hybrid"), (51, "hybrid"), (5, "fuzzy"), ("5", "bm25")])
def test_bad_requests_quote_the_bad_value(engine, k, mode) -> None:
    with pytest.raises(QueryError, match=repr(k) if mode != "fuzzy" else "fuzzy"):
        engine.ask("When was the CSTO founded?", k=k, mode=mode)


def test_documents_are_reachable_only_by_index_id(engine) -> None:
    assert engine.document("csto-facts-for-kids").title.startswith("Collective Security")
    with pytest.raises(QueryError):
        engine.document("../../etc/passwd")


def test_cyrillic_question_matches_cyrillic_text(engine) -> None:
    answer = engine.ask("Организация Договора о коллективной безопасности", abstain=False)
    assert any("Организация Договора" in p.text for p in answer.passages)


def test_headquarters_lead_names_the_city(engine) -> None:
    answer = engine.ask("Where is the CSTO headquartered?")
    assert not answer.abstained
    assert "Moscow" in answer.passages[0].highlight


def test_definition_question_leads_with_a_defining_sentence(engine) -> None:
    answer = engine.ask("What is the Collective Security Treaty Organization?")
    first = answer.passages[0]
    assert " is " in first.highlight and "Retrieved" not in first.highlight, first.highlight
    assert first.answer and first.answer in first.highlight  # the predicate of "X is ..."
    assert engine.document(first.doc).text[first.answer_start : first.answer_end] == first.answer


def test_when_question_leads_with_a_dated_sentence(engine) -> None:
    answer = engine.ask("When did the current secretary general take office?")
    first = answer.passages[0]
    assert "2023" in first.highlight, first.highlight
    assert first.answer is not None and "2023" in first.answer
    doc = engine.document(first.doc).text
    assert doc[first.answer_start : first.answer_end] == first.answer
    assert (answer.answer, answer.answer_doc) == (first.answer, first.doc)


def test_a_figure_the_documents_never_give_is_declined_with_the_passages_folded(engine) -> None:
    answer = engine.ask("What is the CSTO's annual budget?")
    assert answer.abstained and answer.folded and answer.passages
    assert answer.message.startswith("The documents do not say what the CSTO's annual budget is.")
    assert "budget" in answer.missing and answer.answer is None
    forced = engine.ask("What is the CSTO's annual budget?", abstain=False)
    assert not forced.abstained and forced.confidence == answer.confidence


def test_what_about_replaces_the_subject_of_the_previous_question(engine) -> None:
    answer = engine.ask(
        "what about Azerbaijan?", history=["When did Armenia freeze its participation in the CSTO?"]
    )
    assert answer.query == "When did Azerbaijan freeze its participation in the CSTO?"
    standalone = engine.ask("When did Uzbekistan suspend its membership?", history=["Who leads the CSTO?"])
    assert standalone.query == "When did Uzbekistan suspend its membership?"

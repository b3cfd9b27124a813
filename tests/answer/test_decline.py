"""The decline rule and its message: hand-made cases on a tiny index, and a floor on the real set."""

from __future__ import annotations

from dataclasses import replace

import pytest

from csto_qa.answer.answer_type import AnswerType
from csto_qa.answer.decline import SUPPORT_SCALE, confidence, decline_message, indirect
from csto_qa.answer.focus import Focus
from csto_qa.records import Hit
from tests.fakes import FakeEncoder

THRESHOLD = 0.33  # EngineSettings.abstain_threshold
DOCS = {
    # One passage each (short documents are one chunk), so a test picks the evidence.
    "drills.txt": "The council's forces hold exercises every year with soldiers from six members. "
    "They buy Russian weapons at the same price as Russia.",
    "analysis.txt": "A think tank in Moscow wrote that the council is weak. "
    "The council has its headquarters in Moscow.",
    "leaders.txt": "The president of the assembly chaired the session. Delegates came by train. "
    "The hall was full. Uzbekistan joined the assembly in 2006.",
}
# Passages on other matters that use the common words, so that IDF ranks the rare ones
# as on a real corpus (in a two-passage index every known word has the same IDF).
FILLER = [
    f"The council's forces met in Moscow in {year} and the council spoke about its members."
    for year in range(2001, 2009)
]


@pytest.fixture(scope="module")
def tiny_engine(tmp_path_factory: pytest.TempPathFactory):
    from csto_qa.engine import Engine
    from csto_qa.index.build import build, quiet

    base = tmp_path_factory.mktemp("decline")
    corpus = base / "corpus"
    corpus.mkdir()
    for name, text in DOCS.items():
        (corpus / name).write_text(text, encoding="utf-8")
    for i, text in enumerate(FILLER):
        (corpus / f"filler{i}.txt").write_text(text, encoding="utf-8")
    build(corpus, base / "index", FakeEncoder(), report=quiet, progress=False)
    return Engine(*_load(base / "index"))


def _load(index_dir):
    from csto_qa.index.storage import load_index

    return load_index(index_dir), FakeEncoder()


def built_on(engine, question: str, doc: str):
    """What the builder makes of ``question`` when ``doc``'s passage is the only evidence."""
    chunk = next(c for c in engine.stored.chunks if c.doc_id == doc.removesuffix(".txt"))
    vector = engine.encoder.encode_query(question)
    return engine.builder.build(question, vector, [Hit(chunk.chunk_id, 1.0, 1.0, 1, 0.5, 1)], 5)


def declines(built) -> bool:
    return confidence(1.0, built.support) < THRESHOLD  # the cosine set aside: on-topic evidence


def test_a_head_the_passage_has_is_supported(tiny_engine) -> None:
    built = built_on(tiny_engine, "How many soldiers hold the exercises?", "drills.txt")
    assert built.support == 1.0 and built.type_found  # "six" is the number asked for
    assert not declines(built)


def test_a_head_the_passage_lacks_declines_even_if_the_index_knows_it(tiny_engine) -> None:
    # "tank" is a word of the index (a "think tank"), but not of the passage that answers.
    built = built_on(tiny_engine, "How many tanks do the council's forces have?", "drills.txt")
    assert built.focus.head == {"tank"}
    assert built.missing[0] == "tanks"
    assert declines(built)
    # The same question with the passage that has the word is not declined by this rule.
    assert not declines(built_on(tiny_engine, "How many tanks do the council's forces have?", "analysis.txt"))


def test_a_complement_only_another_passage_has_costs_the_bound_weight(tiny_engine) -> None:
    from csto_qa.answer.evidence import BOUND_WEIGHT, HEAD_WEIGHT

    question = "What is the think tank of the soldiers?"
    chunks = {c.doc_id: c for c in tiny_engine.stored.chunks}
    vector = tiny_engine.encoder.encode_query(question)
    # The lead passage has the think tank, only the other one has "soldiers" ("forces" is in most passages:
    # the corpus's topic, which a passage may leave unsaid).
    hits = [
        Hit(chunks["analysis"].chunk_id, 1.0, 1.0, 1, 0.5, 1),
        Hit(chunks["drills"].chunk_id, 0.9, 1.0, 2, 0.4, 2),
    ]
    built = tiny_engine.builder.build(question, vector, hits, 5)
    assert built.passages[0].doc == "analysis" and built.focus.bound == {"soldier"}
    terms = built.focus.terms
    total = sum(t.idf for t in terms.values())
    # The bound word costs its weight, and the head ("think tank"), now bound to nothing the
    # lead passage says, counts as missing too.
    head = sum(terms[s].idf for s in built.focus.head)
    lost = BOUND_WEIGHT * terms["soldier"].idf + HEAD_WEIGHT * head
    assert built.support == pytest.approx(max(0.0, 1 - lost / total), abs=1e-4)
    assert "soldiers" in built.missing and not built.missing_everywhere
    # With the lead passage alone the word is in no evidence: a paraphrase, no loss.
    assert built_on(tiny_engine, question, "analysis.txt").support == 1.0


def test_a_complement_must_stand_beside_the_lead_sentence(tiny_engine) -> None:
    from csto_qa.answer.evidence import Lead

    question = "Who is the president of Uzbekistan?"
    builder = tiny_engine.builder
    focus = builder.focus(question)
    assert focus.head == {"presid"} and focus.bound == {"uzbekistan"}
    chunk = next(c for c in tiny_engine.stored.chunks if c.doc_id == "leaders")
    first = chunk.sentences[0]  # "The president of the assembly ...", Uzbekistan three sentences on

    def near(sid: int, asked: Focus = focus) -> set[str] | None:
        lead = Lead(chunk.chunk_id, sid, builder.sentence_features(chunk), None)
        return builder.evidence.near_lead(lead, asked)

    assert near(first) == set()  # the president of something else: the head is unbound
    assert near(first + 2) == {"uzbekistan"}  # the next sentence names it
    assert near(first + 3) == {"uzbekistan"}
    # The corpus's own topic goes unsaid ("the chairman of the CSTO" -> "Chairman | …").
    topic = builder.focus("Who is the president of the council?")
    assert topic.bound == {"council"} and near(first + 2, topic) == {"council"}
    # A misspelt complement stands beside the lead as its near spelling, as it is in the evidence.
    misspelt = builder.focus("Who is the president of Uzbekistn?")
    assert misspelt.bound == {"uzbekistn"} and not misspelt.terms["uzbekistn"].known
    assert near(first + 2, misspelt) == {"uzbekistn"} and near(first, misspelt) == set()


def test_the_asked_type_missing_halves_the_support(tiny_engine) -> None:
    built = built_on(tiny_engine, "When did the council's forces buy Russian weapons?", "drills.txt")
    assert not built.type_found and built.support == pytest.approx(0.5)
    assert confidence(1.0, built.support) == pytest.approx(SUPPORT_SCALE * 0.5)


def test_a_word_the_index_never_saw_declines(tiny_engine) -> None:
    built = built_on(tiny_engine, "What is the council's budget?", "drills.txt")
    assert built.missing[:1] == ["budget"] and built.missing_everywhere
    assert declines(built)


@pytest.mark.parametrize(
    ("cosine", "support", "declined", "folded"),
    [(0.2, 1.0, True, False), (0.8, 0.1, True, True), (0.8, 1.0, False, False)],
)
def test_engine_declines_off_topic_bare_and_unsupported_with_passages_folded(
    tiny_engine, monkeypatch: pytest.MonkeyPatch, cosine: float, support: float, declined: bool, folded: bool
) -> None:
    # The fake encoder's cosines are noise: the evidence is set, the engine's branch is tested.
    real = tiny_engine.builder.build

    def build(*args, **kwargs):
        return replace(real(*args, **kwargs), cosine=cosine, support=support)

    monkeypatch.setattr(tiny_engine.builder, "build", build)
    answer = tiny_engine.ask("What is the council's annual budget?")
    assert answer.abstained is declined
    assert answer.folded is folded
    assert bool(answer.passages) is (folded or not declined)  # off topic: nothing to show
    if folded:
        assert answer.message.startswith("The documents do not say what the council's annual budget is.")
        assert "“budget”" in answer.message and answer.answer is None


def test_message_restates_the_question_and_names_the_gap() -> None:
    message = decline_message("What is the CSTO's annual budget?", ["budget"], AnswerType.OTHER, True)
    assert message == (
        "The documents do not say what the CSTO's annual budget is. "
        "The closest passages do not mention “budget”."
    )
    only_lead = decline_message(
        "how many tanks does the csto have", ["tanks"], AnswerType.NUMBER, True, False
    )
    assert only_lead == (
        "The documents do not say how many tanks the csto has. The closest passage does not mention “tanks”."
    )
    # A missing word is quoted as the question spells it.
    cased = decline_message("When was NATO founded?", ["nato"], AnswerType.DATE, True, False)
    assert cased == (
        "The documents do not say when NATO was founded. The closest passage does not mention “NATO”."
    )
    typed = decline_message("When did the council meet?", [], AnswerType.DATE, False)
    assert typed == "The documents do not answer this question. The closest passages give no date for it."


@pytest.mark.parametrize(
    ("question", "said"),
    [
        ("Who is Armenia's defence minister?", "who Armenia's defence minister is"),
        ("How many drones do the forces have?", "how many drones the forces have"),
        ("What did the council have in 2002?", "what the council had in 2002"),
        ("How many drones does the force operate?", None),  # no verb table: not restated
        ("Does the CSTO have a navy?", None),
        ("When was NATO founded?", "when NATO was founded"),  # a passive: the participle last
        ("Where was the summit held?", "where the summit was held"),
        ("When was Imangali Tasmagambetov born?", "when Imangali Tasmagambetov was born"),
        ("Where is the headquarters?", "where the headquarters is"),  # no participle
    ],
)
def test_indirect_question(question: str, said: str | None) -> None:
    assert indirect(question) == said


@pytest.mark.slow
def test_decline_floors_on_the_real_set(engine) -> None:
    """Floors a question or two below what this rule measured (docs/eval/answer-layer.md,
    hybrid: wrongly declined 6 of 142, on-topic declined 36 of 49, off-topic 5 of 7)."""
    from csto_qa.evaluation.evaluate import evaluate
    from csto_qa.evaluation.questions import default_questions_path, load_questions

    metrics = (
        evaluate(engine, load_questions(default_questions_path()), ("hybrid",), k=10)
        .summaries["hybrid"]
        .metrics
    )
    assert metrics["answerable_declined"] <= 0.05  # issue 12's ceiling (measured 0.042)
    assert metrics["on_topic_declined"] >= 30 / 49  # measured 31 of 49 (head weight 1.25)
    assert metrics["off_topic_declined"] >= 5 / 7  # measured 5 of 7


@pytest.mark.slow
@pytest.mark.parametrize(
    ("question", "named"),
    [
        ("What is the CSTO's annual budget?", "budget"),
        ("how many tanks does the csto have", "tanks"),
        ("what is the population of tajikistan", "population"),
    ],
)
def test_issue_examples_are_declined_naming_the_gap(engine, question: str, named: str) -> None:
    answer = engine.ask(question)
    assert answer.abstained and answer.passages  # declined, the closest passages kept (folded)
    assert named in answer.missing and f"“{named}”" in answer.message


@pytest.mark.slow
def test_a_close_answerable_question_is_answered(engine) -> None:
    answer = engine.ask("How many peacekeepers did the CSTO send to Kazakhstan?")
    assert not answer.abstained and "2,000" in answer.passages[0].highlight


def test_an_everyday_word_the_documents_never_use_costs_the_generic_weight(tiny_engine) -> None:
    from csto_qa.answer.evidence import GENERIC_WEIGHT

    built = built_on(tiny_engine, "How many soldiers have the council's forces got?", "drills.txt")
    terms = built.focus.terms
    assert not terms["got"].known and built.focus.head == {"soldier"}
    total = sum(t.idf for t in terms.values())
    assert built.support == pytest.approx(1 - GENERIC_WEIGHT * terms["got"].idf / total, abs=1e-4)
    assert not declines(built)
    # A rare word the documents never use costs its whole IDF.
    rare = built_on(tiny_engine, "How many soldiers have the council's forces mothballed?", "drills.txt")
    assert rare.support < built.support and declines(rare)

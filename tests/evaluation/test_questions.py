"""Tests for the retrieval evaluation set and its checker (csto_qa.evaluation.questions)."""

from __future__ import annotations

import importlib
import json
import re
import sys
from collections import Counter
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:  # works without installing the package
    sys.path.insert(0, str(REPO_ROOT))

evalset = importlib.import_module("csto_qa.evaluation.questions")
CATEGORIES = evalset.CATEGORIES
MIN_CATEGORY_COUNTS = evalset.MIN_CATEGORY_COUNTS
EvalQuestion = evalset.EvalQuestion
EvalSetError = evalset.EvalSetError
check_against_corpus = evalset.check_against_corpus
default_questions_path = evalset.default_questions_path
load_questions = evalset.load_questions

CORPUS_DIR = REPO_ROOT / "corpus"
DOC_IDS = {
    "csto-wikipedia",
    "csto-wikipedia-sections",
    "csto-analyst-rozen-bakher",
    "csto-facts-for-kids",
}


@pytest.fixture(scope="module")
def corpus_texts() -> dict[str, str]:
    return {p.stem: p.read_text(encoding="utf-8") for p in sorted(CORPUS_DIR.glob("*.txt"))}


@pytest.fixture(scope="module")
def questions() -> list[EvalQuestion]:
    return load_questions(default_questions_path())


def _good(**overrides: object) -> dict[str, object]:
    row: dict[str, object] = {
        "id": "q001",
        "question": "When was the treaty signed?",
        "answers": ["15 May 1992"],
        "docs": ["doc-a"],
        "category": "dates_numbers",
        "answerable": True,
    }
    row.update(overrides)
    return row


def _write(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "questions.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# --- the real set -------------------------------------------------------------


def test_default_path_points_into_corpus_eval() -> None:
    path = default_questions_path()
    assert path == REPO_ROOT / "corpus" / "eval" / "questions.jsonl"
    assert path.is_file()


def test_real_set_size_and_ids(questions: list[EvalQuestion]) -> None:
    assert len(questions) >= 80
    ids = [q.id for q in questions]
    assert len(ids) == len(set(ids))
    assert sum(not q.answerable for q in questions) >= 10


def test_real_set_category_minimums(questions: list[EvalQuestion]) -> None:
    counts = Counter(q.category for q in questions)
    assert set(counts) <= set(CATEGORIES)
    for category, minimum in MIN_CATEGORY_COUNTS.items():
        assert counts[category] >= minimum, (category, counts[category])


def test_real_set_unanswerable_scopes_and_follow_ups(questions: list[EvalQuestion]) -> None:
    unanswerable = [q for q in questions if not q.answerable]
    assert all(q.scope in evalset.SCOPES for q in unanswerable)  # every one is labelled
    on_topic = [q for q in unanswerable if q.scope == "on_topic"]
    assert len(on_topic) >= evalset.MIN_ON_TOPIC_UNANSWERABLE
    assert all(q.probe for q in on_topic)  # absence from the corpus: test_real_set_matches_corpus
    follow_ups = [q for q in questions if q.category == "follow_up"]
    assert all(len(q.history) == 1 and q.answers for q in follow_ups)


def test_real_set_docs_are_known(questions: list[EvalQuestion]) -> None:
    for q in questions:
        assert set(q.docs) <= DOC_IDS, q.id
        if q.category == "analyst_page":
            assert q.docs == ("csto-analyst-rozen-bakher",), q.id
        if q.category == "kids_page":
            assert q.docs == ("csto-facts-for-kids",), q.id


def test_real_set_matches_corpus(questions: list[EvalQuestion], corpus_texts: dict[str, str]) -> None:
    assert set(corpus_texts) == DOC_IDS
    assert check_against_corpus(questions, corpus_texts) == []


def test_roundtrip_to_from_dict(questions: list[EvalQuestion]) -> None:
    for q in questions:
        assert EvalQuestion.from_dict(q.to_dict()) == q
        json.dumps(q.to_dict())


# --- loader validation --------------------------------------------------------


def test_load_skips_blank_lines(tmp_path: Path) -> None:
    path = _write(tmp_path, ["", json.dumps(_good()), "   ", json.dumps(_good(id="q002"))])
    assert [q.id for q in load_questions(path)] == ["q001", "q002"]


def test_bad_json_reports_file_and_line(tmp_path: Path) -> None:
    path = _write(tmp_path, [json.dumps(_good()), "", '{"id": "q002", "question": '])
    with pytest.raises(EvalSetError) as info:
        load_questions(path)
    msg = str(info.value)
    assert f"{path}:3" in msg
    assert "invalid JSON" in msg


def test_unknown_category(tmp_path: Path) -> None:
    path = _write(tmp_path, [json.dumps(_good(category="trivia"))])
    with pytest.raises(EvalSetError, match=r":1: unknown category 'trivia'"):
        load_questions(path)


def test_duplicate_id(tmp_path: Path) -> None:
    path = _write(tmp_path, [json.dumps(_good()), json.dumps(_good())])
    with pytest.raises(EvalSetError, match=r":2: duplicate id 'q001' \(first seen on line 1\)"):
        load_questions(path)


def test_missing_field(tmp_path: Path) -> None:
    row = _good()
    del row["docs"]
    path = _write(tmp_path, [json.dumps(row)])
    with pytest.raises(EvalSetError, match="missing field 'docs'"):
        load_questions(path)


def test_wrong_type(tmp_path: Path) -> None:
    path = _write(tmp_path, [json.dumps(_good(answers="15 May 1992"))])
    with pytest.raises(EvalSetError, match="field 'answers' must be list"):
        load_questions(path)


def test_answerable_without_answers(tmp_path: Path) -> None:
    path = _write(tmp_path, [json.dumps(_good(answers=[]))])
    with pytest.raises(EvalSetError, match="answerable question has no answers"):
        load_questions(path)


def test_unanswerable_with_answers(tmp_path: Path) -> None:
    row = _good(category="unanswerable", answerable=False)
    path = _write(tmp_path, [json.dumps(row)])
    with pytest.raises(EvalSetError, match="unanswerable question must have empty"):
        load_questions(path)


def test_not_an_object(tmp_path: Path) -> None:
    path = _write(tmp_path, ["[1, 2]"])
    with pytest.raises(EvalSetError, match="expected a JSON object"):
        load_questions(path)


# --- corpus check -------------------------------------------------------------


def test_check_detects_missing_answer_string() -> None:
    corpus = {"doc-a": "On 15 May\n1992, six states signed."}
    ok = EvalQuestion.from_dict(_good())
    assert check_against_corpus([ok], corpus) == []  # newline normalised away
    bad = EvalQuestion.from_dict(_good(answers=["15 May 1992", "16 May 1992"]))
    problems = check_against_corpus([bad], corpus)
    assert len(problems) == 1
    assert "'16 May 1992'" in problems[0]


def test_check_is_case_sensitive() -> None:
    corpus = {"doc-a": "on 15 may 1992"}
    problems = check_against_corpus([EvalQuestion.from_dict(_good())], corpus)
    assert any("not found" in p for p in problems)


def test_check_unknown_doc_and_doc_without_answer() -> None:
    corpus = {"doc-a": "15 May 1992", "doc-b": "nothing here"}
    q = EvalQuestion.from_dict(_good(docs=["doc-a", "doc-b", "doc-x"]))
    problems = check_against_corpus([q], corpus)
    assert any("'doc-x' not in corpus" in p for p in problems)
    assert any("'doc-b' contains none of the answers" in p for p in problems)


def test_check_flags_unlisted_doc_with_answer() -> None:
    corpus = {"doc-a": "15 May 1992", "doc-b": "signed on 15 May 1992"}
    q = EvalQuestion.from_dict(_good())
    problems = check_against_corpus([q], corpus)
    assert problems == [f"q001: unlisted doc 'doc-b' contains answer(s) {['15 May 1992']}"]
    assert check_against_corpus([q], corpus, require_complete_docs=False) == []


def test_check_ignores_unanswerable() -> None:
    q = EvalQuestion.from_dict(_good(answers=[], docs=[], category="unanswerable", answerable=False))
    assert check_against_corpus([q], {"doc-a": "text"}) == []


# --- optional fields: scope, probe, history -----------------------------------


def _unanswerable(**overrides: object) -> dict[str, object]:
    row = _good(id="u1", question="What is the budget?", answers=[], docs=[], category="unanswerable",
                answerable=False, scope="on_topic", probe="budget")  # fmt: skip
    row.update(overrides)
    return row


def test_optional_fields_load_and_round_trip(tmp_path: Path) -> None:
    follow = _good(id="f1", question="and when?", category="follow_up", history=["Who froze?"])
    path = _write(tmp_path, [json.dumps(_unanswerable()), json.dumps(follow)])
    unans, turn = load_questions(path)
    assert unans.scope == "on_topic" and unans.probe == ("budget",) and unans.history == ()
    assert turn.history == ("Who froze?",) and turn.scope is None
    assert unans.to_dict()["probe"] == ["budget"] and "history" not in unans.to_dict()
    assert EvalQuestion.from_dict(turn.to_dict()) == turn
    assert "scope" not in EvalQuestion.from_dict(_good()).to_dict()  # old rows stay as they were


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        (_unanswerable(scope="nearby"), "field 'scope' must be one of off_topic, on_topic"),
        (_unanswerable(probe=None), "an on-topic unanswerable question needs a 'probe'"),
        (_unanswerable(probe=[""]), "field 'probe' must be a non-empty string"),
        (_good(probe="x"), "for unanswerable questions only"),
        (_good(category="follow_up"), "a 'follow_up' question needs a 'history'"),
        (_good(history="Who froze?"), None),  # one string is accepted as one turn
        (_good(history=[1]), "field 'history' must be a non-empty string"),
        (_good(history=["q"] * 11), "11 turns (the limit is 10)"),
    ],
)
def test_optional_field_errors(tmp_path: Path, row: dict[str, object], problem: str | None) -> None:
    row = {k: v for k, v in row.items() if v is not None}
    path = _write(tmp_path, [json.dumps(row)])
    if problem is None:
        assert load_questions(path)[0].history == ("Who froze?",)
        return
    with pytest.raises(EvalSetError, match=re.escape(problem)):
        load_questions(path)


def test_check_fails_when_a_probe_occurs_in_the_corpus() -> None:
    corpus = {"doc-a": "The CSTO has a\nBudget  Committee.", "doc-b": "Nothing."}
    q = EvalQuestion.from_dict(_unanswerable(probe=["budget committee", "navy"]))
    problems = check_against_corpus([q], corpus)  # case-insensitive, whitespace-normalised
    assert problems == ["u1: probe 'budget committee' occurs in corpus doc(s) ['doc-a']"]
    absent = EvalQuestion.from_dict(_unanswerable(probe="warships"))
    assert check_against_corpus([absent], corpus) == []


def test_nested_and_oversized_lines_are_one_line_errors(tmp_path: Path) -> None:
    path = _write(tmp_path, [json.dumps(_good()), "[" * 100_000 + "]" * 100_000])
    with pytest.raises(EvalSetError, match=r":2: line is longer than"):
        load_questions(path)
    path = _write(tmp_path, ['{"a": ' * 50 + "1" + "}" * 50])
    with pytest.raises(EvalSetError, match=r":1: JSON nested 50 levels deep \(the limit is 8\)"):
        load_questions(path)
    brackets_in_text = _good(question="What do [[[[[[[[[[ brackets ]]]]]]]]]] mean? {{{{{{{{{")
    assert load_questions(_write(tmp_path, [json.dumps(brackets_in_text)]))[0].question.startswith("What")


@pytest.mark.parametrize(
    "name",
    [
        "dev-lead.jsonl",
        "dev-decline.jsonl",
        "dev-heldout.jsonl",
        "dev-offtopic.jsonl",
        "dev-judge.jsonl",
        "dev-judge2.jsonl",
    ],
)
def test_the_independent_sets_load_and_match_the_corpus(name: str, corpus_texts: dict[str, str]) -> None:
    dev = evalset.load_questions(CORPUS_DIR / "eval" / name)
    assert dev and len({q.id for q in dev}) == len(dev)
    assert check_against_corpus(dev, corpus_texts) == []  # answers present, probes absent

"""The chat app's saved conversations and feedback file: pure functions, checked by hand."""

from __future__ import annotations

import json
from pathlib import Path

from csto_qa.app import session as ui_session
from csto_qa.records import Answer, Passage


def passage() -> Passage:
    text = "Some text."
    return Passage(1, "doc", "Title", "", 0, 10, text, text, 0, 10, 1.0, 2.0, 1, 0.5, 1, ["doc"])


def test_save_puts_the_conversation_first_and_replaces_its_older_copy() -> None:
    store, first = ui_session.save(None, "", [{"role": "user", "content": "a"}], ["Question A"], [None])
    store, second = ui_session.save(store, "", [{"role": "user", "content": "b"}], ["Question B"], [None])
    assert first != second and [t for t, _ in ui_session.choices(store)] == ["Question B", "Question A"]
    store, again = ui_session.save(store, first, [{"role": "user", "content": "a2"}], ["Question A"], [None])
    assert again == first and [i for _, i in ui_session.choices(store)] == [first, second]
    assert ui_session.find(store, first)["messages"][0]["content"] == "a2"


def test_the_store_is_capped_by_count_and_by_size() -> None:
    store: dict = ui_session.empty_store()
    for n in range(ui_session.MAX_SAVED + 5):
        store, _ = ui_session.save(store, "", [{"role": "user", "content": str(n)}], [f"Q{n}"], [])
    assert len(ui_session.conversations(store)) == ui_session.MAX_SAVED
    big = [{"role": "assistant", "content": "x" * (ui_session.MAX_SAVED_CHARS // 3)}]
    for n in range(5):
        store, _ = ui_session.save(store, "", big, [f"Big {n}"], [])
    assert len(json.dumps(store["conversations"])) <= ui_session.MAX_SAVED_CHARS
    assert ui_session.choices(store)[0][0] == "Big 4"  # the newest stays


def test_malformed_browser_data_is_dropped_not_trusted() -> None:
    store = {"conversations": [{"id": 3}, "x", {"id": "ok", "messages": [], "history": []}]}
    assert [c["id"] for c in ui_session.conversations(store)] == ["ok"]
    assert ui_session.conversations("garbage") == [] and ui_session.conversations({"conversations": 5}) == []


def test_feedback_goes_beside_the_index_one_json_line_each(tmp_path: Path) -> None:
    index = tmp_path / "index"
    index.mkdir()
    path = ui_session.feedback_path(index)
    assert path == tmp_path / "csto-qa-feedback.jsonl"
    shown = ui_session.turn(Answer("Q?", "Q", "hybrid", False, [passage()], 0.61234), 3)
    ui_session.record_feedback(path, shown, "dislike")
    ui_session.record_feedback(path, shown, "like")
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert [r["rating"] for r in lines] == ["dislike", "like"]
    assert lines[0]["question"] == "Q?" and lines[0]["k"] == 3 and lines[0]["confidence"] == 0.6123
    assert lines[0]["lead"] == "Some text." and lines[0]["passages"][0]["doc"] == "doc"
    assert list(index.iterdir()) == []  # nothing is written inside the index


def test_a_full_store_still_fits_under_the_request_body_limit() -> None:
    from csto_qa.app.guard import MAX_BODY_BYTES

    # The page posts the store with each save: base64 of the encrypted JSON (x 4/3) plus the
    # request's own JSON must stay under the guard's limit, or saving would fail.
    assert ui_session.MAX_SAVED_CHARS * 4 / 3 * 1.2 < MAX_BODY_BYTES


def test_the_store_key_is_stable_per_index_folder(tmp_path: Path) -> None:
    a, b = tmp_path / "a" / "index", tmp_path / "b" / "index"
    assert ui_session.store_secret(a) == ui_session.store_secret(a)
    assert ui_session.store_secret(a) != ui_session.store_secret(b)
    assert len(ui_session.store_secret(None)) == 32

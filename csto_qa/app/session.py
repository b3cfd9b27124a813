"""What the chat app keeps: conversations in the browser, and like/dislike in a local file.

Conversations live in the browser's localStorage (Gradio's ``BrowserState``). Its key is
sent to the page (the page encrypts), so it protects nothing secret; it is derived from the
index folder so that conversations survive a server restart, and an app over another index
on the same address does not read them. The server keeps nothing of them beyond the session.
The store is a plain dict, changed only by the pure functions below::

    {"conversations": [{"id", "title", "messages", "history", "turns"}, ...]}   # newest first

Like/dislike go to ``csto-qa-feedback.jsonl`` beside the index folder (``index/`` →
``csto-qa-feedback.jsonl`` in the same parent folder), one JSON object a line: time, rating,
the question, the query that ran, mode, k, the lead sentence and the cited passages (document
and offsets), so a disliked answer can be turned into an evaluation question.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from csto_qa.records import Answer

MAX_SAVED = 20  # conversations kept in the browser
# The page sends the whole store with each save, and the request guard refuses bodies over
# 1 MiB (csto_qa/app/guard.py): 400,000 characters of JSON, with the encryption's base64
# (x 4/3) and JSON escaping, stay under it. An answer of 3 passages is 13-14 KB of HTML
# (measured on two example questions of the real corpus), so this keeps some 28 answers;
# the oldest conversations go first.
MAX_SAVED_CHARS = 400_000
FEEDBACK_FILE = "csto-qa-feedback.jsonl"
_write_lock = threading.Lock()


def store_secret(index_folder: Path | None) -> str:
    """The BrowserState key: stable for one index folder (see the module docstring)."""
    where = str(Path(index_folder).resolve()) if index_folder is not None else "no-index"
    return hashlib.sha256(f"csto-qa conversations|{where}".encode()).hexdigest()[:32]


def empty_store() -> dict[str, Any]:
    return {"conversations": []}


def conversations(store: Any) -> list[dict[str, Any]]:
    """The saved conversations of ``store`` (anything malformed from the browser is dropped)."""
    if not isinstance(store, dict) or not isinstance(store.get("conversations"), list):
        return []
    keep = []
    for conv in store["conversations"]:
        if (
            isinstance(conv, dict)
            and isinstance(conv.get("id"), str)
            and isinstance(conv.get("messages"), list)
            and isinstance(conv.get("history"), list)
        ):
            conv.setdefault("title", "Conversation")
            conv.setdefault("turns", [])
            keep.append(conv)
    return keep


def save(store: Any, conv_id: str, messages: list, history: list, turns: list) -> tuple[dict, str]:
    """``store`` with the conversation ``conv_id`` (a new id when empty) saved first; (store, id)."""
    saved = [c for c in conversations(store) if c["id"] != conv_id]
    if not messages:
        return {"conversations": saved}, conv_id
    conv_id = conv_id or uuid.uuid4().hex[:12]
    title = " ".join(str(history[0] if history else "Conversation").split())
    entry = {
        "id": conv_id,
        "title": title[:80] + ("…" if len(title) > 80 else ""),
        "messages": messages,
        "history": history,
        "turns": turns,
    }
    saved = [entry, *saved][:MAX_SAVED]
    while len(saved) > 1 and len(json.dumps(saved)) > MAX_SAVED_CHARS:
        saved.pop()  # the oldest goes first
    return {"conversations": saved}, conv_id


def find(store: Any, conv_id: str) -> dict[str, Any] | None:
    return next((c for c in conversations(store) if c["id"] == conv_id), None)


def choices(store: Any) -> list[tuple[str, str]]:
    """(title, id) of each saved conversation, newest first, for the list."""
    return [(c["title"], c["id"]) for c in conversations(store)]


def turn(answer: Answer, k: int) -> dict[str, Any]:
    """What was shown for one answer, compactly (for feedback)."""
    first = answer.passages[0] if answer.passages and not answer.abstained else None
    lead = (first.highlight_display or first.highlight) if first else answer.message
    return {
        "question": answer.question,
        "query": answer.query,
        "mode": answer.mode,
        "k": k,
        "abstained": answer.abstained,
        "confidence": round(answer.confidence, 4),
        "lead": " ".join(lead.split()),
        "passages": [
            {"rank": p.rank, "doc": p.doc, "start": p.start, "end": p.end, "highlight": p.highlight}
            for p in answer.passages
        ],
    }


def feedback_path(index_folder: Path) -> Path:
    """``csto-qa-feedback.jsonl`` beside ``index_folder`` (never inside the index)."""
    return Path(index_folder).resolve().parent / FEEDBACK_FILE


def record_feedback(path: Path, shown: dict[str, Any], rating: str) -> dict[str, Any]:
    """Append one like/dislike line to ``path``; returns the line's record."""
    record = {"time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "rating": rating, **shown}
    line = json.dumps(record, ensure_ascii=False) + "\n"
    with _write_lock, path.open("a", encoding="utf-8") as handle:
        handle.write(line)
    return record

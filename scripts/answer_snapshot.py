"""Snapshot of every answer the engine gives on a question set, to prove a change kept them.

    PYTHONPATH=$PWD python scripts/answer_snapshot.py write before.jsonl   # on the base commit
    PYTHONPATH=$PWD python scripts/answer_snapshot.py check before.jsonl   # after the change
    (-k 3, --fusion rrf: the same for other settings; pass them to both runs)

Each question of the set (default corpus/eval/questions.jsonl, with its ``history``) is asked
in every mode, with the decline rule on and off (``abstain=False`` is what the evaluation
ranks), and ``Answer.to_dict()`` is written one JSON line each: passages, their order,
highlights, answer phrases and offsets, confidence, decline decision and message. ``check``
recomputes them and prints the first differing field of each differing answer; it exits 1
when any differs. Timings are not part of the snapshot.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

MODES = ("hybrid", "bm25", "dense")


def snapshot(questions_path: str | None, k: int, fusion: str | None = None) -> list[dict[str, Any]]:
    from csto_qa.engine import Engine
    from csto_qa.evaluation.questions import default_questions_path, load_questions

    engine = Engine.open(progress=False)
    if fusion:
        engine = engine.with_settings(fusion=fusion)
    questions = load_questions(questions_path or default_questions_path())
    rows = []
    for q in questions:
        history = list(q.history) or None
        for mode in MODES:
            for abstain in (True, False):
                answer = engine.ask(q.question, k=k, mode=mode, history=history, abstain=abstain)
                rows.append({"id": q.id, "mode": mode, "abstain": abstain, "answer": answer.to_dict()})
    return rows


def first_difference(a: Any, b: Any, path: str = "") -> str | None:
    """Where two JSON values first differ (``passages[2].highlight``), or None."""
    if type(a) is not type(b):
        return f"{path}: {a!r} != {b!r}"
    if isinstance(a, dict):
        for key in sorted(a.keys() | b.keys()):
            if key not in a or key not in b:
                return f"{path}.{key}: present on one side only"
            found = first_difference(a[key], b[key], f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(a, list):
        if len(a) != len(b):
            return f"{path}: {len(a)} items != {len(b)}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            found = first_difference(x, y, f"{path}[{i}]")
            if found:
                return found
        return None
    return None if a == b else f"{path}: {a!r} != {b!r}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("write", "check"))
    parser.add_argument("snapshot", type=Path, help="the JSONL snapshot file")
    parser.add_argument("--questions", help="a questions JSONL (default: the evaluation set)")
    parser.add_argument("-k", type=int, default=5)
    parser.add_argument("--fusion", choices=("convex", "rrf"), help="hybrid fusion (default: the engine's)")
    args = parser.parse_args(argv)
    rows = snapshot(args.questions, args.k, args.fusion)
    if args.action == "write":
        with args.snapshot.open("w", encoding="utf-8") as out:
            for row in rows:
                out.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
        print(f"{len(rows)} answers written to {args.snapshot}")
        return 0
    before = [json.loads(line) for line in args.snapshot.read_text(encoding="utf-8").splitlines()]
    if len(before) != len(rows):
        print(f"{args.snapshot} has {len(before)} answers, this run gave {len(rows)}")
        return 1
    # Through JSON, so that tuples and floats compare as the file holds them.
    now = [json.loads(json.dumps(row, ensure_ascii=False)) for row in rows]
    differing = 0
    for old, new in zip(before, now, strict=True):
        found = first_difference(old, new)
        if found:
            differing += 1
            print(f"{old['id']} {old['mode']} abstain={old['abstain']}{found}"[:300])
    print(f"{differing} of {len(rows)} answers differ from {args.snapshot}")
    return 1 if differing else 0


if __name__ == "__main__":
    sys.exit(main())

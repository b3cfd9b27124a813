"""Answer-level figures of ``Engine.ask`` on a question set (a quick loop for the answer layer).

    PYTHONPATH=$PWD python scripts/answer_eval.py [questions.jsonl] [--mode hybrid] [--show]

lead: the lead sentence (first passage's highlight) contains an answer string;
phrase: the answer phrase overlaps an answer string (shares a word-level span);
R@1 / R@5: the first / any of the first five passages contains an answer string;
declined: confidence < abstain_threshold (the rule ``ask`` applies), split by whether the
question is answerable and, for unanswerable ones, on-topic (field ``topic`` or a CSTO word).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path


def norm(text: str) -> str:
    return " ".join(text.split())


def contains(text: str, answers: list[str]) -> bool:
    t = norm(text)
    return any(norm(a) in t for a in answers)


def phrase_ok(phrase: str | None, answers: list[str]) -> bool:
    if not phrase:
        return False
    p = set(re.findall(r"\w+", phrase.casefold()))
    for a in answers:
        w = set(re.findall(r"\w+", a.casefold()))
        if p and w and (p <= w or w <= p or len(p & w) >= max(1, min(len(p), len(w)) // 2 + 1)):
            return True
    return False


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("questions", nargs="?", default="corpus/eval/questions.jsonl")
    parser.add_argument("--mode", default="hybrid")
    parser.add_argument("--show", action="store_true", help="print every wrong lead / decline")
    parser.add_argument("--only", default="", help="comma-separated categories")
    args = parser.parse_args()
    from csto_qa.engine import Engine
    from csto_qa.index.build import quiet

    engine = Engine.open(report=quiet, progress=False)
    threshold = engine.settings.abstain_threshold
    rows = [json.loads(line) for line in Path(args.questions).read_text().splitlines() if line.strip()]
    if args.only:
        rows = [r for r in rows if r["category"] in args.only.split(",")]
    stats: dict[str, list[float]] = {}
    confs: list[tuple[float, bool, str]] = []

    def add(key: str, value: bool) -> None:
        stats.setdefault(key, []).append(float(value))

    for q in rows:
        history = q.get("history") or None
        answer = engine.ask(q["question"], k=5, mode=args.mode, history=history, abstain=False)
        declined = answer.confidence < threshold or not answer.passages
        cat = q["category"]
        if q["answerable"]:
            ans = q["answers"]
            ps = answer.passages
            lead = bool(ps) and contains(ps[0].highlight, ans)
            phrase = bool(ps) and phrase_ok(getattr(ps[0], "answer", None), ans)
            r1 = bool(ps) and contains(ps[0].text, ans)
            r5 = any(contains(p.text, ans) for p in ps[:5])
            for key in ("all", cat):
                add(f"{key}/lead", lead)
                add(f"{key}/phrase", phrase)
                add(f"{key}/R@1", r1)
                add(f"{key}/R@5", r5)
                add(f"{key}/wrongly_declined", declined)
            confs.append((answer.confidence, True, q["id"]))
            if args.show and (not lead or declined):
                hl = norm(ps[0].highlight)[:150] if ps else "-"
                print(f"{q['id']} {cat} lead={lead} r1={r1} conf={answer.confidence:.3f} {q['question']!r}")
                print(f"      -> {hl}  | phrase={getattr(ps[0], 'answer', None) if ps else None}")
        else:
            topic = q.get("scope") or "unknown"
            add(f"unanswerable_{topic}/declined", declined)
            confs.append((answer.confidence, False, q["id"]))
            if args.show:
                print(
                    f"{q['id']} unanswerable/{topic} declined={declined} conf={answer.confidence:.3f} "
                    f"{q['question']!r} -> {answer.message!r}"
                )
    print(f"mode {args.mode}, threshold {threshold}, {len(rows)} questions")
    for key in sorted(stats):
        values = stats[key]
        print(f"  {key:40s} {sum(values) / len(values):.3f}  (n={len(values)})")
    good = sorted(c for c, a, _ in confs if a)
    bad = sorted(c for c, a, _ in confs if not a)
    for t in [round(threshold + d, 3) for d in (-0.1, -0.05, -0.02, 0, 0.02, 0.05, 0.1)]:
        wd = sum(c < t for c in good) / max(len(good), 1)
        dec = sum(c < t for c in bad) / max(len(bad), 1)
        print(f"  threshold {t:.3f}: answerable declined {wd:.3f}, unanswerable declined {dec:.3f}")


if __name__ == "__main__":
    sys.exit(main())

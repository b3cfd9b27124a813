"""Sweep the answer layer's constants on a question set, retrieval done once per question.

    PYTHONPATH=$PWD python scripts/answer_sweep.py lead [questions.jsonl] [NAME=value ...]  # lead weights
    PYTHONPATH=$PWD python scripts/answer_sweep.py decline  # decline-rule constants
    PYTHONPATH=$PWD python scripts/answer_sweep.py decline corpus/eval/dev-decline.jsonl  # another set
    PYTHONPATH=$PWD python scripts/answer_sweep.py decline SET GENERIC_WEIGHT=0.5 --only=GENERIC_ZIPF

Each line: the setting, then lead-sentence accuracy, R@1, answer-phrase right-when-shown
(phrase overlaps an answer string), answerable wrongly declined, on-topic unanswerable
declined and off-topic declined, as the engine's rule decides (cosine, then confidence).
"""

from __future__ import annotations

import itertools
import json
import sys
from pathlib import Path

import csto_qa.answer.answer_type as answer_type_module
import csto_qa.answer.assemble as answer_module
import csto_qa.answer.decline as decline_module
import csto_qa.answer.evidence as evidence_module
import csto_qa.answer.focus as focus_module
import csto_qa.answer.phrase as phrase_module


def owner(name: str, default: object) -> object:
    """The module that defines constant ``name``."""
    for module in (decline_module, evidence_module, focus_module, answer_type_module, phrase_module):
        if hasattr(module, name):
            return module
    return default


def norm(text: str) -> str:
    return " ".join(text.split())


def main() -> None:
    from csto_qa.engine import Engine
    from csto_qa.index.build import quiet
    from csto_qa.retrieval.followup import contextualize
    from csto_qa.retrieval.tokenizing import tokenize

    what = sys.argv[1] if len(sys.argv) > 1 else "lead"
    engine = Engine.open(report=quiet, progress=False)
    path = Path(sys.argv[2] if len(sys.argv) > 2 else "corpus/eval/questions.jsonl")
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    cache = []
    for q in rows:
        history = q.get("history") or []
        history = [history] if isinstance(history, str) else history
        query = contextualize(q["question"], history)
        vector = engine.encoder.encode_query(query)
        hits = engine.retriever.retrieve(tokenize(query), vector, "hybrid", 20)
        cache.append((q, query, vector, hits))
    threshold = engine.settings.abstain_threshold

    def run() -> str:
        lead = r1 = wrong = phrase_ok = phrase_shown = 0
        on = off = n_on = n_off = n_a = 0
        engine.builder._sentence_features.clear()  # prose penalties depend on answer_type's constants
        for q, query, vector, hits in cache:
            built = engine.builder.build(query, vector, hits, 5)
            conf = decline_module.confidence(built.cosine, built.support)
            declined = not built.passages or built.cosine < threshold or conf < threshold
            if q["answerable"]:
                n_a += 1
                first = built.passages[0]
                lead += any(norm(a) in norm(first.highlight) for a in q["answers"])
                r1 += any(norm(a) in norm(first.text) for a in q["answers"])
                wrong += declined
                if first.answer:
                    phrase_shown += 1
                    phrase_ok += any(
                        norm(first.answer) in norm(a) or norm(a) in norm(first.answer) for a in q["answers"]
                    )
            elif q.get("scope") == "on_topic":
                n_on += 1
                on += declined
            else:
                n_off += 1
                off += declined
        n_a = max(n_a, 1)  # a set of unanswerable questions only (dev-offtopic.jsonl)
        return (
            f"lead {lead / n_a:.3f} R@1 {r1 / n_a:.3f} phrase {phrase_ok / max(phrase_shown, 1):.2f}"
            f"({phrase_shown}) wrong {wrong / n_a:.3f} on {on / max(n_on, 1):.2f}"
            f" off {off / max(n_off, 1):.2f}"
        )

    if what == "lead":
        grid = {
            "COVERAGE_WEIGHT": [0.3, 0.4, 0.5, 0.6, 0.7, 0.9],
            "COVERAGE_FLOOR": [0.0, 0.3, 0.5, 1.0, 1.5, 2.0, 3.0],
            "TYPE_WEIGHT": [0.3, 0.5, 0.7],
            "NOVELTY_WEIGHT": [0.0, 0.1, 0.2, 0.3],
            "PROSE_WEIGHT": [0.2, 0.4, 0.8],
            "RANK_WEIGHT": [0.1, 0.2, 0.3],
            "LEAD_POOL": [2, 3, 5],
            "CONTEXT_WEIGHT": [0.0, 0.8, 0.9, 1.0],
            "RESTATES": [0.0, 0.3, 0.5, 0.7],
            "PASSAGE_WEIGHT": [0.0, 0.2, 0.4, 0.6, 1.0],
            "PHRASE_REACH": [5.0, 10.0, 20.0, 40.0, 1e9],
            "PHRASE_COMMA": [0.0, 10.0, 20.0, 40.0, 80.0],
            "HEADLINE_PENALTY": [0.2, 0.3, 0.5, 0.8],
            "HEADLINE_WORDS": [5, 8, 12],
            "NAME_RUN": [8, 10, 12, 27],
        }
        module = answer_module
    else:
        grid = {
            "BIND_SUBJECT": [False, True],
            "GENERIC_ZIPF": [4.5, 5.0, 5.5, 6.0, 99.0],
            "GENERIC_WEIGHT": [0.0, 0.25, 0.5, 0.75, 1.0],
            "ABSENT_WEIGHT": [0.0, 0.1, 0.25],
            "HEAD_WEIGHT": [0.0, 0.5, 1.0, 1.5, 2.0, 3.0],
            "BOUND_WEIGHT": [0.0, 0.5, 1.0, 1.25, 1.5, 2.0, 3.0],
            "BOUND_REACH": [-1, 0, 1, 2, 3],
            "EVIDENCE_POOL": [2, 3, 4],
            "EVENT_WEIGHT": [0.0, 0.25, 0.5, 0.6, 0.75, 0.8, 0.9, 1.0],
            "TYPE_MISSING": [0.4, 0.5, 0.75],
            "SUPPORT_SCALE": [0.6, 0.65, 0.7, 0.75, 0.8],
        }
        module = answer_module
    only = next((a.split("=", 1)[1] for a in sys.argv[3:] if a.startswith("--only=")), "")
    if only:  # --only=NAME,NAME: sweep just these constants
        grid = {name: values for name, values in grid.items() if name in only.split(",")}
    fixed = [a for a in sys.argv[3:] if "=" in a and not a.startswith("--")]
    for assignment in fixed:
        name, value = assignment.split("=")
        target = owner(name, answer_module)
        setattr(target, name, type(getattr(target, name))(value))
    if "--grid" not in sys.argv:
        # One constant at a time around the current values: each line is a neighbour.
        print("current", run(), flush=True)
        for name, values in grid.items():
            target = owner(name, module)
            keep = getattr(target, name)
            for value in values:
                setattr(target, name, value)
                print(f"{name}={value}", run(), flush=True)
            setattr(target, name, keep)
        return
    for values in itertools.product(*grid.values()):
        for name, value in zip(grid, values, strict=True):
            target = owner(name, module)
            setattr(target, name, value)
        print(" ".join(f"{n}={v}" for n, v in zip(grid, values, strict=True)), run(), flush=True)


if __name__ == "__main__":
    main()

"""``csto-qa eval``: retrieval and answer-level figures of each mode on a question set.

Every question goes through :meth:`Engine.ask` exactly as the app asks it (with its
``history`` for a follow-up), so *declined* is the engine's own decision: this module
never re-implements the abstention rule. When the engine declines, the question is asked
once more with ``abstain=False`` to judge the ranked list it would have shown. A passage
is relevant when its text contains one of the question's answer strings; the lead
sentence (``passages[0].highlight``) and the answer phrase (``passages[0].answer``, when
the engine marks one) are judged by :mod:`csto_qa.evaluation.metrics`.

    report = evaluate(engine, load_questions(default_questions_path()), ("hybrid", "bm25"), k=10)
    report.summaries["hybrid"].metrics["recall@5"], report.summaries["hybrid"].metrics["lead_accuracy"]

Heavy libraries are imported inside functions: ``csto-qa --help`` imports this module.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from csto_qa.config import MODES
from csto_qa.errors import CstoQaError, QueryError
from csto_qa.evaluation.results import EvalReport, ModeSummary, QuestionResult

if TYPE_CHECKING:
    # What the evaluation needs of an engine is what the app needs (engine.Answerer): an
    # Engine, a LiveEngine or a test stand-in. Imported for types only: --help stays light.
    from csto_qa.engine import Answerer as AsksQuestions
    from csto_qa.evaluation.questions import EvalQuestion


BASE_CUTOFFS = (1, 3, 5, 10)
RANK_DEPTH = 10  # MRR and nDCG are taken at 10 (or at k when k is smaller)
MISS_CUTOFF = 5  # a question is "missed" when nothing relevant is in the top 5
THRESHOLDS = tuple(round(0.25 + 0.05 * i, 2) for i in range(7))  # 0.25 .. 0.55
CURVE_THRESHOLDS = tuple(round(0.1 + 0.01 * i, 2) for i in range(71))  # 0.10 .. 0.80, for the plot
DEFAULT_OUT = "eval-out"
TOP_FIELDS = ("doc", "section", "chunk_id", "text", "highlight")  # kept of the first passage


class QuestionsFileError(CstoQaError):
    """The questions file is missing, unreadable or malformed (the message names file and line)."""


def cutoffs_for(k: int) -> list[int]:
    """The recall cutoffs reported for a run of depth ``k``: 1, 3, 5, 10 up to ``k``, and ``k``."""
    return sorted({c for c in BASE_CUTOFFS if c <= k} | {k})


def read_questions(path: str | Path) -> list[EvalQuestion]:
    """Load a questions file, turning every problem into a :class:`QuestionsFileError`."""
    from csto_qa.evaluation.questions import EvalSetError, load_questions

    fmt = "see corpus/eval/README.md for the format"
    try:
        questions = load_questions(path)
    except EvalSetError as exc:  # already "file:line: problem"
        raise QuestionsFileError(f"bad questions file {exc}; {fmt}") from None
    except FileNotFoundError:
        raise QuestionsFileError(
            f"questions file '{path}' does not exist; pass one with --questions"
        ) from None
    except UnicodeDecodeError as exc:
        raise QuestionsFileError(f"questions file '{path}' is not UTF-8 text ({exc.reason})") from None
    except OSError as exc:
        raise QuestionsFileError(f"cannot read questions file '{path}': {exc.strerror or exc}") from None
    if not questions:
        raise QuestionsFileError(f"questions file '{path}' holds no questions; {fmt}")
    return questions


def parse_modes(text: str | Sequence[str]) -> list[str]:
    """``"hybrid,bm25"`` → ``["hybrid", "bm25"]``, refusing unknown or no modes."""
    items = text.split(",") if isinstance(text, str) else list(text)
    modes = list(dict.fromkeys(m.strip() for m in items if m.strip()))
    bad = [m for m in modes if m not in MODES]
    if bad or not modes:
        raise QueryError(f"--modes {','.join(items)!r}: choose from {', '.join(MODES)}, comma-separated")
    return modes


def _flags(passages: Sequence[Any], q: EvalQuestion) -> list[bool]:
    from csto_qa.evaluation.metrics import relevance_flags

    # The passage text itself is judged, not its copies in other documents.
    return relevance_flags([p.text for p in passages], q.answers) if q.answerable else []


def _ask(engine: AsksQuestions, q: EvalQuestion, mode: str, k: int, n_relevant: int) -> QuestionResult:
    from csto_qa.evaluation.metrics import is_relevant, phrase_matches, word_count

    history = list(q.history) or None
    answer = engine.ask(q.question, k=k, mode=mode, history=history)  # the engine decides
    declined = answer.abstained or not answer.passages
    if answer.abstained:  # judge the list it would have shown
        answer = engine.ask(q.question, k=k, mode=mode, history=history, abstain=False)
    passages = answer.passages
    top = passages[0] if passages else None
    # ``answer`` is the phrase the answer layer marks; older engines have no such key.
    phrase = getattr(top, "answer", None) if top is not None else None
    phrase = phrase if isinstance(phrase, str) and phrase.strip() else None
    variants: dict[str, dict[str, Any]] = {}
    if q.history:
        for name, text in (("alone", q.question), ("joined", f"{q.history[-1]} {q.question}")):
            other = engine.ask(text, k=k, mode=mode, abstain=False)
            variants[name] = {"query": other.query, "flags": _flags(other.passages, q)}
    return QuestionResult(
        id=q.id,
        question=q.question,
        category=q.category,
        answerable=q.answerable,
        mode=mode,
        query=answer.query,
        answers=list(q.answers),
        flags=_flags(passages, q),
        n_relevant=n_relevant,
        confidence=float(answer.confidence),
        abstained=declined,
        passage_words=[word_count(p.text) for p in passages],
        top=None if top is None else {name: getattr(top, name) for name in TOP_FIELDS},
        scope=q.scope,
        lead_correct=bool(q.answerable and top is not None and is_relevant(top.highlight, q.answers)),
        phrase=phrase,
        phrase_correct=bool(q.answerable and phrase_matches(phrase, q.answers, q.question)),
        history=list(q.history),
        variants=variants,
    )


def _figures(results: list[QuestionResult], cutoffs: list[int], depth: int) -> dict[str, float]:
    """Recall, MRR, nDCG, lead and phrase accuracy over the answerable results, and the
    engine's declined shares (answerable: wrongly; unanswerable: off- and on-topic)."""
    from csto_qa.evaluation.metrics import mean, ndcg_at_k, recall_at_k, reciprocal_rank

    answerable = [r for r in results if r.answerable]
    unanswerable = [r for r in results if not r.answerable]
    figures: dict[str, float] = {"n": len(results)}
    if answerable:
        for c in cutoffs:
            figures[f"recall@{c}"] = mean(recall_at_k(r.flags, c) for r in answerable)
        figures[f"mrr@{depth}"] = mean(reciprocal_rank(r.flags, depth) for r in answerable)
        figures[f"ndcg@{depth}"] = mean(ndcg_at_k(r.flags, r.n_relevant, depth) for r in answerable)
        figures["lead_accuracy"] = mean(float(r.lead_correct) for r in answerable)
        figures["phrase_accuracy"] = mean(float(r.phrase_correct) for r in answerable)
        figures["phrase_given"] = mean(float(r.phrase is not None) for r in answerable)
        marked = [r for r in answerable if r.phrase is not None]
        if marked:  # of the phrases shown, how many are right
            figures["phrase_precision"] = mean(float(r.phrase_correct) for r in marked)
        figures["answerable_declined"] = mean(float(r.abstained) for r in answerable)
    if unanswerable:
        figures["unanswerable_declined"] = mean(float(r.abstained) for r in unanswerable)
        for scope in ("off_topic", "on_topic"):
            group = [r for r in unanswerable if r.scope == scope]
            if group:
                figures[f"n_{scope}"] = len(group)
                figures[f"{scope}_declined"] = mean(float(r.abstained) for r in group)
    words = [w for r in results for w in r.passage_words]
    figures["mean_words"] = mean(words)
    return figures


def follow_up_figures(results: list[QuestionResult], depth: int) -> dict[str, float]:
    """Second turns of conversations: R@1, R@5 and MRR of the engine's query (with the
    history), of the question alone and of the previous question joined to it, and the
    share where the engine is at least as good (reciprocal rank) as the better of the two."""
    from csto_qa.evaluation.metrics import mean, recall_at_k, reciprocal_rank

    turns = [r for r in results if r.variants and r.answerable]
    if not turns:
        return {}
    figures: dict[str, float] = {"n": len(turns)}
    lists = {
        "engine": [r.flags for r in turns],
        "alone": [r.variants["alone"]["flags"] for r in turns],
        "joined": [r.variants["joined"]["flags"] for r in turns],
    }
    for name, flags in lists.items():
        figures[f"{name}_recall@1"] = mean(recall_at_k(f, 1) for f in flags)
        figures[f"{name}_recall@5"] = mean(recall_at_k(f, 5) for f in flags)
        figures[f"{name}_mrr@{depth}"] = mean(reciprocal_rank(f, depth) for f in flags)
    figures["engine_at_least_best"] = mean(
        float(reciprocal_rank(e, depth) >= max(reciprocal_rank(a, depth), reciprocal_rank(j, depth)))
        for e, a, j in zip(lists["engine"], lists["alone"], lists["joined"], strict=True)
    )
    return figures


def decline_curve(
    results: list[QuestionResult],
) -> tuple[list[dict[str, float | None]], dict[str, float | None]]:
    """Precision / coverage of answering above each of CURVE_THRESHOLDS on ``Answer.confidence``,
    and the same two figures for the engine's actual decisions (its operating point)."""
    from csto_qa.evaluation.metrics import Outcome, mean, precision_coverage

    outcomes = [Outcome(r.confidence, r.answerable, r.lead_correct) for r in results]
    curve = [precision_coverage(outcomes, t) for t in CURVE_THRESHOLDS]
    answered = [r for r in results if not r.abstained]
    point: dict[str, float | None] = {
        "coverage": mean(float(not r.abstained) for r in results if r.answerable),
        "precision": (
            sum(1 for r in answered if r.answerable and r.lead_correct) / len(answered) if answered else None
        ),
    }
    return curve, point


def summarize(results: list[QuestionResult], mode: str, k: int) -> ModeSummary:
    """Overall and per-category figures, recall curve, abstention sweep and misses of one mode."""
    from csto_qa.evaluation.metrics import abstention_rates, mean, recall_at_k

    cutoffs, depth = cutoffs_for(k), min(RANK_DEPTH, k)
    mine = [r for r in results if r.mode == mode]
    answerable = [r for r in mine if r.answerable]
    metrics = _figures(mine, cutoffs, depth)
    metrics["n_answerable"] = len(answerable)
    metrics["n_unanswerable"] = len(mine) - len(answerable)
    categories = {
        cat: _figures([r for r in mine if r.category == cat], cutoffs, depth)
        for cat in dict.fromkeys(r.category for r in mine)
    }
    curve = [mean(recall_at_k(r.flags, c) for r in answerable) for c in range(1, k + 1)]
    conf_good = [r.confidence for r in answerable]
    conf_bad = [r.confidence for r in mine if not r.answerable]
    sweep = [abstention_rates(conf_good, conf_bad, t) for t in THRESHOLDS]
    for scope in ("off_topic", "on_topic"):  # the same what-if, by scope of the unanswerable
        group = [r.confidence for r in mine if not r.answerable and r.scope == scope]
        if group:
            for row in sweep:
                rates = abstention_rates(conf_good, group, row["threshold"])
                row[f"{scope}_declined"] = rates["unanswerable_declined"]
    cut = min(MISS_CUTOFF, k)
    misses = [
        {
            "id": r.id,
            "category": r.category,
            "question": r.question,
            "answers": r.answers,
            "first_relevant": r.first_relevant,
            "top": r.top,
        }
        for r in answerable
        if not any(r.flags[:cut])
    ]
    pc_curve, point = decline_curve(mine)
    return ModeSummary(
        mode, metrics, categories, curve, sweep, misses, pc_curve, point, follow_up_figures(mine, depth)
    )


class CachedQueryEncoder:
    """The engine's encoder with query vectors remembered, so each question is encoded once
    for all modes (the model is deterministic; everything else is delegated unchanged)."""

    def __init__(self, encoder: Any) -> None:
        self._encoder = encoder
        self._cache: dict[str, Any] = {}

    def encode_query(self, text: str) -> Any:
        vector = self._cache.get(text)
        if vector is None:
            vector = self._cache[text] = self._encoder.encode_query(text)
        return vector

    def __getattr__(self, name: str) -> Any:
        return getattr(self._encoder, name)


def memoized(engine: AsksQuestions) -> AsksQuestions:
    """A new engine over the same index, model and settings whose query encodings are cached.

    The given engine is left untouched; retrieval and answer assembly are the same code.
    Only what the ``Answerer`` protocol exposes is used (``stored``, ``encoder``,
    ``settings``), so a ``LiveEngine`` is memoized too; an engine whose encoder does not
    encode queries (a stand-in with fixed rankings) has nothing to cache and is used as it is.
    """
    from csto_qa.engine import Engine

    encoder = engine.encoder
    if isinstance(encoder, CachedQueryEncoder) or not callable(getattr(encoder, "encode_query", None)):
        return engine
    return Engine(engine.stored, CachedQueryEncoder(encoder), engine.settings)


def relevant_chunk_counts(engine: AsksQuestions, questions: Sequence[EvalQuestion]) -> dict[str, int]:
    """Per question id, how many indexed chunks contain one of its answer strings.

    This is the ideal-list size for nDCG. It counts every chunk, including overlapping
    neighbours and the near-identical copies in two versions of the same article that the
    answer step folds into one citation, so it over-counts what a deduplicated answer can
    show: nDCG here is a conservative (low) figure, comparable between modes and settings.
    """
    from csto_qa.evaluation.questions import normalize_whitespace

    texts = [normalize_whitespace(c.text) for c in engine.stored.chunks]
    counts = {}
    for q in questions:
        answers = [normalize_whitespace(a) for a in q.answers]
        counts[q.id] = sum(1 for t in texts if any(a and a in t for a in answers)) if answers else 0
    return counts


def lead_unreachable(engine: AsksQuestions, questions: Sequence[EvalQuestion]) -> list[str]:
    """Ids of answerable questions whose answer strings all cross a sentence boundary of the
    index (e.g. an infobox label and its value on separate lines), so that no single
    highlighted sentence can contain one. Empty when the index keeps no sentences."""
    from csto_qa.evaluation.questions import normalize_whitespace

    stored = engine.stored
    sentences = getattr(stored, "sentences", None) or []
    documents = getattr(stored, "documents", {}) or {}
    texts = [
        normalize_whitespace(documents[s.doc_id].text[s.start : s.end])
        for s in sentences
        if s.doc_id in documents
    ]
    if not texts:
        return []
    missing = []
    for q in questions:
        answers = [normalize_whitespace(a) for a in q.answers]
        if q.answerable and not any(a and a in t for t in texts for a in answers):
            missing.append(q.id)
    return missing


def evaluate(
    engine: AsksQuestions,
    questions: Sequence[EvalQuestion],
    modes: Sequence[str] = MODES,
    k: int = 10,
    *,
    progress: bool = False,
    questions_file: str = "",
) -> EvalReport:
    """Run every question through ``engine.ask`` in each mode and compute the figures.

    nDCG@10 uses binary gains with an ideal list of ``min(#relevant chunks, 10)`` hits, where
    the relevant chunks are counted in ``engine.stored.chunks`` (see
    :func:`relevant_chunk_counts`). ``progress`` shows a tqdm bar on stderr.
    """
    from csto_qa.config import check_request

    modes = parse_modes(modes)
    for mode in modes:
        check_request(k, mode, engine.settings.max_k)
    if not questions:
        raise QuestionsFileError("there are no questions to evaluate")
    started = time.perf_counter()
    engine = memoized(engine)
    n_relevant = relevant_chunk_counts(engine, questions)
    results: list[QuestionResult] = []
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(questions) * len(modes), file=sys.stderr, unit="q", desc="eval", leave=False)
    try:
        for mode in modes:
            if bar is not None:
                bar.set_description(f"eval {mode}")
            for q in questions:
                results.append(_ask(engine, q, mode, k, n_relevant[q.id]))
                if bar is not None:
                    bar.update()
    finally:
        if bar is not None:
            bar.close()
    manifest = engine.stored.manifest
    n_answerable = sum(1 for q in questions if q.answerable)
    return EvalReport(
        k=k,
        cutoffs=cutoffs_for(k),
        depth=min(RANK_DEPTH, k),
        modes=list(modes),
        questions_file=questions_file,
        n_questions=len(questions),
        n_answerable=n_answerable,
        n_unanswerable=len(questions) - n_answerable,
        settings=engine.settings.to_dict(),
        index={
            "model": manifest.model.name,
            "chunking": manifest.chunking.to_dict(),
            "counts": asdict(manifest.counts),
        },
        summaries={mode: summarize(results, mode, k) for mode in modes},
        results=results,
        seconds=round(time.perf_counter() - started, 2),
        lead_unreachable=lead_unreachable(engine, questions),
    )


def parse_settings(items: Sequence[str] | None) -> dict[str, Any]:
    """``["alpha=0.5", "fusion=rrf"]`` → ``{"alpha": 0.5, "fusion": "rrf"}`` for ``--set``.

    Any :class:`~csto_qa.config.EngineSettings` field can be set, so a new engine knob is
    measured without a new option here; the value is read as the field's default type.
    """
    from dataclasses import fields

    from csto_qa.config import EngineSettings

    defaults = {f.name: getattr(EngineSettings(), f.name) for f in fields(EngineSettings)}
    out: dict[str, Any] = {}
    for item in items or []:
        name, sep, text = item.partition("=")
        name = name.strip().replace("-", "_")
        if not sep or name not in defaults:
            raise QueryError(
                f"--set {item!r}: expected NAME=VALUE with NAME one of {', '.join(sorted(defaults))}"
            )
        default = defaults[name]
        try:
            if isinstance(default, bool):
                if text.strip().lower() not in ("true", "false", "1", "0"):
                    raise ValueError(text)
                out[name] = text.strip().lower() in ("true", "1")
            else:
                out[name] = type(default)(text.strip()) if default is not None else text.strip()
        except ValueError:
            raise QueryError(f"--set {item!r}: {name} takes a {type(default).__name__}") from None
    return out


def run(
    questions_path: Path | None = None,
    modes: str | Sequence[str] = MODES,
    k: int = 10,
    out: Path = Path(DEFAULT_OUT),
    overrides: Mapping[str, Any] | None = None,
    progress: bool = True,
    open_engine: Callable[[], AsksQuestions] | None = None,
) -> int:
    """``csto-qa eval``: print the table and write results.json, report.md and plot.png.

    ``overrides`` are EngineSettings fields (fusion, alpha, ...); ``open_engine`` loads the
    engine (default: ``Engine.open()``) and is called only once every input has been checked.
    """
    from csto_qa.config import EngineSettings
    from csto_qa.evaluation.questions import default_questions_path
    from csto_qa.evaluation.report import render_table, write_report

    path = questions_path or default_questions_path()
    modes = parse_modes(modes)
    max_k = EngineSettings().max_k
    if not 1 <= k <= max_k:
        raise QueryError(f"--k {k} must be a whole number from 1 to {max_k}")
    overrides = dict(overrides or {})
    EngineSettings(**overrides)  # a bad value fails here, before the model loads
    if out.exists() and not out.is_dir():
        raise CstoQaError(f"--out '{out}' is a file; give a folder for the report")
    questions = read_questions(path)
    if open_engine is None:
        from csto_qa.engine import Engine

        open_engine = Engine.open
    engine = open_engine()
    if overrides:
        engine = engine.with_settings(**overrides)
    shown = path.resolve()
    with contextlib.suppress(ValueError):  # the report names the file relative to here if it can
        shown = shown.relative_to(Path.cwd().resolve())
    report = evaluate(engine, questions, modes, k, progress=progress, questions_file=str(shown))
    print(render_table(report))
    try:
        written = write_report(report, out)
    except OSError as exc:
        raise CstoQaError(f"cannot write the report to '{out}': {exc.strerror or exc}") from None
    print("\nwrote " + ", ".join(str(p) for p in written.values()))
    return 0

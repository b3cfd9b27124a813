"""Engine settings with their measured defaults, and where the corpus and index live."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from csto_qa.errors import QueryError


class Mode(StrEnum):
    """Retrieval modes. String-valued: ``Mode.HYBRID == "hybrid"``, so plain strings keep working."""

    HYBRID = "hybrid"
    BM25 = "bm25"
    DENSE = "dense"


class Fusion(StrEnum):
    """How the hybrid mode fuses the two rankings (see fusion.py)."""

    CONVEX = "convex"
    RRF = "rrf"


MODES = tuple(m.value for m in Mode)
FUSIONS = tuple(f.value for f in Fusion)
CORPUS_ENV = "CSTO_QA_CORPUS"
INDEX_ENV = "CSTO_QA_INDEX"


@dataclass(frozen=True)
class EngineSettings:
    """Retrieval knobs. Defaults were chosen with ``csto-qa eval``; the README has the table."""

    fusion: str = Fusion.CONVEX.value
    alpha: float = 0.6  # weight of the dense side in convex fusion
    rrf_k: int = 60
    depth: int = 200  # candidates taken from each retriever before fusion
    sentence_weight: float = 0.75  # share of the best sentence's cosine in a passage's dense score
    # Decline below this answer confidence, min(cosine, 0.7 x focus support) (decline.py);
    # a cosine below it alone declines with no passages (off topic). csto-qa eval's
    # threshold table, hybrid, 198 questions, answerable / on-topic unanswerable declined:
    # 0.30: 2.8 / 65 %; 0.33: 4.2 / 73; 0.35: 5.6 / 73; 0.40: 12.0 / 84. 0.33 is the
    # highest under issue 12's 5 % ceiling for answerable questions.
    abstain_threshold: float = 0.33
    weak_threshold: float = 0.50  # below this the answer says the match may be indirect
    max_k: int = 50
    max_query_chars: int = 4000  # longer questions are cut here before retrieval, and the reply says so

    def __post_init__(self) -> None:
        if self.fusion not in FUSIONS:
            raise QueryError(f"fusion {self.fusion!r} is not one of {', '.join(FUSIONS)}")
        if not 0.0 <= self.alpha <= 1.0:
            raise QueryError(f"alpha={self.alpha} must be between 0 and 1")
        if not 0.0 <= self.sentence_weight <= 1.0:
            raise QueryError(f"sentence_weight={self.sentence_weight} must be between 0 and 1")
        if self.depth < 1 or self.max_k < 1 or self.rrf_k < 0:
            raise QueryError("depth and max_k must be >= 1 and rrf_k >= 0")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_request(k: int, mode: str, max_k: int) -> None:
    """Validate user-supplied ``k`` and ``mode`` with errors that quote the bad value."""
    if mode not in MODES:
        raise QueryError(f"mode {mode!r} is not one of {', '.join(MODES)}")
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= max_k:
        raise QueryError(f"k={k!r} must be a whole number from 1 to {max_k}")


def project_root() -> Path:
    return Path(__file__).resolve().parent.parent


def default_corpus_dir() -> Path:
    """``$CSTO_QA_CORPUS``, else ``./corpus`` if it exists, else the checkout's ``corpus/``."""
    if os.environ.get(CORPUS_ENV):
        return Path(os.environ[CORPUS_ENV])
    local = Path("corpus")
    return local if local.is_dir() else project_root() / "corpus"


def default_index_dir(corpus_dir: Path | None = None) -> Path:
    """``$CSTO_QA_INDEX``, else ``index/`` beside the corpus folder in use.

    ``corpus_dir`` is the folder given with ``--corpus-dir``; without it, the default
    corpus folder. So ``--corpus-dir ~/docs`` indexes into ``~/index``, as ``--help`` says
    (and a folder there that is not a csto-qa index is refused, never replaced).
    """
    if os.environ.get(INDEX_ENV):
        return Path(os.environ[INDEX_ENV])
    corpus = corpus_dir if corpus_dir is not None else default_corpus_dir()
    return corpus.resolve().parent / "index"

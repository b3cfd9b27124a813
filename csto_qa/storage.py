"""Index persistence: a folder of plain data with a manifest, written atomically under a lock.

Layout of ``index/``::

    manifest.json          format version, model + weights hash, corpus file hashes, parameters
    documents.jsonl        one Document per line (the text the offsets refer to)
    sentences.jsonl        one Sentence per line
    chunks.jsonl           one Chunk per line
    bm25_*.npy, bm25_params.json   the lexical index (see lexical.py)
    dense.faiss            passage embeddings (see dense.py)
    sentence_vectors.npy   sentence embeddings, used to pick the sentence to highlight

Nothing here is pickled and loading never executes code. A build writes into a temporary
folder beside ``index/`` and swaps it in with two renames, so a build that dies leaves
the previous index whole; a lock file beside the folder keeps two builds apart.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from csto_qa.errors import CstoQaError, IndexCorruptError, IndexLockedError
from csto_qa.records import Chunk, Document, Sentence

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DOCUMENTS = "documents.jsonl"
SENTENCES = "sentences.jsonl"
CHUNKS = "chunks.jsonl"
SENTENCE_VECTORS = "sentence_vectors.npy"
INDEX_FILES = (
    MANIFEST,
    DOCUMENTS,
    SENTENCES,
    CHUNKS,
    SENTENCE_VECTORS,
    "dense.faiss",
    "bm25_params.json",
    "bm25_data.npy",
    "bm25_indices.npy",
    "bm25_indptr.npy",
)
FIX = "rebuild it: csto-qa index --rebuild"


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False))
            handle.write("\n")


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Rows of a JSON Lines file; any unreadable line is an error naming file and line."""
    if not path.is_file():
        raise IndexCorruptError(f"index file '{path}' is missing; {FIX}")
    rows = []
    try:
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise IndexCorruptError(
                        f"index file '{path}' line {number} is not valid JSON ({exc.msg}); {FIX}"
                    ) from exc
                if not isinstance(row, dict):
                    raise IndexCorruptError(f"index file '{path}' line {number} is not an object; {FIX}")
                rows.append(row)
    except UnicodeDecodeError as exc:
        raise IndexCorruptError(f"index file '{path}' is not UTF-8; {FIX}") from exc
    return rows


def read_manifest(index_dir: Path) -> dict[str, Any]:
    path = index_dir / MANIFEST
    if not path.is_file():
        raise IndexCorruptError(f"'{path}' is missing; build the index: csto-qa index")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise IndexCorruptError(f"'{path}' cannot be read ({exc}); {FIX}") from exc
    if not isinstance(manifest, dict) or manifest.get("format_version") != FORMAT_VERSION:
        found = manifest.get("format_version") if isinstance(manifest, dict) else None
        raise IndexCorruptError(
            f"'{path}' has index format version {found!r}; this csto-qa reads version {FORMAT_VERSION}; {FIX}"
        )
    return manifest


@dataclass
class StoredIndex:
    """Everything ``index/`` holds, validated against its manifest."""

    folder: Path
    manifest: dict[str, Any]
    documents: dict[str, Document]
    sentences: list[Sentence]
    chunks: list[Chunk]
    sentence_vectors: np.ndarray
    bm25: Any  # lexical.BM25Index
    dense: Any  # dense.DenseIndex
    warnings: list[str] = field(default_factory=list)


def _records(path: Path, cls: Any) -> list[Any]:
    """Records of one JSON Lines file; a row with missing or mistyped fields names the file."""
    rows = read_jsonl(path)
    try:
        return [cls.from_dict(row) for row in rows]
    except (TypeError, KeyError, ValueError, AttributeError) as exc:
        raise IndexCorruptError(f"'{path}' has malformed records ({exc}); {FIX}") from exc


def _is_span(start: Any, end: Any, size: int) -> bool:
    ints = all(isinstance(v, int) and not isinstance(v, bool) for v in (start, end))
    return ints and 0 <= start <= end <= size


def _check_records(
    index_dir: Path, docs: dict[str, Document], sentences: list[Sentence], chunks: list[Chunk]
) -> None:
    """Every offset and id points inside the index: what the query path indexes blindly."""
    for number, sentence in enumerate(sentences, start=1):
        doc = docs.get(sentence.doc_id) if isinstance(sentence.doc_id, str) else None
        if doc is None or not _is_span(sentence.start, sentence.end, len(doc.text)):
            raise IndexCorruptError(
                f"'{index_dir / SENTENCES}' line {number} points outside document {sentence.doc_id!r}; {FIX}"
            )
    for position, chunk in enumerate(chunks):
        doc = docs.get(chunk.doc_id) if isinstance(chunk.doc_id, str) else None
        first, last = chunk.sentences if len(chunk.sentences) == 2 else (None, None)
        if (
            chunk.chunk_id != position
            or doc is None
            or not _is_span(chunk.start, chunk.end, len(doc.text))
            or doc.text[chunk.start : chunk.end] != chunk.text
            or not _is_span(first, last, len(sentences))
        ):
            raise IndexCorruptError(
                f"chunk {chunk.chunk_id!r} (line {position + 1} of '{index_dir / CHUNKS}') does not match "
                f"its document {chunk.doc_id!r} or the sentences; {FIX}"
            )


def _load_bm25(index_dir: Path) -> Any:
    """The BM25 index; when it cannot be loaded, the error names the file that is damaged."""
    from csto_qa.lexical import ARRAY_FILES, PARAMS_FILE, BM25Index

    try:
        return BM25Index.load(index_dir)
    except (IndexCorruptError, KeyError, TypeError, ValueError, AttributeError, EOFError) as exc:
        root = exc.__cause__ or exc  # lexical.py wraps the reader's error: show that one
        if isinstance(root, IndexCorruptError):
            reason = str(root).split("; rebuild")[0]
        else:
            reason = f"{type(root).__name__}: {root}"
        culprit = f"'{index_dir / PARAMS_FILE}' and its arrays"
        try:
            params = json.loads((index_dir / PARAMS_FILE).read_text(encoding="utf-8"))
            usable = isinstance(params, dict) and {"n_docs", "vocab", "k1", "b", "epsilon"} <= set(params)
        except (OSError, ValueError):
            usable = False
        if not usable:
            culprit = f"'{index_dir / PARAMS_FILE}'"
        else:
            for name in ARRAY_FILES:
                try:
                    np.load(index_dir / name, allow_pickle=False)
                except (OSError, ValueError, EOFError):
                    culprit = f"'{index_dir / name}'"
                    break
        raise IndexCorruptError(f"{culprit} cannot be used ({reason}); {FIX}") from exc


def load_index(index_dir: Path) -> StoredIndex:
    """Load and cross-check every file; a mismatch is an error, never a wrong answer."""
    from csto_qa.dense import DenseIndex

    recover_interrupted_swap(index_dir)
    manifest = read_manifest(index_dir)
    for name in INDEX_FILES:
        if not (index_dir / name).is_file():
            raise IndexCorruptError(f"index file '{index_dir / name}' is missing; {FIX}")
    documents = _records(index_dir / DOCUMENTS, Document)
    sentences = _records(index_dir / SENTENCES, Sentence)
    chunks = _records(index_dir / CHUNKS, Chunk)
    counts = manifest.get("counts")
    counts = counts if isinstance(counts, dict) else {}
    expected = {DOCUMENTS: len(documents), SENTENCES: len(sentences), CHUNKS: len(chunks)}
    for file_name, found in expected.items():
        name = file_name.removesuffix(".jsonl")
        if counts.get(name) != found:
            raise IndexCorruptError(
                f"'{index_dir / file_name}' holds {found} {name} but '{index_dir / MANIFEST}' says "
                f"{counts.get(name)}; {FIX}"
            )
    docs = {d.doc_id: d for d in documents}
    if len(docs) != len(documents) or not all(isinstance(d.text, str) for d in documents):
        raise IndexCorruptError(f"'{index_dir / DOCUMENTS}' has repeated or malformed documents; {FIX}")
    _check_records(index_dir, docs, sentences, chunks)
    try:
        sentence_vectors = np.load(index_dir / SENTENCE_VECTORS, allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        raise IndexCorruptError(f"'{index_dir / SENTENCE_VECTORS}' cannot be read ({exc}); {FIX}") from exc
    bm25 = _load_bm25(index_dir)
    dense = DenseIndex.load(index_dir)
    if dense.size != len(chunks) or bm25.n_docs != len(chunks):
        raise IndexCorruptError(
            f"'{index_dir}' has {len(chunks)} chunks but {dense.size} embeddings in "
            f"'{index_dir / 'dense.faiss'}' and {bm25.n_docs} BM25 rows; {FIX}"
        )
    if sorted(bm25.vocab.values()) != list(range(len(bm25.vocab))):
        raise IndexCorruptError(f"'{index_dir / 'bm25_params.json'}' has a damaged vocabulary; {FIX}")
    model = manifest.get("model")
    dim = model.get("dim") if isinstance(model, dict) else None
    if (
        sentence_vectors.ndim != 2
        or sentence_vectors.dtype.kind != "f"
        or sentence_vectors.shape != (len(sentences), dense.dim)
        or (dim is not None and dim != dense.dim)
    ):
        raise IndexCorruptError(
            f"'{index_dir / SENTENCE_VECTORS}' holds a {sentence_vectors.dtype} array of shape "
            f"{sentence_vectors.shape} for {len(sentences)} sentences and {dense.dim}-d embeddings "
            f"(manifest: {dim}-d); {FIX}"
        )
    return StoredIndex(index_dir, manifest, docs, sentences, chunks, sentence_vectors, bm25, dense)


def save_index(folder: Path, stored: StoredIndex) -> None:
    """Write every file of ``stored`` into ``folder`` (the caller swaps it in)."""
    folder.mkdir(parents=True, exist_ok=True)
    write_jsonl(folder / DOCUMENTS, [d.to_dict() for d in stored.documents.values()])
    write_jsonl(folder / SENTENCES, [s.to_dict() for s in stored.sentences])
    write_jsonl(folder / CHUNKS, [c.to_dict() for c in stored.chunks])
    np.save(folder / SENTENCE_VECTORS, stored.sentence_vectors, allow_pickle=False)
    stored.bm25.save(folder)
    stored.dense.save(folder)
    # The manifest goes last: a folder without one is never taken for an index.
    manifest = json.dumps(stored.manifest, indent=2, ensure_ascii=False)
    (folder / MANIFEST).write_text(manifest, encoding="utf-8")


def _siblings(index_dir: Path, kind: str) -> list[Path]:
    return sorted(index_dir.parent.glob(f".{index_dir.name}.{kind}-*"))


def recover_interrupted_swap(index_dir: Path, settle_seconds: float = 5.0) -> None:
    """Put the previous index back if a build died between its two renames.

    A build that is alive and between its renames holds the lock and is microseconds
    from finishing: wait for it instead of racing it for the folder name.
    """
    if index_dir.exists() or not _siblings(index_dir, "old"):
        return
    if _lock_is_held(index_dir):
        deadline = time.monotonic() + settle_seconds
        while not index_dir.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        return
    for old in reversed(_siblings(index_dir, "old")):
        if (old / MANIFEST).is_file():
            with contextlib.suppress(OSError):
                os.rename(old, index_dir)
                return


def swap_in(new_dir: Path, index_dir: Path) -> None:
    """Replace ``index_dir`` by ``new_dir``; at every instant one whole index exists on disk."""
    old = index_dir.parent / f".{index_dir.name}.old-{os.getpid()}-{time.time_ns()}"
    if index_dir.exists():
        os.rename(index_dir, old)
    try:
        os.rename(new_dir, index_dir)
    except BaseException:
        if old.exists() and not index_dir.exists():
            os.rename(old, index_dir)  # put the previous index back at once
        raise
    shutil.rmtree(old, ignore_errors=True)


def temp_dir_for(index_dir: Path) -> Path:
    index_dir.parent.mkdir(parents=True, exist_ok=True)
    return index_dir.parent / f".{index_dir.name}.tmp-{os.getpid()}-{time.time_ns()}"


def clean_leftovers(index_dir: Path) -> None:
    """Remove folders of builds that died (called while holding the lock)."""
    for leftover in _siblings(index_dir, "tmp"):
        shutil.rmtree(leftover, ignore_errors=True)
    if index_dir.exists():
        for leftover in _siblings(index_dir, "old"):
            shutil.rmtree(leftover, ignore_errors=True)


def lock_path_for(index_dir: Path) -> Path:
    return index_dir.parent / f".{index_dir.name}.lock"


def _lock_is_held(index_dir: Path) -> bool:
    """True when another open lock file (a live build) holds the build lock right now."""
    path = lock_path_for(index_dir)
    if not path.exists():
        return False
    with path.open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
        return False


@contextlib.contextmanager
def build_lock(
    index_dir: Path, wait_seconds: float = 600.0, on_wait: Callable[[str], None] | None = None
) -> Iterator[None]:
    """Hold the build lock of ``index_dir``; wait for another build up to ``wait_seconds``."""
    lock_path = lock_path_for(index_dir)
    try:
        index_dir.parent.mkdir(parents=True, exist_ok=True)
        handle = lock_path.open("a+")
    except OSError as exc:
        raise CstoQaError(
            f"cannot write the index at '{index_dir}' ({exc.strerror or exc}); "
            "choose a writable folder with --index-dir or $CSTO_QA_INDEX"
        ) from exc
    with handle:
        deadline = time.monotonic() + wait_seconds
        told = False
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise IndexLockedError(
                        f"another csto-qa process is building '{index_dir}' (lock '{lock_path}'); "
                        "wait for it to finish and run the command again"
                    ) from None
                if on_wait and not told:
                    on_wait(f"another build of '{index_dir}' is running; waiting for it to finish")
                    told = True
                time.sleep(0.2)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)

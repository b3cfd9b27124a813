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

from csto_qa.errors import IndexCorruptError, IndexLockedError
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


def load_index(index_dir: Path) -> StoredIndex:
    """Load and cross-check every file; a mismatch is an error, never a wrong answer."""
    from csto_qa.dense import DenseIndex
    from csto_qa.lexical import BM25Index

    recover_interrupted_swap(index_dir)
    manifest = read_manifest(index_dir)
    documents = [Document.from_dict(r) for r in read_jsonl(index_dir / DOCUMENTS)]
    sentences = [Sentence.from_dict(r) for r in read_jsonl(index_dir / SENTENCES)]
    try:
        chunks = [Chunk.from_dict(r) for r in read_jsonl(index_dir / CHUNKS)]
    except (TypeError, KeyError) as exc:
        raise IndexCorruptError(f"'{index_dir / CHUNKS}' has malformed records ({exc}); {FIX}") from exc
    counts = manifest.get("counts", {})
    expected = {"documents": len(documents), "sentences": len(sentences), "chunks": len(chunks)}
    for name, found in expected.items():
        if counts.get(name) != found:
            raise IndexCorruptError(
                f"'{index_dir}' holds {found} {name} but its manifest says {counts.get(name)}; {FIX}"
            )
    try:
        sentence_vectors = np.load(index_dir / SENTENCE_VECTORS, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise IndexCorruptError(f"'{index_dir / SENTENCE_VECTORS}' cannot be read ({exc}); {FIX}") from exc
    bm25 = BM25Index.load(index_dir)
    dense = DenseIndex.load(index_dir)
    if dense.size != len(chunks) or bm25.n_docs != len(chunks):
        raise IndexCorruptError(
            f"'{index_dir}' has {len(chunks)} chunks but {dense.size} embeddings and "
            f"{bm25.n_docs} BM25 rows; {FIX}"
        )
    if sentence_vectors.shape[0] != len(sentences):
        raise IndexCorruptError(
            f"'{index_dir / SENTENCE_VECTORS}' has {sentence_vectors.shape[0]} rows for "
            f"{len(sentences)} sentences; {FIX}"
        )
    docs = {d.doc_id: d for d in documents}
    for chunk in chunks:
        doc = docs.get(chunk.doc_id)
        if doc is None or doc.text[chunk.start : chunk.end] != chunk.text:
            raise IndexCorruptError(
                f"chunk {chunk.chunk_id} in '{index_dir / CHUNKS}' does not match its document "
                f"'{chunk.doc_id}'; {FIX}"
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


def recover_interrupted_swap(index_dir: Path) -> None:
    """Put the previous index back if a build died between its two renames."""
    if index_dir.exists():
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
    os.rename(new_dir, index_dir)
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


@contextlib.contextmanager
def build_lock(
    index_dir: Path, wait_seconds: float = 600.0, on_wait: Callable[[str], None] | None = None
) -> Iterator[None]:
    """Hold the build lock of ``index_dir``; wait for another build up to ``wait_seconds``."""
    index_dir.parent.mkdir(parents=True, exist_ok=True)
    lock_path = index_dir.parent / f".{index_dir.name}.lock"
    with lock_path.open("a+") as handle:
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

"""Index files: a folder of plain data with a manifest, each file checked when it is read.

Layout of ``index/``::

    .csto-qa-index         ownership marker (see folders.py): only such folders are replaced
    manifest.json          format version, model + weights hash, corpus file hashes, parameters,
                           and the size and SHA-256 of every other file of the folder
                           (a typed record, parsed and checked in manifest.py)
    documents.jsonl        one Document per line (the text the offsets refer to)
    sentences.jsonl        one Sentence per line
    chunks.jsonl           one Chunk per line
    bm25_*.npy, bm25_params.json   the lexical index (see lexical.py)
    dense.faiss            passage embeddings (see dense.py)
    sentence_vectors.npy   sentence embeddings, used to pick the sentence to highlight

Loading is closed: every file must match the size and SHA-256 the manifest recorded at
build time (so swapped, truncated or edited files, even a consistent edit of a
document's text, are caught before they are parsed), and is then checked for type,
dtype, shape, value range and finiteness by its reader. Hashing runs at ~1.6 GB/s here
(hashlib SHA-256, measured on 2 cores): 0.02 s for the bundled corpus' 1.2 MB index; a
million passages of five sentences hold ~9 GB of vectors (~6 s), so files over
``HASH_MAX_BYTES`` (0.3 s each) are checked by size and structure only. Any failure is an
``IndexCorruptError`` naming the file, which the engine repairs by rebuilding. Nothing is
pickled and loading never executes code. Where the folder may live, who owns it, the lock
and the atomic swap are in folders.py.
"""

from __future__ import annotations

import dataclasses
import json
import os
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np

from csto_qa.errors import IndexCorruptError
from csto_qa.index.folders import (
    DATA_FILES,
    MANIFEST,
    OWNER_MARKER,
    RECORD_FILES,
    recover_interrupted_swap,
    write_marker,
)
from csto_qa.index.manifest import FIX, FileEntry, IndexManifest, read_manifest
from csto_qa.plainfiles import file_sha256, load_npy, matches_type
from csto_qa.plainfiles import read_jsonl as _read_jsonl
from csto_qa.records import Chunk, Document, Sentence
from csto_qa.retrieval.dense import FAISS_FILE

if typing.TYPE_CHECKING:
    from csto_qa.retrieval.dense import DenseIndex
    from csto_qa.retrieval.lexical import BM25Index

DOCUMENTS, SENTENCES, CHUNKS, SENTENCE_VECTORS = RECORD_FILES
INDEX_FILES = (OWNER_MARKER, MANIFEST, *DATA_FILES)
HASH_MAX_BYTES = 512 << 20


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False))
            handle.write("\n")


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Rows of a JSON Lines file of the index; any unreadable line names file and line."""
    return _read_jsonl(path, FIX)


@dataclass
class StoredIndex:
    """Everything ``index/`` holds, validated against its manifest."""

    folder: Path
    manifest: IndexManifest
    documents: Mapping[str, Document]
    sentences: Sequence[Sentence]
    chunks: Sequence[Chunk]
    sentence_vectors: np.ndarray
    bm25: BM25Index
    dense: DenseIndex


def _records(path: Path, cls: Any) -> list[Any]:
    """Records of one JSON Lines file; a row with missing or mistyped fields names the file."""
    hints = typing.get_type_hints(cls)
    declared = {f.name for f in fields(cls)}
    records = []
    for number, row in enumerate(read_jsonl(path), start=1):
        for name, value in row.items():
            if name in declared and not matches_type(value, hints[name]):
                raise IndexCorruptError(
                    f"'{path}' record {number}: field '{name}' is {type(value).__name__}, "
                    f"not {hints[name]}; {FIX}"
                )
        try:
            records.append(cls.from_dict(row))
        except (TypeError, KeyError, ValueError, AttributeError) as exc:
            raise IndexCorruptError(f"'{path}' record {number} is malformed ({exc}); {FIX}") from exc
    return records


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
            or any(sentences[i].doc_id != chunk.doc_id for i in range(first or 0, last or 0))
        ):
            raise IndexCorruptError(
                f"chunk {chunk.chunk_id!r} (line {position + 1} of '{index_dir / CHUNKS}') does not match "
                f"its document {chunk.doc_id!r} or the sentences; {FIX}"
            )


def _check_files(index_dir: Path, manifest: IndexManifest) -> None:
    """Each data file exists with the size and SHA-256 recorded when it was written."""
    for name in DATA_FILES:
        path = index_dir / name
        entry = manifest.files.get(name)
        if entry is None:
            raise IndexCorruptError(f"'{index_dir / MANIFEST}' has no size and hash for '{name}'; {FIX}")
        if not path.is_file() or path.is_symlink():
            raise IndexCorruptError(f"index file '{path}' is missing; {FIX}")
        size = path.stat().st_size
        if size != entry.bytes:
            raise IndexCorruptError(
                f"index file '{path}' is {size:,} bytes but was written with {entry.bytes:,}; {FIX}"
            )
        if size <= HASH_MAX_BYTES and file_sha256(path) != entry.sha256:
            raise IndexCorruptError(
                f"index file '{path}' changed since it was written (SHA-256 differs); {FIX}"
            )


def _load_bm25(index_dir: Path) -> BM25Index:
    from csto_qa.retrieval.lexical import BM25Index

    return BM25Index.load(index_dir)


def load_index(index_dir: Path) -> StoredIndex:
    """Load and cross-check every file; a mismatch is an error, never a wrong answer."""
    from csto_qa.retrieval.dense import DenseIndex

    recover_interrupted_swap(index_dir)
    manifest = read_manifest(index_dir)
    _check_files(index_dir, manifest)
    documents = _records(index_dir / DOCUMENTS, Document)
    sentences = _records(index_dir / SENTENCES, Sentence)
    chunks = _records(index_dir / CHUNKS, Chunk)
    counts = manifest.counts
    expected = (
        (DOCUMENTS, "documents", len(documents), counts.documents),
        (SENTENCES, "sentences", len(sentences), counts.sentences),
        (CHUNKS, "chunks", len(chunks), counts.chunks),
    )
    for file_name, name, found, recorded in expected:
        if recorded != found:
            raise IndexCorruptError(
                f"'{index_dir / file_name}' holds {found} {name} but '{index_dir / MANIFEST}' says "
                f"{recorded}; {FIX}"
            )
    docs = {d.doc_id: d for d in documents}
    if len(docs) != len(documents):
        raise IndexCorruptError(f"'{index_dir / DOCUMENTS}' lists a document id twice; {FIX}")
    _check_records(index_dir, docs, sentences, chunks)
    sentence_vectors = load_npy(index_dir / SENTENCE_VECTORS, FIX, kind="f", ndim=2)
    bm25 = _load_bm25(index_dir)
    dense = DenseIndex.load(index_dir)
    if dense.size != len(chunks) or bm25.n_docs != len(chunks):
        raise IndexCorruptError(
            f"'{index_dir}' has {len(chunks)} chunks but {dense.size} embeddings in "
            f"'{index_dir / FAISS_FILE}' and {bm25.n_docs} BM25 rows; {FIX}"
        )
    dim = manifest.model.dim
    if sentence_vectors.shape != (len(sentences), dense.dim) or dim != dense.dim:
        raise IndexCorruptError(
            f"'{index_dir / SENTENCE_VECTORS}' holds a {sentence_vectors.dtype} array of shape "
            f"{sentence_vectors.shape} for {len(sentences)} sentences and {dense.dim}-d embeddings "
            f"(manifest: {dim}-d); {FIX}"
        )
    return StoredIndex(index_dir, manifest, docs, sentences, chunks, sentence_vectors, bm25, dense)


def save_index(folder: Path, stored: StoredIndex) -> IndexManifest:
    """Write every file of ``stored`` into ``folder`` (the caller swaps it in).

    The manifest goes last and records each file's size and SHA-256: a folder without
    one is never taken for an index, and a file that changes afterwards is detected.
    Returns the manifest as written (``stored.manifest`` with those files).
    """
    write_marker(folder)
    write_jsonl(folder / DOCUMENTS, [d.to_dict() for d in stored.documents.values()])
    write_jsonl(folder / SENTENCES, [s.to_dict() for s in stored.sentences])
    write_jsonl(folder / CHUNKS, [c.to_dict() for c in stored.chunks])
    np.save(folder / SENTENCE_VECTORS, stored.sentence_vectors, allow_pickle=False)
    stored.bm25.save(folder)
    stored.dense.save(folder)
    files = {
        name: FileEntry((folder / name).stat().st_size, file_sha256(folder / name)) for name in DATA_FILES
    }
    manifest = dataclasses.replace(stored.manifest, files=files)
    text = json.dumps(manifest.to_json(), indent=2, ensure_ascii=False)
    with (folder / MANIFEST).open("w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    return manifest

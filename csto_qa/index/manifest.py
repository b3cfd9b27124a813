"""The index manifest as a typed record: parsed and type-checked once, when it is read.

``manifest.json`` says what an index was built from (model, corpus file hashes, chunking
and tokenizer versions), what it holds (counts) and the size and SHA-256 of every other
file of the folder. ``IndexManifest.from_json`` walks the declared field types, so a
field that is missing or of the wrong type (a hand edit, another version's writer) is an
``IndexCorruptError`` naming the file, the field and the fix; every reader after that
uses attributes, never string keys. ``to_json`` writes the same JSON the previous
untyped writer did (field order included), so the format version is unchanged.
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from csto_qa.errors import CstoQaError, IndexCorruptError
from csto_qa.index.folders import MANIFEST
from csto_qa.ingest.chunking import CHUNKER_VERSION, ChunkAccount, ChunkParams
from csto_qa.plainfiles import matches_type, read_json
from csto_qa.retrieval.tokenizing import TOKENIZER_VERSION

FORMAT_VERSION = 2  # 2: ownership marker and per-file SHA-256 in the manifest
FIX = "rebuild it: csto-qa index --rebuild"


@dataclass(frozen=True)
class ModelInfo:
    """The embedding model the vectors come from (a different name or dim is a rebuild)."""

    name: str
    weights_sha256: str
    dim: int


@dataclass(frozen=True)
class CorpusInfo:
    """The corpus as it was when indexed.

    ``files`` maps each corpus file to its SHA-256 (or a note why it was not read);
    ``skipped`` holds every ingest warning; ``manifest`` whether the corpus had a
    ``manifest.json``; ``accounts`` where each document's characters went.
    """

    files: dict[str, str]
    skipped: tuple[str, ...]
    manifest: bool
    accounts: tuple[ChunkAccount, ...]


@dataclass(frozen=True)
class BM25Info:
    k1: float
    b: float
    epsilon: float
    vocabulary: int


@dataclass(frozen=True)
class DenseInfo:
    kind: str
    metric: str
    normalized: bool


@dataclass(frozen=True)
class Counts:
    documents: int
    sentences: int
    chunks: int


@dataclass(frozen=True)
class FileEntry:
    """Size and SHA-256 of one data file of the index, as written."""

    bytes: int
    sha256: str


@dataclass(frozen=True)
class IndexManifest:
    """What ``manifest.json`` holds. ``files`` is filled in by ``storage.save_index``."""

    format_version: int
    created: str
    model: ModelInfo
    corpus: CorpusInfo
    chunking: ChunkParams
    chunker_version: int
    tokenizer_version: int
    bm25: BM25Info
    dense: DenseInfo
    counts: Counts
    build_seconds: float
    files: dict[str, FileEntry] = field(default_factory=dict)

    @classmethod
    def new(
        cls,
        model: ModelInfo,
        corpus: CorpusInfo,
        chunking: ChunkParams,
        bm25: BM25Info,
        dense: DenseInfo,
        counts: Counts,
        build_seconds: float = 0.0,
    ) -> IndexManifest:
        """The manifest of an index built now, by this version's chunker and tokenizer."""
        return cls(
            format_version=FORMAT_VERSION,
            created=datetime.now(UTC).isoformat(timespec="seconds"),
            model=model,
            corpus=corpus,
            chunking=chunking,
            chunker_version=CHUNKER_VERSION,
            tokenizer_version=TOKENIZER_VERSION,
            bm25=bm25,
            dense=dense,
            counts=counts,
            build_seconds=build_seconds,
        )

    def to_json(self) -> dict[str, Any]:
        """The plain JSON object ``manifest.json`` stores (tuples become lists)."""
        return typing.cast(dict[str, Any], _plain(dataclasses.asdict(self)))

    @classmethod
    def from_json(cls, value: Any, path: Path) -> IndexManifest:
        """The manifest in ``value`` (parsed from ``path``); any wrong field names the file."""
        return typing.cast(IndexManifest, _convert(value, cls, "", path))


def read_manifest(index_dir: Path) -> IndexManifest:
    """The manifest of the index in ``index_dir``, checked for version and every field type."""
    path = index_dir / MANIFEST
    if not path.is_file():
        raise IndexCorruptError(f"'{path}' is missing; build the index: csto-qa index")
    value = read_json(path, FIX)
    found = value.get("format_version") if isinstance(value, dict) else None
    if found != FORMAT_VERSION:
        raise IndexCorruptError(
            f"'{path}' has index format version {found!r}; this csto-qa reads version {FORMAT_VERSION}; {FIX}"
        )
    return IndexManifest.from_json(value, path)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _wrong(path: Path, where: str, value: Any, hint: Any) -> IndexCorruptError:
    name = hint.__name__ if isinstance(hint, type) else str(hint)
    return IndexCorruptError(
        f"'{path}' field '{where or '(top)'}' is {type(value).__name__}, not {name}; {FIX}"
    )


def _convert(value: Any, hint: Any, where: str, path: Path) -> Any:
    """``value`` as the declared type ``hint``: dataclasses and their containers are built,
    plain JSON values are only checked (``plainfiles.matches_type``)."""
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        if not isinstance(value, dict):
            raise _wrong(path, where, value, hint)
        hints = typing.get_type_hints(hint)
        values = {}
        for f in dataclasses.fields(hint):
            inner = f"{where}.{f.name}" if where else f.name
            if f.name not in value:
                raise IndexCorruptError(f"'{path}' has no field '{inner}'; {FIX}")
            values[f.name] = _convert(value[f.name], hints[f.name], inner, path)
        try:
            return hint(**values)
        except (CstoQaError, TypeError, ValueError) as exc:  # a record's own checks refuse it
            raise IndexCorruptError(
                f"'{path}' field '{where or '(top)'}' is invalid ({exc}); {FIX}"
            ) from None
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        if not isinstance(value, list):
            raise _wrong(path, where, value, hint)
        return tuple(_convert(v, args[0], f"{where}[{i}]", path) for i, v in enumerate(value))
    if origin is dict:
        if not isinstance(value, dict):
            raise _wrong(path, where, value, hint)
        return {k: _convert(v, args[1], f"{where}[{k!r}]", path) for k, v in value.items()}
    if not matches_type(value, hint):
        raise _wrong(path, where, value, hint)
    return value

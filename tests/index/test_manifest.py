"""The typed index manifest (manifest.py): parsed once, every field type checked, the
same JSON written back."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fakes import FakeEncoder, fake_manifest, write_tiny_corpus

from csto_qa.errors import IndexCorruptError
from csto_qa.index.build import build, quiet
from csto_qa.index.manifest import FORMAT_VERSION, FileEntry, IndexManifest, read_manifest
from csto_qa.ingest.chunking import ChunkAccount, ChunkParams

# The keys the untyped writer produced before the manifest was a dataclass: the on-disk
# format (version 2) must not change.
TOP_KEYS = [
    "format_version",
    "created",
    "model",
    "corpus",
    "chunking",
    "chunker_version",
    "tokenizer_version",
    "bm25",
    "dense",
    "counts",
    "build_seconds",
    "files",
]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("manifest")
    index = root / "index"
    build(write_tiny_corpus(root / "corpus"), index, FakeEncoder(), report=quiet, progress=False)
    return index


def _edited(built: Path, tmp_path: Path, edit: Callable[[dict[str, Any]], None]) -> Path:
    data = json.loads((built / "manifest.json").read_text(encoding="utf-8"))
    edit(data)
    (tmp_path / "manifest.json").write_text(json.dumps(data), encoding="utf-8")
    return tmp_path


def test_the_json_on_disk_is_read_and_written_back_unchanged(built: Path) -> None:
    on_disk = json.loads((built / "manifest.json").read_text(encoding="utf-8"))
    manifest = read_manifest(built)
    assert list(on_disk) == TOP_KEYS
    assert manifest.to_json() == on_disk
    assert json.loads(json.dumps(manifest.to_json())) == on_disk  # plain JSON, tuples as lists


def test_fields_are_typed_records(built: Path) -> None:
    manifest = read_manifest(built)
    assert manifest.format_version == FORMAT_VERSION
    assert manifest.model.name == "fake-encoder" and manifest.model.dim == FakeEncoder.dim
    assert manifest.chunking == ChunkParams()
    assert set(manifest.corpus.files) == {"alpha.txt", "beta.txt", "gamma.md"}
    assert all(isinstance(a, ChunkAccount) for a in manifest.corpus.accounts)
    assert {a.doc_id for a in manifest.corpus.accounts} == {"alpha", "beta", "gamma"}
    assert manifest.counts.documents == 3 and manifest.counts.chunks >= 2
    assert all(isinstance(e, FileEntry) and len(e.sha256) == 64 for e in manifest.files.values())


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda m: m["counts"].update(chunks="3"), r"field 'counts.chunks' is str, not int"),
        (lambda m: m["model"].pop("dim"), r"has no field 'model.dim'"),
        (lambda m: m.update(corpus=[]), r"field 'corpus' is list, not CorpusInfo"),
        (lambda m: m["corpus"]["files"].update({"x.txt": 1}), r"field 'corpus.files\['x.txt'\]' is int"),
        (lambda m: m["corpus"].update(skipped="one"), r"field 'corpus.skipped' is str"),
        (
            lambda m: m["corpus"]["accounts"][0]["left_out"].update(images=True),
            r"field 'corpus.accounts\[0\].left_out\['images'\]' is bool, not int",
        ),
        (lambda m: m["chunking"].update(target_words=5), r"field 'chunking' is invalid \(chunk target_words"),
        (lambda m: m["files"]["chunks.jsonl"].update(bytes=-0.5), r"field 'files\['chunks.jsonl'\].bytes'"),
        (lambda m: m["dense"].update(normalized=1), r"field 'dense.normalized' is int, not bool"),
        (lambda m: m.update(build_seconds=float("nan")), r"field 'build_seconds' is float, not float"),
    ],
)
def test_a_wrong_field_names_the_file_the_field_and_the_fix(
    built: Path, tmp_path: Path, edit: Callable[[dict[str, Any]], None], message: str
) -> None:
    folder = _edited(built, tmp_path, edit)
    with pytest.raises(IndexCorruptError, match=message) as raised:
        read_manifest(folder)
    assert str(folder / "manifest.json") in str(raised.value)
    assert "csto-qa index --rebuild" in str(raised.value)


@pytest.mark.parametrize("version", [1, 3, "2", None])
def test_another_format_version_is_refused_before_its_fields_are_read(
    built: Path, tmp_path: Path, version: object
) -> None:
    folder = _edited(built, tmp_path, lambda m: m.update(format_version=version, model=None))
    with pytest.raises(IndexCorruptError, match=f"format version {version!r}; this csto-qa reads version 2"):
        read_manifest(folder)


def test_a_missing_manifest_says_to_build(tmp_path: Path) -> None:
    with pytest.raises(IndexCorruptError, match="is missing; build the index: csto-qa index"):
        read_manifest(tmp_path)


def test_a_manifest_made_in_code_survives_a_json_round_trip(tmp_path: Path) -> None:
    manifest = fake_manifest(documents=2, sentences=5, chunks=3)
    text = json.dumps(manifest.to_json())
    assert IndexManifest.from_json(json.loads(text), tmp_path / "manifest.json") == manifest

"""Closed index validation (storage.py, lexical.py, dense.py, plainfiles.py): every kind of
damage is an IndexCorruptError naming the file, whether or not the manifest's hashes were
rewritten to match it; the engine then rebuilds and answers as before."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from fakes import TINY_DOCS, FakeEncoder

from csto_qa.engine import Engine
from csto_qa.errors import IndexCorruptError
from csto_qa.index.build import build, quiet
from csto_qa.index.storage import DATA_FILES, load_index, save_index
from csto_qa.plainfiles import file_sha256
from csto_qa.retrieval.tokenizing import tokenize

ROOT = Path(__file__).resolve().parents[2]
QUESTION = "When did Uzbekistan suspend its membership?"


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("pristine")
    corpus = base / "corpus"
    corpus.mkdir()
    text = (ROOT / "corpus" / "csto-wikipedia-sections.txt").read_text(encoding="utf-8")[:9000]
    (corpus / "wiki.txt").write_text(text, encoding="utf-8")
    build(corpus, base / "index", FakeEncoder(), report=quiet, progress=False)
    return corpus, base / "index"


def resign(index: Path) -> None:
    """Rewrite the manifest's sizes and hashes to match the files, as a careful forger would."""
    manifest = json.loads((index / "manifest.json").read_text(encoding="utf-8"))
    manifest["files"] = {
        name: {"bytes": (index / name).stat().st_size, "sha256": file_sha256(index / name)}
        for name in DATA_FILES
    }
    (index / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")


def edit_json(edit: Callable[[dict], object]) -> Callable[[Path], None]:
    def change(path: Path) -> None:
        value = json.loads(path.read_text(encoding="utf-8"))
        edit(value)
        path.write_text(json.dumps(value), encoding="utf-8")

    return change


def edit_row(number: int, **changes: object) -> Callable[[Path], None]:
    def change(path: Path) -> None:
        lines = path.read_text(encoding="utf-8").splitlines()
        row = json.loads(lines[number])
        row.update(changes)
        lines[number] = json.dumps(row)
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    return change


def edit_array(change: Callable[[np.ndarray], np.ndarray]) -> Callable[[Path], None]:
    return lambda path: np.save(path, change(np.load(path)), allow_pickle=False)


def with_value(position: tuple[int, ...] | int, value: float) -> Callable[[np.ndarray], np.ndarray]:
    def change(array: np.ndarray) -> np.ndarray:
        array = array.copy()
        array[position] = value
        return array

    return change


def huge_header(path: Path) -> None:
    """A valid .npy header claiming 10^12 rows in front of a few bytes."""
    header = {"descr": "<f4", "fortran_order": False, "shape": (10**12, 16)}
    with path.open("wb") as handle:
        np.lib.format.write_array_header_1_0(handle, header)
        handle.write(b"\0" * 64)


def faiss_kind(kind: str) -> Callable[[Path], None]:
    def change(path: Path) -> None:
        import faiss

        stored = faiss.read_index(str(path))
        vectors = stored.reconstruct_n(0, stored.ntotal)
        index = (
            faiss.IndexIDMap(faiss.IndexFlatIP(stored.d)) if kind == "idmap" else faiss.IndexFlatL2(stored.d)
        )
        if kind == "idmap":
            index.add_with_ids(vectors, np.arange(len(vectors), dtype=np.int64))
        else:
            index.add(vectors)
        faiss.write_index(index, str(path))

    return change


def faiss_nan(path: Path) -> None:
    import faiss

    stored = faiss.read_index(str(path))
    vectors = stored.reconstruct_n(0, stored.ntotal)
    vectors[3, 2] = np.nan
    index = faiss.IndexFlatIP(stored.d)
    index.add(vectors)
    faiss.write_index(index, str(path))


def swap_arrays(path: Path) -> None:
    data, indices = path.parent / "bm25_data.npy", path.parent / "bm25_indices.npy"
    a, b = data.read_bytes(), indices.read_bytes()
    data.write_bytes(b)
    indices.write_bytes(a)


def nested(path: Path) -> None:
    path.write_text('{"version": 1, "vocab": ' + "[" * 100_000 + "]" * 100_000 + "}", encoding="utf-8")


def long_integer(path: Path) -> None:
    path.write_text(
        path.read_text(encoding="utf-8").replace('"n_docs": ', '"n_docs": ' + "9" * 5000 + ', "x": '),
        encoding="utf-8",
    )


# case: (file, damage, text the error must contain besides the file name)
DAMAGE: dict[str, tuple[str, Callable[[Path], None]]] = {
    "bm25-data-and-indices-swapped": ("bm25_data.npy", swap_arrays),
    "bm25-negative-index": ("bm25_indices.npy", edit_array(with_value(0, -1))),
    "bm25-float-indices": ("bm25_indices.npy", edit_array(lambda a: a.astype(np.float32))),
    "bm25-indptr-not-from-0": ("bm25_indptr.npy", edit_array(with_value(0, 1))),
    "bm25-indptr-decreasing": ("bm25_indptr.npy", edit_array(with_value(5, 0))),
    "bm25-nan-weight": ("bm25_data.npy", edit_array(with_value(0, np.nan))),
    "bm25-vocab-as-list": ("bm25_params.json", edit_json(lambda p: p.update(vocab=list(p["vocab"])))),
    "bm25-vocab-ids-repeated": (
        "bm25_params.json",
        edit_json(lambda p: p.update(vocab=dict.fromkeys(p["vocab"], 0))),
    ),
    "bm25-k1-string": ("bm25_params.json", edit_json(lambda p: p.update(k1="1.5"))),
    "bm25-params-nested-deeply": ("bm25_params.json", nested),
    "bm25-params-5000-digit-integer": ("bm25_params.json", long_integer),
    "vectors-nan": ("sentence_vectors.npy", edit_array(with_value((0, 0), np.nan))),
    "vectors-inf": ("sentence_vectors.npy", edit_array(with_value((1, 1), np.inf))),
    "vectors-integers": ("sentence_vectors.npy", edit_array(lambda a: a.astype(np.int32))),
    "vectors-huge-header": ("sentence_vectors.npy", huge_header),
    "faiss-idmap": ("dense.faiss", faiss_kind("idmap")),
    "faiss-l2": ("dense.faiss", faiss_kind("l2")),
    "faiss-nan-vector": ("dense.faiss", faiss_nan),
    "title-a-number": ("documents.jsonl", edit_row(0, title=5)),
    "title-null": ("documents.jsonl", edit_row(0, title=None)),
    "doc-id-a-list": ("documents.jsonl", edit_row(0, doc_id=["wiki"])),
    "chunk-start-a-float": ("chunks.jsonl", edit_row(1, start=1.5)),
    "sentence-end-a-bool": ("sentences.jsonl", edit_row(0, end=True)),
}


@pytest.mark.parametrize("signed", [False, True], ids=["hash-unchanged", "hash-rewritten"])
@pytest.mark.parametrize("case", DAMAGE)
def test_damage_is_an_error_naming_the_file_and_the_engine_rebuilds(
    case: str, signed: bool, copy: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus, index = copy
    monkeypatch.setattr("csto_qa.engine.load_encoder", lambda name=None: FakeEncoder())
    target, damage = DAMAGE[case]
    expected = (
        Engine.open(index_dir=index, corpus_dir=corpus, report=quiet).ask(QUESTION, mode="bm25").to_dict()
    )
    damage(index / target)
    if signed:
        resign(index)
    with pytest.raises(IndexCorruptError) as caught:
        load_index(index)
    message = str(caught.value)
    assert "csto-qa index" in message
    if signed:  # found by the file's own checks, which name it
        assert target in message or (case.startswith("bm25-data-and") and "bm25_indices.npy" in message)
    else:  # found by the hash, before parsing
        assert target in message and ("SHA-256" in message or "bytes" in message)
    messages: list[str] = []
    engine = Engine.open(index_dir=index, corpus_dir=corpus, report=messages.append, progress=False)
    assert any("build" in m for m in messages)
    assert engine.ask(QUESTION, mode="bm25").to_dict() == expected
    load_index(index)


def test_a_consistent_edit_of_a_documents_text_is_caught_by_its_hash(copy: tuple[Path, Path]) -> None:
    _, index = copy
    for name in ("documents.jsonl", "chunks.jsonl"):
        path = index / name
        text = path.read_text(encoding="utf-8")
        assert "2002" in text
        path.write_text(text.replace("2002", "2099"), encoding="utf-8")  # same length, offsets hold
    with pytest.raises(IndexCorruptError, match="documents.jsonl.*SHA-256"):
        load_index(index)


def test_a_manifest_nested_deeply_is_an_index_error(copy: tuple[Path, Path]) -> None:
    _, index = copy
    (index / "manifest.json").write_text("[" * 50_000 + "]" * 50_000, encoding="utf-8")
    with pytest.raises(IndexCorruptError, match="manifest.json"):
        load_index(index)


# --- round trip over the tiny corpus (tests/data/tiny) ------------------------------------------


def test_save_then_load_gives_identical_records(tiny_index: Path, tmp_path: Path) -> None:
    first = load_index(tiny_index)
    folder = tmp_path / "again"
    folder.mkdir()
    written = save_index(folder, first)
    second = load_index(folder)
    assert second.documents == first.documents and list(second.documents) == list(first.documents)
    assert second.sentences == first.sentences and second.chunks == first.chunks
    assert np.array_equal(second.sentence_vectors, first.sentence_vectors)
    assert second.manifest == written == first.manifest  # same bytes, so the same sizes and hashes
    for name in DATA_FILES:
        assert (folder / name).read_bytes() == (tiny_index / name).read_bytes(), name
    tokens = tokenize("When did Uzbekistan suspend its membership?")
    assert np.array_equal(second.bm25.scores(tokens), first.bm25.scores(tokens))
    query = FakeEncoder().encode_query("Uzbekistan membership")
    hits, again = first.dense.search(query, 3), second.dense.search(query, 3)
    assert np.array_equal(hits.ids, again.ids) and np.array_equal(hits.scores, again.scores)


def test_the_loaded_records_point_into_the_tiny_corpus_files(tiny_index: Path) -> None:
    stored = load_index(tiny_index)
    texts = {Path(name).stem: text for name, text in TINY_DOCS.items()}
    assert {d: doc.text.strip() for d, doc in stored.documents.items()} == {
        d: t.strip() for d, t in texts.items()
    }
    for chunk in stored.chunks:
        assert stored.documents[chunk.doc_id].text[chunk.start : chunk.end] == chunk.text
    assert (stored.manifest.counts.documents, stored.manifest.counts.chunks) == (3, len(stored.chunks))
    assert stored.sentence_vectors.shape == (len(stored.sentences), FakeEncoder.dim)

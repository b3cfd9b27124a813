"""Damaged, interrupted and concurrent index builds: a clear error naming the file and the fix
(``auto_build=False``) or an automatic rebuild (default), never an answer from a mismatched index;
a build killed at any moment leaves the previous index whole; two builds never mix."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from fakes import FakeEncoder

from csto_qa.engine import Engine
from csto_qa.errors import CstoQaError, IndexCorruptError, IndexLockedError
from csto_qa.index.build import build, quiet
from csto_qa.index.folders import build_lock, recover_interrupted_swap
from csto_qa.index.storage import INDEX_FILES, load_index

ROOT = Path(__file__).resolve().parents[2]
QUESTION = "When did Uzbekistan suspend its membership?"


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(corpus, index): a small corpus of real text and its index, built once; tests copy both."""
    base = tmp_path_factory.mktemp("pristine")
    corpus = base / "corpus"
    corpus.mkdir()
    for name, size in (("csto-wikipedia-sections.txt", 7000), ("csto-facts-for-kids.txt", 5000)):
        text = (ROOT / "corpus" / name).read_text(encoding="utf-8")[:size]
        (corpus / name).write_text(text, encoding="utf-8")
    (corpus / "odkb.txt").write_text("Организация Договора о коллективной безопасности.", encoding="utf-8")
    build(corpus, base / "index", FakeEncoder(), report=quiet, progress=False)
    return corpus, base / "index"


@pytest.fixture()
def copy(pristine: tuple[Path, Path], tmp_path: Path) -> tuple[Path, Path]:
    corpus, index = pristine
    shutil.copytree(corpus, tmp_path / "corpus")
    shutil.copytree(index, tmp_path / "index")
    return tmp_path / "corpus", tmp_path / "index"


def open_engine(corpus: Path, index: Path, auto_build: bool, report: Callable[[str], None] = quiet) -> Engine:
    return Engine.open(
        index_dir=index, corpus_dir=corpus, auto_build=auto_build, report=report, progress=False
    )


def snapshot(index: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(index.iterdir())}


def leftovers(index: Path) -> list[str]:
    return sorted(p.name for p in index.parent.glob(f".{index.name}.*") if not p.name.endswith(".lock"))


# --- damage, one file at a time ----------------------------------------------------------------


def _lines(path: Path, number: int, edit: Callable[[str], str]) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[number] = edit(lines[number])
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _row(path: Path, number: int, edit: Callable[[dict], None]) -> None:
    def change(line: str) -> str:
        row = json.loads(line)
        edit(row)
        return json.dumps(row, ensure_ascii=False)

    _lines(path, number, change)


def _json(path: Path, edit: Callable[[dict], None]) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    edit(data)
    path.write_text(json.dumps(data), encoding="utf-8")


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _one_vector_short(index: Path) -> None:
    import faiss

    stored = faiss.read_index(str(index / "dense.faiss"))
    smaller = faiss.IndexFlatIP(stored.d)
    smaller.add(stored.reconstruct_n(0, stored.ntotal - 1))
    faiss.write_index(smaller, str(index / "dense.faiss"))


def _pickled(path: Path) -> None:
    np.save(path, np.array(list(np.load(path)), dtype=object), allow_pickle=True)


def lines(number: int, edit: Callable[[str], str]) -> Callable[[Path], None]:
    return lambda path: _lines(path, number, edit)


def row(number: int, drop: str = "", **changes: object) -> Callable[[Path], None]:
    return lambda path: _row(path, number, lambda r: (r.pop(drop) if drop else None, r.update(changes)))


def data(edit: Callable[[dict], object]) -> Callable[[Path], None]:
    return lambda path: _json(path, edit)


def raw(content: bytes) -> Callable[[Path], None]:
    return lambda path: path.write_bytes(content)


def array(cut: Callable[[np.ndarray], np.ndarray]) -> Callable[[Path], None]:
    return lambda path: np.save(path, cut(np.load(path)))


DAMAGE = {  # case: (file damaged, how, file the error must name when it is another one)
    "faiss-truncated": ("dense.faiss", _truncate, None),
    "faiss-empty": ("dense.faiss", raw(b""), None),
    "faiss-garbage": ("dense.faiss", raw(b"not a faiss index " * 40), None),
    "faiss-one-vector-short": ("dense.faiss", lambda p: _one_vector_short(p.parent), None),
    "chunks-bad-json-line": ("chunks.jsonl", lines(1, lambda s: s[:-7]), None),
    "documents-bad-json-line": ("documents.jsonl", lines(0, lambda s: "[1, 2"), None),
    "sentences-not-an-object": ("sentences.jsonl", lines(2, lambda s: "42"), None),
    "chunks-missing-field": ("chunks.jsonl", row(0, drop="text"), None),
    "sentences-wrong-type": ("sentences.jsonl", row(1, start="0"), None),
    "chunks-out-of-range": ("chunks.jsonl", row(1, end=10**9), None),
    "chunks-bad-sentences": ("chunks.jsonl", row(1, sentences=[5, 10**6]), None),
    "chunks-text-edited": ("chunks.jsonl", row(1, text="The CSTO ended in 2020."), None),
    "documents-text-edited": ("documents.jsonl", row(0, text="short"), None),
    "manifest-future-version": ("manifest.json", data(lambda m: m.update(format_version=99)), None),
    "manifest-not-json": ("manifest.json", raw(b"{"), None),
    "manifest-counts-wrong": ("manifest.json", data(lambda m: m["counts"].update(chunks=1)), None),
    "vectors-one-row-short": ("sentence_vectors.npy", array(lambda a: a[:-1]), None),
    "vectors-wrong-dim": ("sentence_vectors.npy", array(lambda a: a[:, :8]), None),
    "vectors-pickled-objects": ("sentence_vectors.npy", _pickled, None),
    "vectors-truncated": ("sentence_vectors.npy", _truncate, None),
    "vectors-empty": ("sentence_vectors.npy", raw(b""), None),
    "bm25-vocab-damaged": (
        "bm25_params.json",
        data(lambda p: p.update(vocab=dict.fromkeys(p["vocab"], 0))),
        None,
    ),
    "bm25-params-wrong-shape": ("bm25_params.json", data(lambda p: p.pop("n_docs")), None),
    "bm25-params-not-json": ("bm25_params.json", raw(b"{"), None),
    "bm25-params-not-an-object": ("bm25_params.json", raw(b"[]"), None),
    "bm25-array-truncated": ("bm25_data.npy", _truncate, None),
    "bm25-array-empty": ("bm25_indptr.npy", raw(b""), None),
    "bm25-arrays-swapped": (
        "bm25_indptr.npy",
        lambda p: shutil.copy(p.parent / "bm25_indices.npy", p),
        None,
    ),
    # The ownership marker is not needed to load an index (only to replace the folder).
    **{f"missing-{name}": (name, Path.unlink, None) for name in INDEX_FILES if name != ".csto-qa-index"},
}


@pytest.mark.parametrize("case", DAMAGE)
def test_a_damaged_index_is_an_error_naming_the_file_or_is_rebuilt(
    case: str, copy: tuple[Path, Path], fake_model
) -> None:
    corpus, index = copy
    target, damage, named = DAMAGE[case]
    named = named or target
    expected = (
        open_engine(corpus, index, auto_build=False).ask(QUESTION, mode="bm25", abstain=False).to_dict()
    )
    damage(index / target)

    with pytest.raises(IndexCorruptError) as loading:
        load_index(index)
    assert named in str(loading.value) and "csto-qa index" in str(loading.value)

    with pytest.raises(IndexCorruptError) as opening:
        open_engine(corpus, index, auto_build=False)
    assert str(index) in str(opening.value) and "csto-qa index" in str(opening.value)
    if not case.startswith("manifest-counts"):  # a wrong count is found when loading, see above
        assert named in str(opening.value) or "out of date" in str(opening.value)

    messages: list[str] = []
    engine = open_engine(corpus, index, auto_build=True, report=messages.append)
    assert any("build" in m for m in messages)  # it said it rebuilt, and why
    load_index(index)  # the rebuilt index is whole
    assert engine.ask(QUESTION, mode="bm25", abstain=False).to_dict() == expected


def test_a_manifest_with_fields_of_the_wrong_shape_names_the_field_then_is_rebuilt(
    copy: tuple[Path, Path], fake_model
) -> None:
    corpus, index = copy
    _json(index / "manifest.json", lambda m: m.update(model="fake-encoder", corpus=[], counts=None))
    with pytest.raises(IndexCorruptError, match="manifest.json' field 'model' is str.*csto-qa index"):
        open_engine(corpus, index, auto_build=False)
    engine = open_engine(corpus, index, auto_build=True)
    assert engine.stored.manifest.model.name == "fake-encoder"


def test_a_changed_corpus_is_rebuilt_never_answered_from_the_old_index(
    copy: tuple[Path, Path], fake_model
) -> None:
    corpus, index = copy
    (corpus / "odkb.txt").write_text("Uzbekistan suspended its membership in June 2012.", encoding="utf-8")
    with pytest.raises(IndexCorruptError, match=r"out of date \(the corpus changed \(odkb.txt\)\)"):
        open_engine(corpus, index, auto_build=False)
    engine = open_engine(corpus, index, auto_build=True)
    assert engine.ask(QUESTION, mode="bm25", abstain=False).passages[0].doc == "odkb"


# --- a build killed midway, and two builds at once ---------------------------------------------

CHILD = r"""
import hashlib, os, sys, time
from pathlib import Path
import numpy as np
import csto_qa.index.storage as storage
from csto_qa.index.build import build

corpus, index, stage, marker, only_if_stale = sys.argv[1:6]
index = Path(index)

def arrived():
    Path(marker).write_text(str(os.getpid()))

class Fake:
    name, weights_sha256, dim = "fake-encoder", "", 16
    def encode(self, texts, batch_size=32, progress=False):
        if stage == "encode":
            arrived(); time.sleep(300)
        if stage == "slow":
            arrived(); time.sleep(1.5)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            seed = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest()
            vector = np.random.default_rng(int.from_bytes(seed, "little")).standard_normal(self.dim)
            out[row] = vector / np.linalg.norm(vector)
        return out

real_write, real_rename = storage.write_jsonl, os.rename

def write_jsonl(path, rows):
    real_write(path, rows)
    if stage == "write" and path.name == "sentences.jsonl":
        arrived(); time.sleep(300)  # killed here: documents and sentences written, the rest not

def rename(src, dst):
    real_rename(src, dst)
    if stage == "swap" and Path(src) == index:
        arrived(); time.sleep(300)  # killed between the two renames of the swap

storage.write_jsonl, os.rename = write_jsonl, rename
build(Path(corpus), index, Fake(), report=lambda m: print(m, flush=True), progress=False,
      only_if_stale=only_if_stale == "1")
"""


def spawn(
    corpus: Path, index: Path, stage: str, marker: Path, only_if_stale: bool = False
) -> subprocess.Popen:
    args = [
        sys.executable,
        "-c",
        CHILD,
        str(corpus),
        str(index),
        stage,
        str(marker),
        "1" if only_if_stale else "0",
    ]
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def wait_for(marker: Path, process: subprocess.Popen, seconds: float = 120.0) -> None:
    deadline = time.monotonic() + seconds
    while not marker.exists():
        if process.poll() is not None:
            pytest.fail(f"the build ended before reaching the kill point: {process.stdout.read()}")
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail("the build never reached the kill point")
        time.sleep(0.05)


@pytest.mark.parametrize("stage", ["encode", "write", "swap"])
def test_a_build_killed_midway_leaves_the_previous_index_whole(
    stage: str, copy: tuple[Path, Path], fake_model
) -> None:
    corpus, index = copy
    before = snapshot(index)
    child = spawn(corpus, index, stage, index.parent / "marker")
    wait_for(index.parent / "marker", child)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    if stage == "write":  # the half-written copy is beside the index, never in it
        (half,) = [p for p in index.parent.glob(f".{index.name}.tmp-*")]
        assert not (half / "manifest.json").exists()
    if stage == "swap":  # the worst moment: the previous index has just been moved aside
        assert not index.exists() and leftovers(index)

    engine = open_engine(corpus, index, auto_build=False)  # recovers, loads, answers: no rebuild
    assert snapshot(index) == before
    assert engine.ask(QUESTION, mode="bm25", abstain=False).passages

    messages: list[str] = []  # the dead build's lock was released by the kernel: no waiting
    build(corpus, index, FakeEncoder(), report=messages.append, progress=False)
    assert not any("waiting" in m for m in messages)
    assert leftovers(index) == [] and load_index(index).chunks


def test_two_builds_at_once_do_not_corrupt_each_other(copy: tuple[Path, Path]) -> None:
    corpus, index = copy
    (corpus / "new.txt").write_text("A new document about CSTO exercises in 2024.", encoding="utf-8")
    first = spawn(corpus, index, "slow", index.parent / "first")
    wait_for(index.parent / "first", first)  # the first build holds the lock and is encoding
    second = spawn(corpus, index, "slow", index.parent / "second", only_if_stale=True)
    out_first, _ = first.communicate(timeout=120)
    out_second, _ = second.communicate(timeout=120)
    assert first.returncode == 0 and second.returncode == 0, (out_first, out_second)
    assert "index written" in out_first
    assert "another build" in out_second and "waiting" in out_second  # the second waited...
    assert (
        "index written" not in out_second and not (index.parent / "second").exists()
    )  # ...then had nothing to do
    stored = load_index(index)
    assert "new" in stored.documents and leftovers(index) == []


def test_a_second_build_that_cannot_wait_says_why(tmp_path: Path) -> None:
    index = tmp_path / "index"
    with build_lock(index):
        with pytest.raises(
            IndexLockedError, match=r"another csto-qa process is building .*index.*wait for it"
        ):
            with build_lock(index, wait_seconds=0.2):
                pass
    with build_lock(index, wait_seconds=0.2):  # released: the next build gets it at once
        pass


def test_a_reader_does_not_take_the_folder_from_a_build_in_the_middle_of_its_swap(
    copy: tuple[Path, Path],
) -> None:
    _, index = copy
    moved = index.parent / f".{index.name}.old-1-1"
    with build_lock(index):  # a live build, between its two renames
        os.rename(index, moved)
        recover_interrupted_swap(index, settle_seconds=0.2)
        assert not index.exists() and moved.exists()  # left for the build to finish
    recover_interrupted_swap(index)  # no build alive: the previous index is put back
    assert index.exists() and not moved.exists()
    load_index(index)


def test_the_index_command_repairs_a_damaged_index_that_is_up_to_date(copy: tuple[Path, Path]) -> None:
    corpus, index = copy
    _truncate(index / "dense.faiss")
    messages: list[str] = []
    build(corpus, index, FakeEncoder(), report=messages.append, progress=False, only_if_stale=True)
    assert any("cannot be used" in m and "dense.faiss" in m for m in messages)
    assert load_index(index).dense.size == len(load_index(index).chunks)


def test_a_full_disk_leaves_the_previous_index_and_says_so(
    copy: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus, index = copy
    before = snapshot(index)

    def full(path: Path, rows: list) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("csto_qa.index.storage.write_jsonl", full)
    with pytest.raises(CstoQaError, match="No space left on device.*previous index is unchanged"):
        build(corpus, index, FakeEncoder(), report=quiet, progress=False, only_if_stale=False)
    assert snapshot(index) == before and leftovers(index) == []


def test_a_failed_swap_puts_the_previous_index_back_at_once(
    copy: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus, index = copy
    before, real_rename = snapshot(index), os.rename

    def rename(src: str | Path, dst: str | Path) -> None:
        if Path(dst) == index and ".tmp-" in Path(src).name:
            raise OSError(errno.EIO, "Input/output error")
        real_rename(src, dst)

    monkeypatch.setattr("csto_qa.index.storage.os.rename", rename)
    with pytest.raises(CstoQaError, match="Input/output error"):
        build(corpus, index, FakeEncoder(), report=quiet, progress=False)
    assert snapshot(index) == before and leftovers(index) == []


def test_an_index_folder_that_cannot_be_written_is_a_clear_error(copy: tuple[Path, Path]) -> None:
    corpus, _ = copy
    blocker = corpus.parent / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    with pytest.raises(CstoQaError, match=r"cannot write the index at .*a-file.*--index-dir"):
        build(corpus, blocker / "index", FakeEncoder(), report=quiet, progress=False)

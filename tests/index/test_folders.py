"""csto-qa replaces only folders it can prove are its own index, never a user's files,
and never the corpus (folders.py), through every route: the CLI, the engine, $CSTO_QA_INDEX."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from fakes import FakeEncoder

from csto_qa.config import default_index_dir
from csto_qa.engine import Engine
from csto_qa.errors import IndexLocationError
from csto_qa.index.build import build, quiet
from csto_qa.index.folders import OWNER_MARKER, check_location, clean_leftovers, not_ours

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "a.txt").write_text(
        "The CSTO was founded in 2002. Its members hold exercises.\n", encoding="utf-8"
    )
    return folder


@pytest.fixture()
def notes(tmp_path: Path) -> Path:
    """A user's own folder: what a mistyped --index-dir points at."""
    folder = tmp_path / "my-notes"
    (folder / "drafts").mkdir(parents=True)
    (folder / "todo.txt").write_text("buy milk\n", encoding="utf-8")
    (folder / "drafts" / "essay.md").write_text("# On alliances\n", encoding="utf-8")
    return folder


def tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def run_cli(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess:
    import os

    full_env = {**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "csto_qa.cli", *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd or ROOT,
        timeout=120,
    )


# --- the rule, on folders ----------------------------------------------------------------------


def test_missing_empty_and_own_folders_may_be_replaced(tmp_path: Path, corpus: Path) -> None:
    assert not_ours(tmp_path / "absent") is None
    (tmp_path / "empty").mkdir()
    assert not_ours(tmp_path / "empty") is None
    build(corpus, tmp_path / "index", FakeEncoder(), report=quiet, progress=False)
    assert (tmp_path / "index" / OWNER_MARKER).is_file()
    assert not_ours(tmp_path / "index") is None


def test_a_users_folder_a_file_and_an_index_with_a_foreign_file_are_not_ours(
    tmp_path: Path, corpus: Path, notes: Path
) -> None:
    assert "todo.txt" in (not_ours(notes) or "")
    (tmp_path / "file").write_text("x", encoding="utf-8")
    assert "file" in (not_ours(tmp_path / "file") or "")
    build(corpus, tmp_path / "index", FakeEncoder(), report=quiet, progress=False)
    (tmp_path / "index" / "thesis.docx").write_bytes(b"mine")
    assert "thesis.docx" in (not_ours(tmp_path / "index") or "")
    # A folder holding only files with our names, but no marker and no manifest, is not ours.
    (tmp_path / "lookalike").mkdir()
    (tmp_path / "lookalike" / "chunks.jsonl").write_text("{}\n", encoding="utf-8")
    assert not_ours(tmp_path / "lookalike") is not None


def test_an_index_of_the_previous_format_without_the_marker_is_ours(tmp_path: Path, corpus: Path) -> None:
    build(corpus, tmp_path / "index", FakeEncoder(), report=quiet, progress=False)
    (tmp_path / "index" / OWNER_MARKER).unlink()
    manifest = json.loads((tmp_path / "index" / "manifest.json").read_text(encoding="utf-8"))
    manifest["format_version"] = 1
    (tmp_path / "index" / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    assert not_ours(tmp_path / "index") is None
    build(corpus, tmp_path / "index", FakeEncoder(), report=quiet, progress=False)  # rebuilt in place
    assert (tmp_path / "index" / OWNER_MARKER).is_file()


@pytest.mark.parametrize("relation", ["equal", "inside", "around"])
def test_the_index_may_not_be_the_corpus_inside_it_or_around_it(
    tmp_path: Path, corpus: Path, relation: str
) -> None:
    index = {"equal": corpus, "inside": corpus / "index", "around": tmp_path}[relation]
    with pytest.raises(IndexLocationError, match="corpus"):
        check_location(index, corpus)
    before = tree(tmp_path)
    with pytest.raises(IndexLocationError):
        build(corpus, index, FakeEncoder(), report=quiet, progress=False)
    assert tree(tmp_path) == before


def test_leftover_build_folders_that_are_not_ours_are_kept(tmp_path: Path, corpus: Path) -> None:
    build(corpus, tmp_path / "index", FakeEncoder(), report=quiet, progress=False)
    stranger = tmp_path / ".index.tmp-42-0"
    stranger.mkdir()
    (stranger / "keep.txt").write_text("not csto-qa's", encoding="utf-8")
    clean_leftovers(tmp_path / "index")
    assert (stranger / "keep.txt").is_file()


# --- every route to a user's folder ------------------------------------------------------------


def test_build_refuses_a_users_folder_and_leaves_it_untouched(corpus: Path, notes: Path) -> None:
    before = tree(notes)
    with pytest.raises(IndexLocationError) as refused:
        build(corpus, notes, FakeEncoder(), report=quiet, progress=False)
    message = str(refused.value)
    assert str(notes) in message and "--index-dir" in message and "todo.txt" in message
    assert tree(notes) == before
    assert sorted(p.name for p in notes.parent.iterdir()) == ["corpus", "my-notes"]  # no swap leftovers


def test_engine_open_refuses_a_users_folder(
    monkeypatch: pytest.MonkeyPatch, corpus: Path, notes: Path
) -> None:
    monkeypatch.setattr("csto_qa.engine.load_encoder", lambda name=None: FakeEncoder())
    before = tree(notes)
    with pytest.raises(IndexLocationError):
        Engine.open(index_dir=notes, corpus_dir=corpus, report=quiet, progress=False)
    assert tree(notes) == before


@pytest.mark.slow
@pytest.mark.parametrize(
    "route", ["ask --index-dir", "index --index-dir", "$CSTO_QA_INDEX", "index = corpus"]
)
def test_the_cli_refuses_a_users_folder_in_one_line(route: str, corpus: Path, notes: Path) -> None:
    env: dict[str, str] = {}
    if route == "ask --index-dir":
        args = ["ask", "When was the CSTO founded?", "--index-dir", str(notes), "--corpus-dir", str(corpus)]
    elif route == "index --index-dir":
        args = ["index", "--rebuild", "--index-dir", str(notes), "--corpus-dir", str(corpus)]
    elif route == "$CSTO_QA_INDEX":
        args, env = (
            ["ask", "When was the CSTO founded?", "--corpus-dir", str(corpus)],
            {"CSTO_QA_INDEX": str(notes)},
        )
    else:
        args = ["index", "--index-dir", str(corpus), "--corpus-dir", str(corpus)]
    watched = corpus if route == "index = corpus" else notes
    before = tree(watched)
    result = run_cli(*args, env=env)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.count("csto-qa: error:") == 1 and str(watched) in result.stderr
    assert tree(watched) == before


def test_the_default_index_is_beside_the_corpus_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CSTO_QA_INDEX", raising=False)
    assert default_index_dir(tmp_path / "docs") == (tmp_path / "index").resolve()
    monkeypatch.setenv("CSTO_QA_INDEX", str(tmp_path / "elsewhere"))
    assert default_index_dir(tmp_path / "docs") == tmp_path / "elsewhere"


def test_engine_open_with_only_a_corpus_dir_indexes_beside_it(
    monkeypatch: pytest.MonkeyPatch, corpus: Path
) -> None:
    monkeypatch.delenv("CSTO_QA_INDEX", raising=False)
    monkeypatch.setattr("csto_qa.engine.load_encoder", lambda name=None: FakeEncoder())
    engine = Engine.open(corpus_dir=corpus, report=quiet, progress=False)
    assert engine.stored.folder.resolve() == (corpus.parent / "index").resolve()

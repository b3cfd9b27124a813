"""The index folder's life on disk: where it may be, who owns it, lock, atomic swap, recovery.

csto-qa replaces or deletes a folder only when it can prove the folder is its own:

- a folder that does not exist, or is empty, may become an index;
- a folder is csto-qa's own when it holds the ownership marker (``OWNER_MARKER``, written
  first into every build folder) and nothing but files csto-qa writes (``KNOWN_FILES``),
  or, for an index of format version 1 (before the marker existed), a ``manifest.json``
  with a ``format_version`` and nothing but those files.

Anything else (a user's notes given as ``--index-dir``, the corpus folder, a folder into
which a user saved one file of their own) is refused with a message naming the folder
and what it holds. The index may not be inside, equal to, or around the corpus folder.

A build writes into a temporary folder beside the index and swaps it in with two
renames, so a build that dies leaves the previous index whole; a lock file beside the
folder keeps two builds apart. ``fcntl`` is imported where a lock is taken, so the rest
of the package imports on any platform.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

from csto_qa.errors import CstoQaError, IndexLocationError, IndexLockedError
from csto_qa.retrieval.dense import FAISS_FILE
from csto_qa.retrieval.lexical import ARRAY_FILES, PARAMS_FILE

OWNER_MARKER = ".csto-qa-index"
MANIFEST = "manifest.json"
# The records storage.py writes: documents, sentences, chunks, sentence vectors.
RECORD_FILES = ("documents.jsonl", "sentences.jsonl", "chunks.jsonl", "sentence_vectors.npy")
# Every file of an index besides the marker and the manifest (each hashed in the manifest).
DATA_FILES = (*RECORD_FILES, FAISS_FILE, PARAMS_FILE, *ARRAY_FILES)
# Every file a build writes. A file outside this list in a folder means it is not ours.
KNOWN_FILES = frozenset({OWNER_MARKER, MANIFEST, *DATA_FILES})
MARKER_TEXT = json.dumps(
    {
        "kind": "csto-qa index",
        "note": "csto-qa wrote this folder and replaces it whole on every rebuild; "
        "do not keep other files here",
    }
)


def write_marker(folder: Path) -> None:
    """Mark ``folder`` as a csto-qa index (done first, so even half-built folders are ours)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / OWNER_MARKER).write_text(MARKER_TEXT + "\n", encoding="utf-8")


def _entries(folder: Path, limit: int = 50) -> list[str]:
    names = []
    with os.scandir(folder) as it:
        for entry in it:
            names.append(entry.name)
            if len(names) > limit:
                break
    return names


def _is_legacy_index(folder: Path) -> bool:
    try:
        with (folder / MANIFEST).open(encoding="utf-8") as handle:
            text = handle.read(1 << 20)
        manifest = json.loads(text)
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        return False
    return isinstance(manifest, dict) and isinstance(manifest.get("format_version"), int)


def not_ours(folder: Path) -> str | None:
    """Why csto-qa may not replace ``folder``, or ``None`` when it may."""
    if not os.path.lexists(folder):
        return None
    if folder.is_symlink():
        return "it is a symbolic link"
    if not folder.is_dir():
        return "it is a file, not a folder"
    try:
        names = _entries(folder)
    except OSError as exc:
        return f"it cannot be listed ({exc.strerror or exc})"
    if not names:
        return None
    foreign = sorted(n for n in names if n not in KNOWN_FILES)
    if foreign or any(not (folder / n).is_file() or (folder / n).is_symlink() for n in names):
        shown = foreign or sorted(n for n in names if not (folder / n).is_file())
        more = "…" if len(shown) > 5 or len(names) > 50 else ""
        return f"it holds files csto-qa did not write ({', '.join(shown[:5])}{more})"
    if OWNER_MARKER in names or _is_legacy_index(folder):
        return None
    return "it has no csto-qa ownership marker or index manifest"


def check_replaceable(index_dir: Path) -> None:
    """Raise unless ``index_dir`` is missing, empty, or csto-qa's own index."""
    reason = not_ours(index_dir)
    if reason is not None:
        raise IndexLocationError(
            f"'{index_dir}' is not a csto-qa index ({reason}), so csto-qa will not replace it. "
            "Choose a new or empty folder with --index-dir (or $CSTO_QA_INDEX), "
            "or move that folder away yourself"
        )


def check_location(index_dir: Path, corpus_dir: Path) -> None:
    """The index may not be the corpus folder, inside it, or around it."""
    index, corpus = index_dir.resolve(), corpus_dir.resolve()
    if index == corpus or corpus in index.parents or index in corpus.parents:
        relation = "is" if index == corpus else ("is inside" if corpus in index.parents else "contains")
        raise IndexLocationError(
            f"the index folder '{index_dir}' {relation} the corpus folder '{corpus_dir}'; "
            "a rebuild replaces the index folder whole, so keep them apart: "
            "use --index-dir with a folder outside the corpus"
        )


def _siblings(index_dir: Path, kind: str) -> list[Path]:
    return sorted(index_dir.parent.glob(f".{index_dir.name}.{kind}-*"))


def _remove_if_ours(folder: Path) -> None:
    if folder.is_dir() and not folder.is_symlink() and not_ours(folder) is None:
        shutil.rmtree(folder, ignore_errors=True)


def recover_interrupted_swap(index_dir: Path, settle_seconds: float = 5.0) -> None:
    """Put the previous index back if a build died between its two renames.

    A build that is alive and between its renames holds the lock and is microseconds
    from finishing: wait for it instead of racing it for the folder name.
    """
    if os.path.lexists(index_dir) or not _siblings(index_dir, "old"):
        return
    if lock_is_held(index_dir):
        deadline = time.monotonic() + settle_seconds
        while not index_dir.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        return
    for old in reversed(_siblings(index_dir, "old")):
        if (old / MANIFEST).is_file() and not_ours(old) is None:
            with contextlib.suppress(OSError):
                os.rename(old, index_dir)
                return


def swap_in(new_dir: Path, index_dir: Path) -> None:
    """Replace ``index_dir`` by ``new_dir``; at every instant one whole index exists on disk."""
    check_replaceable(index_dir)  # checked again here: the folder may have changed since
    old = index_dir.parent / f".{index_dir.name}.old-{os.getpid()}-{time.time_ns()}"
    if index_dir.exists():
        os.rename(index_dir, old)
    try:
        os.rename(new_dir, index_dir)
    except BaseException:
        if old.exists() and not index_dir.exists():
            os.rename(old, index_dir)  # put the previous index back at once
        raise
    _remove_if_ours(old)


def temp_dir_for(index_dir: Path) -> Path:
    """A new, marked build folder beside ``index_dir``."""
    index_dir.parent.mkdir(parents=True, exist_ok=True)
    temp = index_dir.parent / f".{index_dir.name}.tmp-{os.getpid()}-{time.time_ns()}"
    write_marker(temp)
    return temp


def clean_leftovers(index_dir: Path) -> None:
    """Remove folders of builds that died (called while holding the lock); only our own."""
    for leftover in _siblings(index_dir, "tmp"):
        _remove_if_ours(leftover)
    if index_dir.exists():
        for leftover in _siblings(index_dir, "old"):
            _remove_if_ours(leftover)


def lock_path_for(index_dir: Path) -> Path:
    return index_dir.parent / f".{index_dir.name}.lock"


def _try_lock(handle: IO[str]) -> bool:
    try:
        import fcntl
    except ImportError:  # not POSIX: no advisory locks; builds are then not kept apart
        return True
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _unlock(handle: IO[str]) -> None:
    with contextlib.suppress(ImportError):
        import fcntl

        fcntl.flock(handle, fcntl.LOCK_UN)


def lock_is_held(index_dir: Path) -> bool:
    """True when another open lock file (a live build) holds the build lock right now."""
    path = lock_path_for(index_dir)
    if not path.exists():
        return False
    with path.open("a+") as handle:
        if not _try_lock(handle):
            return True
        _unlock(handle)
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
        while not _try_lock(handle):
            if time.monotonic() >= deadline:
                raise IndexLockedError(
                    f"another csto-qa process is building '{index_dir}' (lock '{lock_path}'); "
                    "wait for it to finish and run the command again"
                )
            if on_wait and not told:
                on_wait(f"another build of '{index_dir}' is running; waiting for it to finish")
                told = True
            time.sleep(0.2)
        try:
            yield
        finally:
            _unlock(handle)

"""Ingest: read the documents of ``corpus/`` (text, Markdown, HTML, PDF, Word) into ``Document`` records.

One bad file never stops ingestion: it is skipped with a warning naming the file and why.
Titles, sources and licences come from ``corpus/manifest.json`` where it lists the file,
else from the file's own metadata (PDF title, HTML <title>, DOCX core properties).

The corpus folder is a boundary: a symbolic link is followed only to a file inside it
(a link to /etc/passwd or /proc is refused with a warning, and so are loops and dangling
links); a file over the size limit (``$CSTO_QA_MAX_FILE_MB``, default 64) is skipped
with a warning saying how to raise it. Every warning is one line with its file names
escaped: no control character from a name or a file reaches the terminal raw.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from csto_qa.errors import CorpusError
from csto_qa.ingest.readers import SUFFIXES, UNSUPPORTED, ExtractedText, UnreadableDocument, read
from csto_qa.plainfiles import file_sha256
from csto_qa.records import Document

TEXT_SUFFIXES = SUFFIXES  # every suffix a reader takes (the name is kept for callers)
MANIFEST_NAME = "manifest.json"
MAX_FILE_ENV = "CSTO_QA_MAX_FILE_MB"
# Build memory grows with the file: with a stand-in encoder a 16 MB text file peaked at 543 MB
# and a 64 MB one at 1.9 GB (140k passages, 419k sentences). 64 MB still takes a whole book
# collection or an illustrated PDF, and keeps one stray file from taking the machine.
DEFAULT_MAX_FILE_MB = 64.0


@dataclass
class CorpusLoad:
    """Documents that loaded, and a warning for each file that did not."""

    documents: list[Document]
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Candidate:
    """A corpus entry that may be read: its name in the folder and the file to open."""

    path: Path
    target: Path
    size: int


@dataclass
class CorpusScan:
    """The corpus folder's entries: files to read, and why each other document entry is not read."""

    candidates: list[Candidate]
    refused: dict[str, str]  # escaped entry name -> reason


def shown(text: str | Path) -> str:
    """Text safe to print: bytes that are not UTF-8 as ``\\xNN``, control, format and line
    separator characters (ESC, BEL, newline, bidi overrides) as escapes like ``\\x1b``."""
    text = str(text)
    try:
        text = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return "".join(
        ch.encode("unicode_escape").decode("ascii")
        if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp")
        else ch
        for ch in text
    )


def display_name(path: Path) -> str:
    """The file name as text safe to show (see ``shown``)."""
    return shown(path.name)


def max_file_bytes(max_file_mb: float | None = None) -> int:
    """The size limit for one corpus file: the argument, else ``$CSTO_QA_MAX_FILE_MB``, else 64 MB."""
    value: object = max_file_mb
    if value is None:
        value = os.environ.get(MAX_FILE_ENV) or DEFAULT_MAX_FILE_MB
    try:
        megabytes = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        megabytes = float("nan")
    if not 0 < megabytes < 1e7:
        raise CorpusError(
            f"the file size limit {shown(repr(value))} is not a number of megabytes; "
            f"set e.g. {MAX_FILE_ENV}=200"
        )
    return int(megabytes * 2**20)


def scan_corpus(corpus_dir: Path, max_bytes: int | None = None) -> CorpusScan:
    """Document entries directly in ``corpus_dir`` (sub-folders such as ``eval/`` are not documents)."""
    if not corpus_dir.is_dir():
        raise CorpusError(
            f"corpus folder '{shown(corpus_dir)}' does not exist; create it and put documents "
            f"({', '.join(SUFFIXES)}) in it"
        )
    limit = max_file_bytes() if max_bytes is None else max_bytes
    root = corpus_dir.resolve()
    candidates: list[Candidate] = []
    refused: dict[str, str] = {}
    for entry in sorted(os.scandir(corpus_dir), key=lambda e: os.fsencode(e.name)):
        suffix = Path(entry.name).suffix.lower()
        if entry.name.startswith(".") or (suffix not in SUFFIXES and suffix not in UNSUPPORTED):
            continue
        path = corpus_dir / entry.name
        reason = _refusal(path, root, suffix, limit)
        if isinstance(reason, str):
            refused[display_name(path)] = reason
        elif reason is not None:
            candidates.append(reason)
    return CorpusScan(candidates, refused)


def _refusal(path: Path, root: Path, suffix: str, limit: int) -> str | Candidate | None:
    """Why ``path`` is not read, or the candidate to read, or None for a folder (not a document)."""
    if _bad_utf8(path.name):
        return "its name is not valid UTF-8; rename it"
    if display_name(path) != path.name:
        return "its name holds control characters (shown escaped here); rename it"
    target = path
    if path.is_symlink():
        try:
            target = path.resolve(strict=True)
        except FileNotFoundError:
            return f"it is a symbolic link to '{os.readlink(path)}', which does not exist (dangling link)"
        except (RuntimeError, OSError) as exc:  # RuntimeError: a loop (Python 3.11); OSError: ELOOP
            return f"it is a symbolic link that cannot be followed (a loop?): {exc}"
        if not target.is_relative_to(root):
            # The link's own text, not the resolved path: /proc/self/... resolves to a new pid
            # in every process, which would make the fingerprint (and the index) stale each time.
            return (
                f"it is a symbolic link to '{os.readlink(path)}', outside the corpus folder; links "
                "are not followed out of it: copy the file in instead"
            )
    try:
        info = target.stat()
    except OSError as exc:
        return f"cannot read it ({exc.strerror or exc})"
    if stat.S_ISDIR(info.st_mode):
        return None
    if not stat.S_ISREG(info.st_mode):
        return "it is not a regular file (a pipe, socket or device)"
    if suffix in UNSUPPORTED:
        return UNSUPPORTED[suffix]
    if info.st_size > limit:
        return (
            f"it is {info.st_size / 2**20:.1f} MB, over the {limit / 2**20:g} MB limit for one file; "
            f"raise it with {MAX_FILE_ENV}={int(info.st_size / 2**20) + 1} or split the file"
        )
    return Candidate(path, target, info.st_size)


def _bad_utf8(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def corpus_files(corpus_dir: Path) -> list[Path]:
    """The document files of ``corpus_dir`` that will be read."""
    return [c.path for c in scan_corpus(corpus_dir).candidates]


def read_manifest(corpus_dir: Path) -> dict[str, dict[str, str]]:
    """Per-document metadata keyed by document id; an absent manifest is an empty one."""
    path = corpus_dir / MANIFEST_NAME
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError, ValueError) as exc:
        raise CorpusError(f"cannot read corpus manifest '{path}': {exc}; fix or delete it") from exc
    docs = data.get("documents", {}) if isinstance(data, dict) else None
    if not isinstance(docs, dict):
        raise CorpusError(f"corpus manifest '{path}' must hold an object with a 'documents' object")
    return {str(k): v for k, v in docs.items() if isinstance(v, dict)}


def decode_text(raw: bytes, path: Path) -> tuple[str | None, str]:
    """Text of a plain-text file, or ``None`` and the reason it is not text."""
    from csto_qa.ingest.readers import text

    try:
        return text.read(raw).text, ""
    except UnreadableDocument as exc:
        return None, str(exc)


def doc_id_for(path: Path) -> str:
    return path.stem


def _read_file(path: Path, limit: int) -> bytes:
    """The file's bytes, at most ``limit`` + 1 of them (the file may have grown since the scan)."""
    with path.open("rb") as handle:
        return handle.read(limit + 1)


PROGRESS_BYTES = 1 << 20  # files from this size on are announced while they are read


def load_corpus(
    corpus_dir: str | Path,
    max_file_mb: float | None = None,
    progress: Callable[[str], None] | None = None,
) -> CorpusLoad:
    """Read every document of ``corpus_dir``; never raises for one bad file.

    A file that cannot be used (unreadable, binary, not UTF-8, empty, encrypted, damaged,
    too large, a link out of the folder, a name that is not UTF-8 or holds control
    characters) is skipped with a warning that names it and says why. Files that share an
    id ("x.txt" and "x.md") are all indexed: the one with the most text keeps the id, the
    others get their full file name as id, with a warning naming them. An unreadable
    corpus manifest is ignored with a warning. ``progress`` is told of each file of 1 MB
    or more as it is read (a 200-page PDF takes a few seconds), with its place in the list.
    """
    corpus_dir = Path(corpus_dir)
    limit = max_file_bytes(max_file_mb)
    warnings: list[str] = []
    try:
        manifest = read_manifest(corpus_dir)
    except CorpusError as exc:
        manifest = {}
        warnings.append(f"ignored the corpus manifest, titles come from the files instead: {exc}")
    scan = scan_corpus(corpus_dir, limit)
    if not scan.candidates and not scan.refused:
        warnings.append(f"'{corpus_dir}' holds no documents ({', '.join(SUFFIXES)}); the index will be empty")
    warnings.extend(f"skipped '{corpus_dir / name}': {why}" for name, why in scan.refused.items())
    read_ok: list[tuple[Candidate, str, ExtractedText]] = []
    total = len(scan.candidates)
    for number, candidate in enumerate(scan.candidates, start=1):
        path = candidate.path
        if progress is not None:
            with contextlib.suppress(OSError):
                size = candidate.target.stat().st_size
                if size >= PROGRESS_BYTES:
                    progress(
                        shown(f"reading '{path.name}' ({size / 2**20:.1f} MB, file {number} of {total})")
                    )
        try:
            raw = _read_file(candidate.target, limit)
        except OSError as exc:
            warnings.append(f"skipped '{path}': cannot read it ({exc.strerror or exc})")
            continue
        if len(raw) > limit:
            warnings.append(f"skipped '{path}': it grew past the {limit / 2**20:g} MB limit while being read")
            continue
        try:
            extracted = read(raw, path.suffix)
        except UnreadableDocument as exc:
            warnings.append(f"skipped '{path}': {exc}")
            continue
        warnings.extend(f"'{path}': {note}" for note in extracted.notes)
        read_ok.append((candidate, hashlib.sha256(raw).hexdigest(), extracted))
    ids, clashes = assign_ids([(c.path, len(e.text)) for c, _, e in read_ok])
    warnings.extend(clashes)
    documents = []
    for candidate, sha, extracted in read_ok:
        doc_id = ids[candidate.path]
        meta = manifest.get(doc_id, {})
        text = extracted.text
        documents.append(
            Document(
                doc_id=doc_id,
                title=str(meta.get("title") or extracted.title or _title_from_text(text, doc_id)),
                text=text,
                path=candidate.path.name,
                source=str(meta.get("source", "")),
                licence=str(meta.get("licence", "")),
                sha256=sha,
                pages=extracted.pages,
            )
        )
    return CorpusLoad(documents, [shown(w) for w in warnings])


def assign_ids(files: list[tuple[Path, int]]) -> tuple[dict[Path, str], list[str]]:
    """A distinct document id for every file, and a warning for each file that did not get its stem.

    Files are given with the length of their text. Among files sharing a stem the longest
    keeps it (the real document, not a one-line note beside it); the others are known by
    their full file name ("notes.md"), with "-2", "-3"... added if even that is taken.
    """
    groups: dict[str, list[tuple[Path, int]]] = {}
    for path, size in files:
        groups.setdefault(doc_id_for(path), []).append((path, size))
    ids: dict[Path, str] = {}
    losers: list[tuple[str, Path, Path, int, int]] = []
    for stem, members in groups.items():
        members.sort(key=lambda m: (-m[1], m[0].name))
        (winner, size), rest = members[0], members[1:]
        ids[winner] = stem
        losers.extend((stem, path, winner, size, other) for path, other in rest)
    taken = set(ids.values())
    warnings = []
    for stem, path, winner, size, other in sorted(losers, key=lambda loser: loser[1].name):
        new_id, n = path.name, 1
        while new_id in taken:
            n += 1
            new_id = f"{path.name}-{n}"
        taken.add(new_id)
        ids[path] = new_id
        warnings.append(
            f"'{path}' and '{winner.name}' share the document id '{stem}': '{winner.name}' "
            f"({size} characters) keeps it and '{path.name}' ({other} characters) is indexed as '{new_id}'"
        )
    return ids, warnings


def _title_from_text(text: str, doc_id: str) -> str:
    """A display title for a file the manifest does not list: its first short line, or its id."""
    first = text.lstrip().split("\n", 1)[0].strip()
    if 0 < len(first) <= 100:
        return first
    return doc_id.replace("-", " ").replace("_", " ")


def corpus_fingerprint(corpus_dir: str | Path) -> dict[str, str]:
    """SHA-256 of each corpus document and of the manifest: what makes an index stale.

    An entry that is not read (a link out of the folder, a file over the size limit) is
    listed with its reason instead of a hash, so it is never opened and adding, fixing or
    removing it still rebuilds the index.
    """
    corpus_dir = Path(corpus_dir)
    scan = scan_corpus(corpus_dir)
    files = {display_name(c.path): _sha256_or_note(c.target) for c in scan.candidates}
    files.update({name: f"not read: {why}" for name, why in scan.refused.items()})
    manifest = corpus_dir / MANIFEST_NAME
    if manifest.exists():
        files[MANIFEST_NAME] = _sha256_or_note(manifest)
    return files


def _sha256_or_note(path: Path) -> str:
    """The file's hash, or a note when it cannot be read (it is skipped, not fatal)."""
    try:
        return file_sha256(path)
    except OSError as exc:
        return f"unreadable: {exc.strerror or exc}"

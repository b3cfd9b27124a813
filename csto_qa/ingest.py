"""Ingest: read the text files of ``corpus/`` into ``Document`` records.

One bad file never stops ingestion: it is skipped with a warning naming the file and why.
Titles, sources and licences come from ``corpus/manifest.json`` where it lists the file.
"""

from __future__ import annotations

import hashlib
import json
import os
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from csto_qa.errors import CorpusError
from csto_qa.records import Document

TEXT_SUFFIXES = (".txt", ".md", ".text", ".markdown")
MANIFEST_NAME = "manifest.json"


@dataclass
class CorpusLoad:
    """Documents that loaded, and a warning for each file that did not."""

    documents: list[Document]
    warnings: list[str] = field(default_factory=list)


def display_name(path: Path) -> str:
    """The file name as text, even when it is not valid UTF-8 (bad bytes shown as \\xNN)."""
    return os.fsencode(path.name).decode("utf-8", "backslashreplace")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def corpus_files(corpus_dir: Path) -> list[Path]:
    """Text files directly in ``corpus_dir`` (sub-folders such as ``eval/`` are not documents)."""
    if not corpus_dir.is_dir():
        raise CorpusError(
            f"corpus folder '{corpus_dir}' does not exist; create it and put .txt or .md files in it"
        )
    return sorted(
        p
        for p in corpus_dir.iterdir()
        if p.is_file() and p.suffix.lower() in TEXT_SUFFIXES and not p.name.startswith(".")
    )


def read_manifest(corpus_dir: Path) -> dict[str, dict[str, str]]:
    """Per-document metadata keyed by document id; an absent manifest is an empty one."""
    path = corpus_dir / MANIFEST_NAME
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CorpusError(f"cannot read corpus manifest '{path}': {exc}; fix or delete it") from exc
    docs = data.get("documents", {}) if isinstance(data, dict) else None
    if not isinstance(docs, dict):
        raise CorpusError(f"corpus manifest '{path}' must hold an object with a 'documents' object")
    return {str(k): v for k, v in docs.items() if isinstance(v, dict)}


def decode_text(raw: bytes, path: Path) -> tuple[str | None, str]:
    """Text of a file, or ``None`` and the reason it is not text.

    UTF-8 (with or without a BOM) is read, and so is UTF-16 with a BOM (what Windows
    editors save as "Unicode"); anything else is refused rather than guessed at.
    """
    encoding = "utf-8-sig"
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        encoding = "utf-16"
    elif b"\x00" in raw[:8192]:
        return None, "it looks binary (it holds NUL bytes), not like text"
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        return None, (
            f"it is not {encoding.upper().removesuffix('-SIG')} text (bad byte at offset {exc.start}); "
            f"save it as UTF-8, e.g.: iconv -f WINDOWS-1252 -t UTF-8 '{path}' > converted{path.suffix}"
        )
    if not text.strip():
        return None, "it is empty (no text, only whitespace or nothing at all)"
    # Offsets are into this normalised text, and it is what the index stores.
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    return text, ""


def doc_id_for(path: Path) -> str:
    return path.stem


def load_corpus(corpus_dir: str | Path) -> CorpusLoad:
    """Read every text file of ``corpus_dir``; never raises for one bad file.

    A file that cannot be used (unreadable, binary, not UTF-8, empty, a name that is not
    UTF-8, a name clashing with another file's) is skipped with a warning that names it
    and says why; an unreadable corpus manifest is ignored with a warning.
    """
    corpus_dir = Path(corpus_dir)
    documents: list[Document] = []
    warnings: list[str] = []
    try:
        manifest = read_manifest(corpus_dir)
    except CorpusError as exc:
        manifest = {}
        warnings.append(f"ignored the corpus manifest, titles come from the files instead: {exc}")
    files = corpus_files(corpus_dir)
    if not files:
        warnings.append(
            f"'{corpus_dir}' holds no text files ({', '.join(TEXT_SUFFIXES)}); the index will be empty"
        )
    seen: dict[str, str] = {}
    for path in files:
        where = corpus_dir / display_name(path)
        if display_name(path) != path.name:
            warnings.append(f"skipped '{where}': its name is not valid UTF-8; rename it")
            continue
        doc_id = doc_id_for(path)
        if doc_id in seen:
            warnings.append(
                f"skipped '{path}': document id '{doc_id}' is already taken by '{seen[doc_id]}'; "
                "rename one of the two files"
            )
            continue
        try:
            raw = path.read_bytes()
        except OSError as exc:
            warnings.append(f"skipped '{path}': cannot read it ({exc.strerror or exc})")
            continue
        text, reason = decode_text(raw, path)
        if text is None:
            warnings.append(f"skipped '{path}': {reason}")
            continue
        seen[doc_id] = path.name
        meta = manifest.get(doc_id, {})
        documents.append(
            Document(
                doc_id=doc_id,
                title=str(meta.get("title") or _title_from_text(text, doc_id)),
                text=text,
                path=path.name,
                source=str(meta.get("source", "")),
                licence=str(meta.get("licence", "")),
                sha256=hashlib.sha256(raw).hexdigest(),
            )
        )
    return CorpusLoad(documents, warnings)


def _title_from_text(text: str, doc_id: str) -> str:
    """A display title for a file the manifest does not list: its first short line, or its id."""
    first = text.lstrip().split("\n", 1)[0].strip()
    if 0 < len(first) <= 100:
        return first
    return doc_id.replace("-", " ").replace("_", " ")


def corpus_fingerprint(corpus_dir: str | Path) -> dict[str, str]:
    """SHA-256 of each candidate corpus file and of the manifest: what makes an index stale."""
    corpus_dir = Path(corpus_dir)
    files = {display_name(p): _sha256_or_note(p) for p in corpus_files(corpus_dir)}
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

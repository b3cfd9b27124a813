"""The index lifecycle: build (corpus → chunks → BM25 + embeddings → ``index/``), staleness,
and ``open_index``, the one entry point that loads a usable index or builds it."""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

from csto_qa.embedding.encoder import TextEncoder
from csto_qa.errors import CstoQaError, IndexCorruptError
from csto_qa.index.folders import (
    MANIFEST,
    build_lock,
    check_location,
    check_replaceable,
    clean_leftovers,
    recover_interrupted_swap,
    swap_in,
    temp_dir_for,
)
from csto_qa.index.manifest import (
    BM25Info,
    CorpusInfo,
    Counts,
    DenseInfo,
    IndexManifest,
    ModelInfo,
    read_manifest,
)
from csto_qa.index.storage import StoredIndex, load_index, save_index
from csto_qa.ingest.chunking import CHUNKER_VERSION, ChunkParams, chunk_corpus
from csto_qa.ingest.corpus import MANIFEST_NAME, corpus_fingerprint, load_corpus
from csto_qa.retrieval.tokenizing import TOKENIZER_VERSION, tokenize

Reporter = Callable[[str], None]


def stderr_reporter(message: str) -> None:
    print(f"csto-qa: {message}", file=sys.stderr, flush=True)


def quiet(message: str) -> None:
    """A reporter that says nothing."""


def stale_reason(
    manifest: IndexManifest, corpus_dir: Path, encoder_name: str, params: ChunkParams
) -> str | None:
    """Why the index no longer matches the corpus, model or settings (None if it does).

    The manifest's field types were checked when it was read (``read_manifest``): a
    manifest of the wrong shape is an ``IndexCorruptError`` there, rebuilt the same way.
    """
    built_with = manifest.model.name
    if built_with != encoder_name:
        return f"it was built with model '{built_with}', not '{encoder_name}'"
    if manifest.chunking != params or manifest.chunker_version != CHUNKER_VERSION:
        return "the chunking settings changed"
    if manifest.tokenizer_version != TOKENIZER_VERSION:
        return "the tokenizer changed"
    if corpus_dir.is_dir():
        now = corpus_fingerprint(corpus_dir)
        then = manifest.corpus.files
        if now != then:
            changed = sorted(set(now) ^ set(then) | {n for n in now if then.get(n) not in (None, now[n])})
            return f"the corpus changed ({', '.join(changed[:5])}{'…' if len(changed) > 5 else ''})"
    return None


def build(
    corpus_dir: Path,
    index_dir: Path,
    encoder: TextEncoder,
    params: ChunkParams | None = None,
    report: Reporter = stderr_reporter,
    progress: bool = True,
    only_if_stale: bool = False,
) -> IndexManifest:
    """Build the index of ``corpus_dir`` into ``index_dir`` atomically; returns the manifest."""
    return _build(corpus_dir, index_dir, encoder, params, report, progress, only_if_stale).manifest


def open_index(
    corpus_dir: Path,
    index_dir: Path,
    encoder: TextEncoder,
    params: ChunkParams | None = None,
    auto_build: bool = True,
    report: Reporter = stderr_reporter,
    progress: bool = True,
) -> StoredIndex:
    """The index of ``corpus_dir`` in ``index_dir``, loaded once and checked.

    A missing, stale (corpus, model or chunking changed) or damaged index is rebuilt
    with a message when ``auto_build``; otherwise it is an error naming the file and the
    fix. Only a folder csto-qa owns is ever replaced (folders.py).
    """
    params = params or ChunkParams()
    check_location(index_dir, corpus_dir)
    recover_interrupted_swap(index_dir)
    try:
        reason = stale_reason(read_manifest(index_dir), corpus_dir, encoder.name, params)
        if reason is None:
            return load_index(index_dir)
    except IndexCorruptError as exc:
        if not auto_build:
            raise
        exists = (index_dir / MANIFEST).exists()
        reason = f"it cannot be used: {exc}" if exists else "there is no index yet"
    if not auto_build:
        raise IndexCorruptError(
            f"the index in '{index_dir}' is out of date ({reason}); rebuild it: csto-qa index"
        )
    check_replaceable(index_dir)  # before any work: a user's folder is refused at once
    report(f"building the index because {reason}")
    return _build(corpus_dir, index_dir, encoder, params, report, progress, only_if_stale=True)


def _build(
    corpus_dir: Path,
    index_dir: Path,
    encoder: TextEncoder,
    params: ChunkParams | None,
    report: Reporter,
    progress: bool,
    only_if_stale: bool,
) -> StoredIndex:
    from csto_qa.retrieval.dense import DenseIndex
    from csto_qa.retrieval.lexical import BM25Index

    params = params or ChunkParams()
    check_location(index_dir, corpus_dir)
    check_replaceable(index_dir)
    with build_lock(index_dir, on_wait=report):
        clean_leftovers(index_dir)
        if only_if_stale and (index_dir / MANIFEST).is_file():
            # Another process may have built it while this one waited for the lock. Up to
            # date is not enough: a damaged index (``csto-qa index`` after an error) is rebuilt.
            try:
                current = read_manifest(index_dir)
                if stale_reason(current, corpus_dir, encoder.name, params) is None:
                    return load_index(index_dir)
            except IndexCorruptError as exc:  # any damage means: rebuild it below
                report(f"rebuilding the index because it cannot be used: {exc}")
        started = time.perf_counter()
        fingerprint = corpus_fingerprint(corpus_dir)
        loaded = load_corpus(corpus_dir, progress=report)
        for warning in loaded.warnings:
            report(f"warning: {warning}")
        chunked = chunk_corpus(loaded.documents, params)
        sentences, chunks = chunked.sentences, chunked.chunks
        for account in chunked.accounts:
            if account.left_out:
                report(account.summary())
        report(
            f"indexing {len(loaded.documents)} documents: {len(chunks)} passages, {len(sentences)} sentences"
        )
        bm25 = BM25Index.build([tokenize(c.index_text) for c in chunks])
        docs = {d.doc_id: d for d in loaded.documents}
        report(f"encoding {len(chunks):,} passages")
        chunk_vectors = encoder.encode([c.index_text for c in chunks], progress=progress)
        sentence_texts = [s.display or docs[s.doc_id].text[s.start : s.end] for s in sentences]
        report(f"encoding {len(sentences):,} sentences")
        sentence_vectors = encoder.encode(sentence_texts, batch_size=64, progress=progress)
        dense = DenseIndex.build(chunk_vectors)
        manifest = IndexManifest.new(
            model=ModelInfo(encoder.name, encoder.weights_sha256, encoder.dim),
            corpus=CorpusInfo(
                files=fingerprint,
                skipped=tuple(loaded.warnings),  # every ingest warning (a clash is indexed, and named)
                manifest=MANIFEST_NAME in fingerprint,
                accounts=tuple(chunked.accounts),
            ),
            chunking=params,
            bm25=BM25Info(bm25.k1, bm25.b, bm25.epsilon, len(bm25.vocab)),
            dense=DenseInfo(dense.kind, "inner_product", normalized=True),
            counts=Counts(len(docs), len(sentences), len(chunks)),
            build_seconds=round(time.perf_counter() - started, 2),
        )
        stored = StoredIndex(index_dir, manifest, docs, sentences, chunks, sentence_vectors, bm25, dense)
        temp = temp_dir_for(index_dir)
        try:
            stored.manifest = save_index(temp, stored)
            swap_in(temp, index_dir)
        except BaseException as exc:
            # Disk full, Ctrl+C...: the previous index is still whole (swap_in puts it back
            # if it had moved it); only the half-written copy goes.
            shutil.rmtree(temp, ignore_errors=True)
            if isinstance(exc, OSError):
                raise CstoQaError(
                    f"cannot write the index to '{index_dir}' ({exc.strerror or exc}); the previous "
                    "index is unchanged. Free disk space or choose another folder with --index-dir"
                ) from exc
            raise
        report(f"index written to '{index_dir}' in {manifest.build_seconds:.1f} s")
        stored.folder = index_dir
        return stored

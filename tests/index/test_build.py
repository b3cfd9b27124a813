"""The index lifecycle (indexing.py): what a build reports and records, and how
`csto-qa index` shows where each document's characters went."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from fakes import TINY_CORPUS, TINY_DOCS, FakeEncoder

from csto_qa.cli import account_lines
from csto_qa.index.build import build, open_index, stale_reason
from csto_qa.index.storage import load_index
from csto_qa.ingest.chunking import ChunkAccount, ChunkParams

PROSE = (
    "The Collective Security Treaty Organization was founded in 2002 by six states. "
    "Its members hold joint military exercises every year and share air defence.\n"
)


def test_a_build_accounts_for_every_document_and_says_what_it_encodes(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text(PROSE * 3, encoding="utf-8")
    (corpus / "b.txt").write_text(PROSE + "|\n---|---|\n![]() Flag\n", encoding="utf-8")
    messages: list[str] = []
    manifest = build(corpus, tmp_path / "index", FakeEncoder(), report=messages.append, progress=False)
    accounts = {a.doc_id: a for a in manifest.corpus.accounts}
    assert set(accounts) == {"a", "b"}
    assert accounts["a"].left_out == {} and accounts["a"].indexed > 0
    assert accounts["b"].left_out_total > 0
    assert any(m.startswith("b: ") and "left out" in m for m in messages)  # said, not only stored
    assert any(m.startswith("encoding ") and "passages" in m for m in messages)
    assert any(m.startswith("encoding ") and "sentences" in m for m in messages)


def test_account_lines_by_hand() -> None:
    accounts = [
        ChunkAccount("wiki", 37173, 23123, {"references": 13583}),
        ChunkAccount("kids", 8630, 7861, {"a": 10, "b": 200}),
        ChunkAccount("plain", 100, 100, {}),
    ]
    header, wiki, kids, plain = account_lines(accounts)
    assert header.split() == ["document", "characters", "indexed", "left", "out", "(why)"]
    assert wiki.split() == ["wiki", "37,173", "23,123", "13,583", "references"]
    assert kids.split()[-4:] == ["200", "b,", "10", "a"]  # largest reason first
    assert plain.split()[-1] == "-"
    assert account_lines([]) == []


def test_the_built_index_is_what_loads_back_and_an_up_to_date_one_is_not_rebuilt(tmp_path: Path) -> None:
    index = tmp_path / "index"
    messages: list[str] = []
    built = open_index(TINY_CORPUS, index, FakeEncoder(), report=messages.append, progress=False)
    assert any(m.startswith("building the index because there is no index yet") for m in messages)
    loaded = load_index(index)
    assert loaded.documents == built.documents and loaded.chunks == built.chunks
    assert loaded.sentences == built.sentences and loaded.manifest == built.manifest
    assert np.array_equal(loaded.sentence_vectors, built.sentence_vectors)
    messages.clear()
    again = open_index(TINY_CORPUS, index, FakeEncoder(), report=messages.append, progress=False)
    assert messages == [] and again.chunks == built.chunks  # loaded, not rebuilt
    assert stale_reason(again.manifest, TINY_CORPUS, FakeEncoder.name, ChunkParams()) is None
    assert stale_reason(again.manifest, TINY_CORPUS, "other-model", ChunkParams()) == (
        "it was built with model 'fake-encoder', not 'other-model'"
    )
    assert stale_reason(again.manifest, TINY_CORPUS, FakeEncoder.name, ChunkParams(target_words=60)) == (
        "the chunking settings changed"
    )
    assert not any(TINY_CORPUS.glob(".csto*")) and sorted(p.name for p in TINY_CORPUS.iterdir()) == sorted(
        TINY_DOCS
    )  # building never writes into the corpus folder

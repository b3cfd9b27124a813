"""Property-based tests (hypothesis): the tokenizer, the sentence splitter and the chunker
never raise on arbitrary Unicode, and every offset they return reproduces the text."""

from __future__ import annotations

import unicodedata

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from csto_qa.ingest.chunking import ChunkParams, chunk_document
from csto_qa.ingest.corpus import decode_text
from csto_qa.ingest.sentences import split_sentences
from csto_qa.records import Document
from csto_qa.retrieval.tokenizing import clean_query, fold, tokenize, words

FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Any code point, lone surrogates included (a Python str, e.g. from a JSON "\ud800", can hold one).
ANY_TEXT = st.text(st.characters(min_codepoint=0, max_codepoint=0x10FFFF), max_size=400)

# Text shaped like a document: words of several scripts, sentence ends, abbreviations,
# headings, blank lines, table rules, long run-on lines; hypothesis mixes and shrinks them.
_WORDS = st.sampled_from(
    "The CSTO was founded in 2002 . Mr. Putin U.N. e.g. Armenia Kazakhstan ОДКБ Коллекти́вные "
    "Հայաստան საქართველო 🛡️ | ---|--- ![img](x.png) ? ! … « » ( ) \" ' İstanbul ß ﬁ 1.5 A. V. "
    "Smith, J. (1999). ISBN Retrieved 2 May 2010. https://a.example/x www.b.example".split()
)
_LINE = st.lists(
    st.one_of(_WORDS, st.text(st.characters(max_codepoint=0x2FFF), min_size=1, max_size=8)), max_size=40
).map(" ".join)
# Lines of flattened web pages: table rows and rules, field names, back-matter headings.
_PAGE_LINE = st.sampled_from(
    [
        "|",
        "---|---|",
        "Headquarters | Moscow |",
        "Official language",
        "Location | |",
        "References",
        "See also",
        "Contents",
        "- Warsaw Pact",
        "![]() Emblem",
        "Site by X https://x.example/a",
    ]
)
DOC_TEXT = st.lists(st.one_of(_LINE, _PAGE_LINE, st.just(""), st.just("   ")), max_size=30).map("\n".join)
TEXTS = st.one_of(ANY_TEXT, DOC_TEXT)


# --- tokenizer ---------------------------------------------------------------------------------


@FAST
@given(TEXTS)
@example("İstanbul ǅemal ﬁnal Straße ΣΊΣΥΦΟΣ Коллекти́вные")
@example("\ud800 a \udfff")
def test_tokenize_never_raises_and_is_deterministic(text: str) -> None:
    tokens = tokenize(text)
    assert tokens == tokenize(text)
    assert all(isinstance(t, str) and t and not any(ch.isspace() for ch in t) for t in tokens)


@FAST
@given(TEXTS)
@example("İ ǰ ΐ ﬃ Ⅻ ㎒ ﹏")
def test_folding_and_word_splitting_are_idempotent(text: str) -> None:
    folded = fold(text)
    assert fold(folded) == folded
    surface = words(text)
    # Re-tokenizing the normalised words gives the same words and the same BM25 tokens:
    # what a document and a query share does not depend on how it was written.
    assert words(" ".join(surface)) == surface
    assert tokenize(" ".join(surface)) == tokenize(text)


@FAST
@given(st.text(st.characters(max_codepoint=0x7F), max_size=200))
def test_tokens_ignore_ascii_case(text: str) -> None:
    assert tokenize(text.upper()) == tokenize(text.lower())


@FAST
@given(TEXTS)
@example("\x00\x1b[31m\u202eevil\u202c\ufeff\u200b\ud800")
def test_clean_query_keeps_only_visible_text(text: str) -> None:
    cleaned = clean_query(text)
    assert clean_query(cleaned) == cleaned
    assert cleaned == cleaned.strip() and "  " not in cleaned
    assert not any(unicodedata.category(ch) in {"Cc", "Cf", "Cs", "Co", "Cn"} for ch in cleaned)
    cleaned.encode("utf-8")  # no lone surrogate is left: the encoder and stdout accept it


# --- sentences ---------------------------------------------------------------------------------


@FAST
@given(TEXTS, st.integers(1, 40))
def test_sentence_spans_are_ordered_trimmed_and_cover_the_text(text: str, max_words: int) -> None:
    spans = split_sentences(text, max_words=max_words)
    previous_end = 0
    covered = [False] * len(text)
    for start, end in spans:
        assert previous_end <= start < end <= len(text)
        piece = text[start:end]
        assert not piece[0].isspace() and not piece[-1].isspace()
        assert "\n" not in piece
        assert len(piece.split()) <= max_words
        covered[start:end] = [True] * (end - start)
        previous_end = end
    # Nothing visible is lost: every non-space character is inside a sentence.
    assert all(covered[i] for i, ch in enumerate(text) if not ch.isspace())


# --- chunker -----------------------------------------------------------------------------------

PARAMS = st.builds(
    lambda target, extra, min_share, overlap: ChunkParams(
        target_words=target,
        max_words=target + extra,
        min_words=target * min_share // 4,
        overlap_words=overlap,
    ),
    st.integers(10, 60),
    st.integers(0, 60),
    st.integers(0, 4),
    st.integers(0, 40),
)


@FAST
@given(TEXTS, PARAMS, st.sampled_from(["", "Doc title", "The CSTO"]))
@example("0 A A\n0 0\n0 0 0 0 A A", ChunkParams(10, 10, 0, 0), "")  # a noise line inside a passage
def test_chunks_reproduce_their_text_and_sentences_stay_in_bounds(
    text: str, params: ChunkParams, title: str
) -> None:
    doc = Document(doc_id="d", title=title, text=text)
    done = chunk_document(doc, params, first_chunk_id=7, first_sentence_id=100)
    sentences, chunks = done.sentences, done.chunks
    previous = 0
    for sentence in sentences:
        assert previous <= sentence.start < sentence.end <= len(text)
        assert sentence.doc_id == "d"
        previous = sentence.end
    for position, chunk in enumerate(chunks):
        assert chunk.chunk_id == 7 + position
        assert doc.text[chunk.start : chunk.end] == chunk.text and chunk.text.strip()
        first, last = chunk.sentences
        assert 100 <= first < last <= 100 + len(sentences)
        assert chunk.start == sentences[first - 100].start and chunk.end == sentences[last - 101].end
        # Size counts the passage's sentences; skipped noise lines inside it (table rules,
        # image stubs) do not split a passage and do not count.
        units = sentences[first - 100 : last - 100]
        size = sum(len((s.display or text[s.start : s.end]).split()) for s in units)
        assert size <= params.max_words + params.min_words
    assert [c.start for c in chunks] == sorted(c.start for c in chunks)
    # Every character is indexed, left out for a reason, or whitespace/cell borders between.
    account = done.account
    assert account.characters == len(text)
    assert 0 <= account.indexed and account.indexed + account.left_out_total <= len(text)
    assert all(n > 0 for n in account.left_out.values())


# --- ingest ------------------------------------------------------------------------------------


@FAST
@given(st.one_of(st.binary(max_size=300), TEXTS.map(lambda t: t.encode("utf-8", "surrogatepass"))))
def test_decoding_any_bytes_gives_text_or_a_reason(raw: bytes) -> None:
    from pathlib import Path

    text, reason = decode_text(raw, Path("corpus/x.txt"))
    if text is None:
        assert reason
    else:
        assert text.strip() and "\r" not in text and unicodedata.is_normalized("NFC", text)

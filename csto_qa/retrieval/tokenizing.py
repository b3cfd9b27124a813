"""Tokenizing for BM25: Unicode-aware, case-folded, accents stripped, stemmed.

Latin-script words get the English Snowball stemmer and Cyrillic words the Russian one;
other scripts (Armenian, Georgian, ...) are kept whole. Numbers are kept as they are,
because dates and counts are what many questions ask for.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

TOKENIZER_VERSION = 1

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")

# A compact English stop list: words that carry no topic and only add noise to BM25.
STOP_WORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for
    from further had has have having he her here hers herself him himself his how i if in
    into is it its itself just me more most my myself no nor not now of off on once only or
    other our ours ourselves out over own same she should so some such than that the their
    theirs them themselves then there these they this those through to too under until up
    very was we were what when where which while who whom why will with would you your
    yours yourself yourselves s t d ll m o re ve y tell please know""".split()
)


def _strip_marks(run: re.Match[str]) -> str:
    return "".join(ch for ch in run.group() if not unicodedata.combining(ch))


def fold(text: str) -> str:
    """Case-fold and strip accents: 'Коллекти́вные' and 'коллективные' become equal."""
    if text.isascii():  # ASCII has no decompositions and no marks: the common case, fast
        return text.casefold()
    decomposed = unicodedata.normalize("NFKD", text)
    # Only non-ASCII runs can hold combining marks; a per-character loop over the whole
    # text was most of the indexing time of a large corpus.
    stripped = _NON_ASCII.sub(_strip_marks, decomposed)
    return unicodedata.normalize("NFC", stripped).casefold()


@lru_cache(maxsize=1)
def _stemmers() -> tuple[object, object]:
    import Stemmer  # PyStemmer: C Snowball stemmers, fast enough to run at query time

    return Stemmer.Stemmer("english"), Stemmer.Stemmer("russian")


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """Snowball stem of one folded word, chosen by its script."""
    if word.isdigit():
        return word
    english, russian = _stemmers()
    if _CYRILLIC.search(word):
        return russian.stemWord(word)  # type: ignore[attr-defined]
    if word.isascii():
        return english.stemWord(word)  # type: ignore[attr-defined]
    return word


# Unicode categories no keyboard types: controls, invisible format characters (zero-width
# spaces, BOMs, bidi overrides), lone surrogates, private use, unassigned code points.
_HIDDEN_CATEGORIES = frozenset(("Cc", "Cf", "Cs", "Co", "Cn"))


def clean_query(text: str) -> str:
    """``text`` with hidden characters turned into spaces and runs of spaces collapsed.

    A question may arrive with escape sequences, NULs, bidi overrides or lone surrogates
    (from a JSON client); the encoder cannot take a lone surrogate and a terminal or log
    should never receive the others. Visible text, in any script, is kept as it is.
    """
    if not text.isascii() or not text.isprintable():
        text = "".join(" " if unicodedata.category(ch) in _HIDDEN_CATEGORIES else ch for ch in text)
    return " ".join(text.split())


def words(text: str) -> list[str]:
    """Folded words of ``text``, stop words and one-letter words removed, not stemmed."""
    return [w for w in _WORD.findall(fold(text)) if w not in STOP_WORDS and (len(w) > 1 or w.isdigit())]


def tokenize(text: str) -> list[str]:
    """BM25 tokens of ``text``: folded, filtered and stemmed words, in order."""
    return [stem(w) for w in words(text)]

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


def fold(text: str) -> str:
    """Case-fold and strip accents: 'Коллекти́вные' and 'коллективные' become equal."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
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


def words(text: str) -> list[str]:
    """Folded words of ``text``, stop words and one-letter words removed, not stemmed."""
    return [w for w in _WORD.findall(fold(text)) if w not in STOP_WORDS and (len(w) > 1 or w.isdigit())]


def tokenize(text: str) -> list[str]:
    """BM25 tokens of ``text``: folded, filtered and stemmed words, in order."""
    return [stem(w) for w in words(text)]

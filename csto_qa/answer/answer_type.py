"""Answer types: what a question asks for, and where a sentence holds a phrase of that type.

Pure functions over strings, no model: ``expected_type("When did Uzbekistan leave?")`` is
``AnswerType.DATE`` and ``find_phrases("It left on 28 June 2012.", AnswerType.DATE)`` the
span of "28 June 2012". Hand-written because no package here tags dates, numbers and
names without a model (spaCy and stanza need weights we cannot download); the rules are
few and regular, and tests/answer/test_answer_type.py checks each on hand-made sentences.
Country names come from pycountry (ISO 3166) plus the short forms texts use.
"""

from __future__ import annotations

import re
from collections.abc import Set
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache


class AnswerType(Enum):
    """What a question asks for, read from its form."""

    DATE = "date"  # when, what year
    NUMBER = "number"  # how many, how much
    PERSON = "person"  # who: a name or a role holder
    PLACE = "place"  # where
    COUNTRY = "country"  # which countries
    DEFINITION = "definition"  # what is X: a sentence "X is ..."
    REASON = "reason"  # why: a clause "because ...", "due to ..." (scored, never marked)
    OTHER = "other"  # why, how, what did ...: no phrase type to look for


TYPED = frozenset(
    {AnswerType.DATE, AnswerType.NUMBER, AnswerType.PERSON, AnswerType.PLACE, AnswerType.COUNTRY}
)


@dataclass(frozen=True)
class Span:
    """``text[start:end]`` of the string it was found in."""

    start: int
    end: int


_LEAD = re.compile(r"^\s*(?:and|but|so|also|then|ok|okay|please)[\s,]+", re.I)
_DATE_Q = re.compile(
    r"^(?:when\b|since when\b|date\b|"
    r"(?:in |by |from |on |at )?(?:what|which) (?:year|month|date|day|decade)\b|"
    r"what (?:is|was) the date\b|how long ago\b)|\b(?:in|from|since) (?:what|which) year\b",
    re.I,
)
_NUMBER_Q = re.compile(
    r"^(?:how (?:many|much|large|big|long|old)\b|what (?:is |was )?(?:the )?(?:number|amount|size|"
    r"percentage|share|strength|total)\b)|\bhow many\b",
    re.I,
)
_COUNTRY_Q = re.compile(
    r"^(?:(?:in|from|to|with) )?(?:which|what)(?: [\w-]+){0,3}? "
    r"(?:countries|country|states|state|nations|nation|members|member states|"
    r"republics)\b|^who (?:are|were|is|was) (?:the )?(?:\w+ )?(?:members|member states|founding members|"
    r"observers)\b",
    re.I,
)
_PLACE_Q = re.compile(
    r"^where\b|^(?:in |at )?(?:what|which) (?:city|cities|town|towns|place|places|capital|location|region|"
    r"regions)\b|"
    r"\bheadquarter",
    re.I,
)
_PERSON_Q = re.compile(
    r"^(?:who|whom|whose)\b|^(?:what|which)(?: [\w-]+){0,3}? (?:person|people|leader|president|secretary|"
    r"secretary-general|adviser|advisor|minister|politician|spokesman|spokesperson|chairman|"
    r"diplomat|general|commander|author|analyst)\b",
    re.I,
)
_REASON_Q = re.compile(r"^(?:why\b|for what reason\b|what (?:was|is|were|are) the reasons?\b)", re.I)
_DEFINE_Q = re.compile(
    r"^(?:what|who) (?:is|are|was|were) (?:an? |the )?(?P<x>[^?]+?)\??$|^define (?P<y>[^?]+?)\??$|"
    r"^what does (?P<z>[^?]+?) (?:mean|stand for)\??$|"
    # "what kind of organisation is the CSTO": the class asked for is what "X is a ..." says.
    r"^what (?:kind|kinds|type|types|sort|sorts) of [\w-]+(?: [\w-]+)? (?:is|are|was|were) "
    r"(?:an? |the )?(?P<k>[^?]+?)\??$",
    re.I,
)


_CLASS_Q = re.compile(
    r"^what (?:kind|kinds|type|types|sort|sorts) of (?P<noun>[\w-]+(?: [\w-]+)?) (?:is|are|was|were)\b", re.I
)


def class_words(question: str) -> tuple[str, ...]:
    """The class noun of "what kind of N is X" ("organisation"): the type asked for, as
    "country" is in "which country", so a sentence need not hold it ("X is an alliance")."""
    m = _CLASS_Q.match(_strip(question))
    return tuple(m.group("noun").split()) if m else ()


def _strip(question: str) -> str:
    return _LEAD.sub("", " ".join(question.split())).strip()


def expected_type(question: str) -> AnswerType:
    """The answer type a question's form asks for (``OTHER`` when it names none)."""
    q = _strip(question)
    if _REASON_Q.search(q):
        return AnswerType.REASON
    if _DATE_Q.search(q):
        return AnswerType.DATE
    if _NUMBER_Q.search(q):
        return AnswerType.NUMBER
    if _COUNTRY_Q.search(q):
        return AnswerType.COUNTRY
    if _PLACE_Q.search(q):
        return AnswerType.PLACE
    define = _DEFINE_Q.match(q)
    if define:
        subject = next(g for g in define.groups() if g)
        # "what is the X of Y" / "the CSTO's budget" ask for an attribute, not a definition;
        # a definition question names its subject and nothing else (at most 6 words).
        attribute = re.search(r"'s\b|’s\b|\bof\b|\bfor\b|\bin\b", subject) or len(subject.split()) > 6
        if not attribute and not q.lower().startswith("who"):
            return AnswerType.DEFINITION
    if _PERSON_Q.search(q):
        return AnswerType.PERSON
    return AnswerType.OTHER


# --- phrases of each type -------------------------------------------------------------

_MONTH = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December|"
    r"Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\.?"
)
_YEAR = r"(?:1[5-9]\d\d|20\d\d)"
_DATE = re.compile(
    rf"\b(?:\d{{1,2}}(?:st|nd|rd|th)? {_MONTH},? {_YEAR}|{_MONTH} \d{{1,2}}(?:st|nd|rd|th)?,? {_YEAR}|"
    rf"{_MONTH},? {_YEAR}|\d{{1,2}}(?:st|nd|rd|th)? {_MONTH}|{_MONTH} \d{{1,2}}(?:st|nd|rd|th)?\b|"
    rf"{_YEAR}s?(?:\s?[–-]\s?(?:{_YEAR}|\d\d))?|\d{{1,2}}[./]\d{{1,2}}[./]{_YEAR})(?!\d)"
)
_NUMBER_WORDS = (
    "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety "
    "hundred hundreds thousand thousands million millions billion billions dozen dozens"
).split()
_NUMBER = re.compile(
    r"(?:(?:US)?\$|€|£|₽)?\s?\b\d[\d,.]*(?:\s?(?:%|percent|per cent|million|billion|thousand|trillion)\b)?"
    r"|\b(?:" + "|".join(_NUMBER_WORDS) + r")(?:[\s-](?:" + "|".join(_NUMBER_WORDS) + r"))*\b",
    re.I,
)
_YEAR_ONLY = re.compile(rf"^{_YEAR}s?$")
_CAP_RUN = re.compile(r"\b(?:[A-Z][\w'’.-]*|[A-Z]\.)(?:\s+(?:[A-Z][\w'’.-]*|[A-Z]\.))*")
# Words that make a capitalised run an institution, a document or an event, not a person.
_NOT_PERSON = frozenset(
    """organization organisation treaty council assembly union force forces alliance federation republic
    ministry committee security collective nations pact agreement summit army parliament group bank
    cooperation community economic united kingdom states university institute office secretariat
    committee defence defense foreign affairs general secretary president chairman minister the a an in
    on of it this that these they he she we its their csto nato cis sco eaeu un eu gdp january february
    march april may june july august september october november december monday tuesday wednesday
    thursday friday saturday sunday events mission war crisis conflict operation exercise exercises
    wikipedia retrieved archived isbn dr mr mrs ms prof sir gen lt col
    since after before during following with for from when while however although once until by as
    at to if national international interest press news agency times post review journal house
    speaker representatives prime deputy interim former current secretary-general
    center centre centers centres headquarters service services staff command video photo tv radio""".split()
)
_TITLES = frozenset(
    """president minister secretary general secretary-general chairman speaker prime deputy
    dr mr mrs ms prof sir gen lt col""".split()
)
# "at the Harb Maidon training ground", "in the Fergana Valley": a place name often follows
# its article.
_PLACE_AFTER = re.compile(
    r"\b(?:in|at|near|from|to|headquartered in|based in|located in|capital)\s+(?:the\s+)?$", re.I
)
_DEFINING = re.compile(
    r"^(?P<subject>.{2,160}?)\s+(?:is|are|was|were|refers to|means|stands for)\s+"
    # "The CSTO is like a military alliance." (the children's page) defines as "is a" does.
    r"(?P<predicate>(?:like\s+)?(?:an?|the|one|any)\b[^.;:,(]*)",
)

_COUNTRY_ALIASES = {
    "Russian Federation": ["Russia"],
    "Syrian Arab Republic": ["Syria"],
    "Lao People's Democratic Republic": ["Laos"],
    "Viet Nam": ["Vietnam"],
    "Türkiye": ["Turkey"],
    "Czechia": ["Czech Republic"],
    "Korea, Republic of": ["South Korea"],
    "Korea, Democratic People's Republic of": ["North Korea"],
    "United States": ["USA", "America", "U.S.", "US"],
    "United Kingdom": ["UK", "Britain", "Great Britain"],
    "Moldova, Republic of": ["Moldova"],
    "Iran, Islamic Republic of": ["Iran"],
    "Tanzania, United Republic of": ["Tanzania"],
    "Venezuela, Bolivarian Republic of": ["Venezuela"],
    "Bolivia, Plurinational State of": ["Bolivia"],
    "Taiwan, Province of China": ["Taiwan"],
    "Palestine, State of": ["Palestine"],
    "Holy See (Vatican City State)": ["Vatican"],
}


@lru_cache(maxsize=1)
def country_names() -> frozenset[str]:
    """Names of the world's countries as texts write them ("Russia", "Kyrgyzstan", ...)."""
    try:
        import pycountry
    except ImportError as exc:  # pragma: no cover - a declared dependency
        from csto_qa.errors import CstoQaError

        raise CstoQaError("pycountry is missing; install it: pip install 'pycountry>=24'") from exc
    names: set[str] = {
        "Kosovo",
        "Transnistria",
        "Abkhazia",
        "South Ossetia",
        "Yugoslavia",
        "Soviet Union",
        "USSR",
    }
    for country in pycountry.countries:
        for attr in ("name", "common_name", "official_name"):
            value = getattr(country, attr, None)
            if value and "," not in value and "(" not in value:
                names.add(value)
        names.update(_COUNTRY_ALIASES.get(country.name, []))
    return frozenset(names)


@lru_cache(maxsize=1)
def _country_pattern() -> re.Pattern[str]:
    names = sorted(country_names(), key=len, reverse=True)
    return re.compile(r"(?<![\w-])(?:" + "|".join(re.escape(n) for n in names) + r")(?![\w-])")


def _country_spans(text: str) -> list[Span]:
    return [Span(m.start(), m.end()) for m in _country_pattern().finditer(text)]


def _merge_lists(text: str, spans: list[Span]) -> list[Span]:
    """Join "Armenia, Belarus and Russia" into one span: a list of countries is one answer."""
    merged: list[Span] = []
    for span in spans:
        if merged and re.fullmatch(r"\s*(?:,|,?\s*and|,?\s*or|/)\s*", text[merged[-1].end : span.start]):
            merged[-1] = Span(merged[-1].start, span.end)
        else:
            merged.append(span)
    return merged


def _bare(token: str) -> str:
    """A token folded without its punctuation and possessive ("President's" → "president")."""
    return re.sub(r"['’]s$", "", token.strip(".,")).casefold()


def _person_spans(text: str) -> list[Span]:
    spans = []
    for m in _CAP_RUN.finditer(text):
        tokens = m.group().split()
        # A name follows the last title in the run ("Kyrgyz President Roza Otunbayeva").
        titles = [i for i, t in enumerate(tokens) if _bare(t) in _TITLES]
        if titles and titles[-1] < len(tokens) - 1:
            tokens = tokens[titles[-1] :]
        # Trim institution words off both ends ("President Alexander Lukashenko" → the name).
        titled = False
        while tokens and _bare(tokens[0]) in _NOT_PERSON:
            titled = _bare(tokens.pop(0)) in _TITLES
        while tokens and _bare(tokens[-1]) in _NOT_PERSON | {"of", "and", "de", "von"}:
            tokens.pop()
        # One word is a name only right after a title ("Foreign Minister Abdrakhmanov").
        if len(tokens) < (1 if titled else 2) or any(_bare(t) in _NOT_PERSON for t in tokens):
            continue
        bare = [re.sub(r"['’]s$", "", t.strip(".,")) for t in tokens]  # "Russia's" is a country
        if " ".join(bare) in country_names() or any(t in country_names() for t in bare):
            continue
        start = text.index(tokens[0], m.start())
        end = text.index(tokens[-1], start) + len(tokens[-1])
        spans.append(Span(start, end - 1 if text[end - 1] in ".," else end))
    return spans


# A lone surname is a person when it speaks ("..., Lukashenko said: ..."): the verbs of
# reported speech, not a list of names.
_SPEAKER = re.compile(
    r"(?<=[\w,;:] )(?P<name>[A-Z][a-z]+(?:-[A-Z][a-z]+)?)\s+(?:said|says|stated|states|told|wrote|"
    r"claimed|announced|added|argued|declared|noted|warned|replied|insisted|admitted)\b"
)


def _speaker_spans(text: str, taken: list[Span]) -> list[Span]:
    spans = []
    for m in _SPEAKER.finditer(text):
        name = m.group("name")
        start, end = m.start("name"), m.end("name")
        if _bare(name) in _NOT_PERSON or name in country_names():
            continue
        if any(sp.start <= start < sp.end for sp in taken):
            continue
        spans.append(Span(start, end))
    return spans


def _place_spans(text: str) -> list[Span]:
    spans = _country_spans(text)
    for m in _CAP_RUN.finditer(text):
        if _PLACE_AFTER.search(text[max(0, m.start() - 24) : m.start()]) or re.search(
            r"[:|]\s*$", text[: m.start()]
        ):
            first = m.group().split()[0].strip(".,").casefold()
            if first not in _NOT_PERSON:
                spans.append(Span(m.start(), m.end() - (1 if m.group()[-1] in ".," else 0)))
    return _merge_lists(text, sorted(set(spans), key=lambda s: (s.start, -s.end)))


def find_phrases(text: str, kind: AnswerType) -> list[Span]:
    """Spans of ``text`` holding a phrase of type ``kind``, in order (none for untyped kinds)."""
    if kind is AnswerType.DATE:
        spans = [Span(m.start(), m.end()) for m in _DATE.finditer(text)]
    elif kind is AnswerType.NUMBER:
        spans = []
        dates = [Span(m.start(), m.end()) for m in _DATE.finditer(text)]
        for m in _NUMBER.finditer(text):
            s, e = m.start(), m.end()
            while s < e and text[s].isspace():
                s += 1
            while e > s and text[e - 1] in ",.":
                e -= 1
            inside_date = any(d.start <= s and e <= d.end for d in dates)
            if e > s and any(ch.isalnum() for ch in text[s:e]) and not inside_date:
                spans.append(Span(s, e))
    elif kind is AnswerType.PERSON:
        spans = _person_spans(text)
        spans = sorted(spans + _speaker_spans(text, spans), key=lambda sp: sp.start)
        if not spans:
            # In texts about states a "who" is often a country: the agent of a passive
            # ("established by Georgia, Ukraine, Azerbaijan, and Moldova"). Any country in a
            # sentence naming no person was measured and dropped (dev-lead -1); so was a
            # country after "from" ("took over the presidency from Belarus": +1 main lead,
            # but "who is the president of Kazakhstan" then led with "Kazakhstan took over
            # the rotating presidency ... from Belarus" and was answered: a source is not an
            # agent, and only a "who ... from?" question asks for one: asks_source, source_spans).
            spans = [
                sp
                for sp in _merge_lists(text, _country_spans(text))
                if re.search(r"\bby\s+(?:the\s+)?$", text[max(0, sp.start - 10) : sp.start])
            ]
    elif kind is AnswerType.PLACE:
        spans = _place_spans(text)
    elif kind is AnswerType.COUNTRY:
        spans = _merge_lists(text, _country_spans(text))
    elif kind is AnswerType.REASON:
        spans = [Span(m.start(), m.end()) for m in _REASON.finditer(text)]
    elif kind is AnswerType.DEFINITION:
        defining = _DEFINING.match(text)
        spans = [Span(defining.start("predicate"), defining.end("predicate"))] if defining else []
    else:
        spans = []
    return _drop_nested(spans)


# "who did it take over from?": "who" with "from" left at the end asks for a source.
_SOURCE_Q = re.compile(r"^(?:who|whom)\b[^?]*\bfrom\s*(?:\?|$)", re.I)


def asks_source(question: str) -> bool:
    """True for a "who ... from?" question: the answer is where something came from."""
    return bool(_SOURCE_Q.search(_strip(question)))


def source_spans(text: str) -> list[Span]:
    """Country lists right after "from" ("took over the presidency from Belarus"): the answer
    to a "who ... from?" question (asks_source) in a text about states."""
    return [
        sp
        for sp in _merge_lists(text, _country_spans(text))
        if re.search(r"\bfrom\s+(?:the\s+)?$", text[max(0, sp.start - 10) : sp.start])
    ]


def _drop_nested(spans: list[Span]) -> list[Span]:
    """Keep the longest of overlapping spans ("28 June 2012" over "2012")."""
    out: list[Span] = []
    for span in sorted(spans, key=lambda s: (s.start, -(s.end - s.start))):
        if out and span.start < out[-1].end:
            continue
        out.append(span)
    return out


_CONTINUES = re.compile(
    r"^[\"“(]?(?:(?:however|also|later|then|instead|moreover|meanwhile)\s*,?\s+)?"
    r"(?:it|its|this|that|these|those|they|their|them|he|his|she|her|the latter|the former|such)\b",
    re.I,
)


def continues(text: str) -> bool:
    """True when ``text`` opens with a pronoun or demonstrative ("It is meant to ...",
    "This was because ...", "He started his job ..."): it speaks of what the sentence
    before it named, so that sentence's subject is its subject too."""
    return bool(_CONTINUES.match(text.strip()))


def is_year(phrase: str) -> bool:
    return bool(_YEAR_ONLY.match(phrase.strip()))


def defined_subject(text: str) -> frozenset[str] | None:
    """The folded words of X when ``text`` reads "X is a ..." (X at most 14 words), else None.
    It does not depend on the question, so a caller may keep it per sentence."""
    m = _DEFINING.match(text)
    if not m or len(m.group("subject").split()) > 14:
        return None
    return frozenset(w.casefold() for w in re.findall(r"\w+", m.group("subject")))


def defines(text: str, subject_words: Set[str]) -> bool:
    """True when ``text`` reads "X is a ..." with X naming one of ``subject_words`` (folded)."""
    subject = defined_subject(text)
    return subject is not None and not subject.isdisjoint(subject_words)


# --- prose or debris -------------------------------------------------------------------

_BIBLIO = re.compile(
    r"\bRetrieved\b.*\d{4}|\bArchived from\b|\bISBN\b|\bdoi:|\bpp?\.\s?\d|\(\d{4}\)\.|^\^|"
    r"\bAccessed\b.*\d{4}|\bCiteSeerX\b|\bJSTOR\b|\bvol\.\s?\d",
    re.I,
)
_FIELD = re.compile(r"^[A-Z][\w()'’-]*(?: [\w()'’-]+){0,3}:\s+(?:\S+ ?){1,10}$")  # no final period
_REASON = re.compile(
    r"\b(?:because|due to|as a result of|owing to|in response to|in protest|in order to|so that|"
    r"following|amid|caused by|led to|prompted|reason)\b[^.;]*",
    re.I,
)
HEADLINE_WORDS = 8  # words before a link that make the line a headline, not a link line
# Capitalised words in a row, with no comma or stop between them, that make a line a
# flattened list of link labels ("... Soviet Armed Forces Commonwealth of Independent States
# (CIS) Community for Democracy ..."), not prose. Prose on this corpus runs to 7 (long
# institution names: "the National Assembly of the Islamic Republic of Afghanistan"), a
# headline to 10, the one "See also" line to 26: any value from 11 to 26 marks the same lines
# (docs/eval/answer-layer.md, lead section of round 3).
NAME_RUN = 12
_CONNECTORS = frozenset({"of", "for", "and", "the", "de", "on", "in", "&"})
HEADLINE_PENALTY = 0.3
_URL = re.compile(r"https?://|www\.|\]\(|\[[^\]]*\]\([^)]*\)")


def field_key(text: str) -> str | None:
    """The key of an info-box field ("Latest Update" of "Latest Update: 29 October 2024",
    "Headquarters" of "Headquarters | Moscow, Russia"), else None."""
    stripped = text.strip()
    if _FIELD.match(stripped) and stripped[-1] not in ".!?":
        return stripped.split(":", 1)[0]
    if "|" in stripped:
        cells = [c.strip() for c in stripped.split("|") if c.strip()]
        if len(cells) == 2:
            return cells[0]
    return None


# "which X" / "what X" with X not a verb: the question asks for a named thing.
_NAME_Q = re.compile(
    r"^(?:(?:in|from|to|with|by|of|on|at) )?(?:which|what) (?!(?:is|are|was|were|did|do|does|has|"
    r"have|had|can|could|will|would|should|happened|happens)\b)[\w-]+",
    re.I,
)


def asks_name(question: str) -> bool:
    """True for "which X ..." / "what X ..." with X a noun ("which Soviet-era accord did
    ...", "what informal bloc does ..."): the answer names a thing."""
    return bool(_NAME_Q.search(_strip(question)))


def name_words(text: str) -> tuple[frozenset[str], ...]:
    """The folded words of each capitalised run of ``text`` past its first word."""
    runs = []
    for m in _CAP_RUN.finditer(text):
        if m.start() == 0:
            continue
        runs.append(frozenset(w.casefold() for w in re.findall(r"\w+", m.group())))
    return tuple(runs)


def name_run(text: str) -> int:
    """The most capitalised words ``text`` holds in a row (connectors such as "of" and
    "and" between them allowed), a comma, colon or stop ending a run: the length of a list
    of names written without separators."""
    best = run = 0
    for token in text.split():
        core = token.strip("()[]\"'“”‘’")
        if core[:1].isupper():
            run += 1
        elif core.casefold() not in _CONNECTORS:
            run = 0
            continue
        best = max(best, run)
        if token[-1] in ",;.:!?":
            run = 0
    return best


def prose_penalty(text: str) -> float:
    """How much ``text`` is not a sentence to read: 0 for prose, up to 1 for debris.

    Table rules and image stubs are 1; link lines, bibliography entries and runs of link
    labels (``NAME_RUN`` capitalised words with no separator) 0.8; a title
    (most words capitalised, no verb-like word) 0.5; a "Key | Value" info-box row is a
    fact and only 0.2, as is a "Key: value" field; a line ending in ":" that introduces a
    list is 0.5. Works on any document: no rule looks at this corpus's words.
    """
    stripped = text.strip()
    letters = sum(ch.isalpha() for ch in stripped)
    if not stripped or letters < 2 or "![" in stripped or re.fullmatch(r"[\s|:+\-–—=_*#]*", stripped):
        return 1.0
    if re.search(r"-{3,}|={3,}", stripped) and letters < 0.5 * len(stripped):
        return 1.0
    if _BIBLIO.search(stripped):
        return 0.8
    if name_run(stripped) >= NAME_RUN:
        return 0.8  # link labels run together: a "See also" or navigation box, not a sentence
    link = _URL.search(stripped)
    if link:
        # A headline followed by its link ("Trilateral exercises in Tajikistan completed -
        # ... https://...") states a fact with its source; a bare link line states nothing.
        told = [t for t in stripped[: link.start()].split() if t[:1].isalpha()]
        return HEADLINE_PENALTY if len(told) >= HEADLINE_WORDS else 0.8
    tokens = stripped.split()
    if _FIELD.match(stripped) and stripped[-1] not in ".!?":
        return 0.2  # "Headquarters: Moscow, Russia": an info-box field, a fact
    if stripped.endswith(":"):
        return 0.5  # "Member states of the CSTO:" introduces a list and says nothing itself
    if "|" in stripped:
        cells = [c.strip() for c in stripped.split("|") if c.strip()]
        return 0.2 if len(cells) == 2 else 0.6 if len(cells) > 2 else 0.5
    if len(tokens) < 3:
        return 0.6
    words = [t for t in tokens if t[0].isalpha()]
    capitalised = sum(t[0].isupper() for t in words) / max(len(words), 1)
    if len(tokens) <= 14 and capitalised >= 0.7:
        return 0.5
    if stripped[-1] not in '.!?"”’)»:' and len(tokens) <= 8:
        return 0.4  # a heading or a list label
    return 0.0

"""The focus of a question: its content terms weighted by rarity, and the answer type it asks for.

Pure functions. ``question_focus`` reads a question into a :class:`Focus`; ``coverage``
says how much of that focus a text supports: IDF-weighted, so that the rarest terms
("budget" in "What is the CSTO's annual budget?") count most, and tolerant of typos
("uzbekistn" matches "uzbekistan") so a misspelt question is not taken for one the
documents do not cover.

``head_words`` finds what a question counts or names ("how many TANKS", "what is the
POPULATION of", "the CSTO's annual BUDGET"): a head term that the lead passage lacks
weighs more in :func:`support` than any other term, because a passage about the rest
of the question answers something else. Hand-written (no parser ships here, and a
dependency parse would cost more than the whole answer layer): the patterns below read
only the question's form, never this corpus's words. ``bound_words`` finds what the head
is of ("the president of KAZAKHSTAN"), what "who" acted on ("who wrote WAR AND PEACE"), or
whose time or count is asked ("when was NATO founded", "how many soldiers does NATO have"):
a word that the evidence has, but not beside the lead sentence, counts like a missing head.
``event_words`` finds the bare verb phrase of a question whose wh-word asks for a
circumstance ("when did uzbekistan QUIT GUAM"): an unseen word there weighs less, since a
passage tells the event in its own words ("withdrew"). Measured in docs/eval/answer-layer.md.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Set
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from csto_qa.answer.answer_type import AnswerType, expected_type
from csto_qa.retrieval.tokenizing import STOP_WORDS, fold, stem, words

# Words of the question's form, not of its topic: "how many members" asks for a number;
# "members" is the focus, "many" is not.
FORM_WORDS = frozenset(
    """many much long old year years date day month decade time current currently first last also
    called name named mean means meant stand stands define definition describe kind type happen
    happened say says said according""".split()
)
# Words that name the asked-for type itself ("in which city", "which countries", "what
# number of"): a passage answers with "Moscow", not with the word "city", so they are not
# focus terms when the question asks for that type.
TYPE_WORDS = {
    AnswerType.PLACE: frozenset("city cities town towns place places location locations capital".split()),
    AnswerType.COUNTRY: frozenset("country countries nation nations state states".split()),
    AnswerType.PERSON: frozenset("person people man woman who whom".split()),
    AnswerType.NUMBER: frozenset("number numbers amount total count figure percent percentage".split()),
    AnswerType.DATE: frozenset("when date dates".split()),
}
# Words that end the asked-for noun phrase ("the population OF tajikistan", "how many
# tanks DOES"): prepositions and auxiliaries, then every other stop word.
# Prepositions end the head phrase; one right after "what was" means the question asks
# about a relation ("what was behind the boycott"), not for a named thing: no head.
_PHRASE_END = frozenset(
    "of in for at on to from by with per each among between during behind about after before"
    " against under over into like within without through towards toward near since until via"
    " across around beyond".split()
)
_DETERMINERS = frozenset("the a an this that its their his her one".split())
_AUXILIARIES = frozenset("is are was were".split())
_TOKEN = re.compile(r"[^\W_]+(?:['’]s)?", re.UNICODE)
HEAD_PHRASE_WORDS = 3  # "the CSTO's official Telegram channel": at most the last three words
TYPO_RATIO = 0.84  # difflib ratio at which two words of >= 5 letters count as one misspelt
TYPO_MIN_LENGTH = 6  # "drone" vs "done" is one edit apart: short words are not typos


@dataclass(frozen=True)
class Term:
    surface: str  # the word as the question folds it
    idf: float
    known: bool  # the index holds the term at all


@dataclass(frozen=True)
class Focus:
    """What a question asks about (its terms by stem) and for (its answer type)."""

    kind: AnswerType
    terms: dict[str, Term] = field(default_factory=dict)
    head: frozenset[str] = frozenset()  # stems of what is counted or named (see head_words)
    bound: frozenset[str] = frozenset()  # stems that must stand with the head (see bound_words)
    event: frozenset[str] = frozenset()  # stems of the predicate after "when did" (see event_words)

    @property
    def words(self) -> set[str]:
        return {t.surface for t in self.terms.values()}


def head_words(question: str) -> list[str]:
    """The folded words of what ``question`` counts or names, or ``[]`` when its form says not.

    "How many tanks does the CSTO have?" → ["tanks"] (the counted noun only: "how many
    soldiers took part" must not make "took" a head); "What is the CSTO's annual budget?" →
    ["annual", "budget"] (after a possessive); "what is the population of tajikistan" →
    ["population"]; "How long is the term of office?" → ["term"]; "What is the name of the
    base?" → ["base"] (a form word's object). Other forms ("Who founded NATO?") have none.
    """
    return _head(_tokens(question))[0]


def _tokens(question: str) -> list[str]:
    """The question's folded tokens, as head_words, bound_words and event_words read them."""
    return _TOKEN.findall(fold(question))


def _head(tokens: list[str]) -> tuple[list[str], int]:
    """``head_words`` of the question's folded ``tokens``, and the index just past them."""

    def phrase(i: int) -> tuple[list[str], int]:
        found: list[str] = []
        while i < len(tokens) and tokens[i] in _DETERMINERS:
            i += 1
        while i < len(tokens) and tokens[i] not in _PHRASE_END and tokens[i] not in STOP_WORDS:
            found = [] if tokens[i][-2:] in ("'s", "’s") else [*found, tokens[i]]
            i += 1
        content = [w for w in found if w not in FORM_WORDS]
        if not content and i < len(tokens) and tokens[i] == "of":
            return phrase(i + 1)
        return content[-HEAD_PHRASE_WORDS:], i

    if len(tokens) >= 3 and tokens[0] == "how":
        if tokens[1] in ("many", "much"):
            counted, end = phrase(2)
            return counted[:1], end
        if tokens[2] in _AUXILIARIES:
            return phrase(3)
    if len(tokens) >= 2 and tokens[0] in ("what", "who", "which") and tokens[1] in _AUXILIARIES:
        return phrase(2)
    return [], 0


def _object(tokens: list[str], i: int) -> list[str]:
    """Content words of the noun phrase at ``tokens[i]``, "and" joining inside it ("War and
    Peace", "Armenia and Azerbaijan"); a preposition or another stop word ends it."""
    found: list[str] = []
    while i < len(tokens) and tokens[i] not in _PHRASE_END:
        word = tokens[i]
        if word in STOP_WORDS and word != "and" and word not in _DETERMINERS:
            break
        if word not in STOP_WORDS and word not in _DETERMINERS and word not in FORM_WORDS:
            found.append(word)
        i += 1
    return found


def bound_words(question: str) -> list[str]:
    """The folded words that the answer must hold together with the question's head.

    A head's complement: "who is the president of KAZAKHSTAN" → ["kazakhstan"] (a
    passage naming the president of Kyrgyzstan answers another question). In "who VERB
    OBJECT" (no head), the object: "Who wrote War and Peace?" → ["war", "peace"] (a passage
    about peacekeeping says nothing of who wrote a book). The subject of "how many N does X
    have" and of "when / where was X VERB" (``BIND_SUBJECT``): "The CSTO was founded in 2002"
    does not say when NATO was. A verb is not bound: the lead
    passage often words it otherwise ("put forward a proposal" for "suggested") while another
    passage has the question's verb about something else. ``[]`` for other forms.
    :func:`support` weighs one only when the evidence has it but not beside the lead
    sentence, so a word no passage has (a paraphrase) costs nothing here.
    """
    return _bound(_tokens(question))


def _bound(tokens: list[str]) -> list[str]:
    """``bound_words`` of the question's folded ``tokens``."""
    head, end = _head(tokens)
    if head:
        if end < len(tokens) and tokens[end] == "of":
            return _object(tokens, end + 1)
        if BIND_SUBJECT and tokens[0] == "how" and end < len(tokens) and tokens[end] in _DO:
            return _object(tokens, end + 1)[:1]  # "how many soldiers does NATO have": NATO's
        return []
    verb = tokens[1] if len(tokens) >= 3 and tokens[0] == "who" else ""
    if verb and verb not in STOP_WORDS and verb not in FORM_WORDS:
        return _object(tokens, 2)
    if BIND_SUBJECT and len(tokens) >= 4 and tokens[0] in ("when", "where") and tokens[1] in _AUXILIARIES:
        # "when was NATO founded": the subject and its verb fill the rest of the question.
        # Not with "did" ("where did the OUSTED kyrgyz leader find refuge": no telling where
        # the subject ends) nor when a preposition follows ("when was the Monitoring Alliances
        # page on the CSTO last updated": the lead is the page's "Latest Update" field).
        subject, rest = _object(tokens, 2), [t for t in tokens[2:] if t not in _DETERMINERS]
        if len(subject) >= 2 and len(subject) == len(rest):
            return subject[:-1]
    return []


# Wh-words that ask for a circumstance of an event (its time, place, cause, manner), not for
# one of its participants: with "do"-support the words after the auxiliary are the event
# itself, and the answer is not among them ("when did X quit GUAM": a date). "what / which /
# who did X VERB" ask for the verb's object ("what did the deployment cost", "which rifle do
# troops carry"), so the verb says what is asked: those stay strict.
_ADJUNCT_WH = frozenset("when where why".split())
_DO = frozenset("do does did".split())
# The subject of "when / where was X VERB" and of "how many N does X have" is bound as a
# head's complement is: "When was NATO founded?" is not answered by "The CSTO was founded in
# 2002" (bound_words). scripts/answer_sweep.py decline, hybrid, off-topic declined
# dev-offtopic / dev-judge: 42.9 / 40 % without, 57.1 / 50 with; answerable wrongly declined
# and on-topic declined the same on all six sets. Also binding "when / where did X ..." and
# a subject followed by a preposition declined d014 ("the OUSTED kyrgyz leader") and j021
# ("the Monitoring Alliances page on the CSTO") and nothing more: left out.
BIND_SUBJECT = True


def event_words(question: str) -> list[str]:
    """The folded words of the verb phrase after "do / does / did" in a question asking for a
    circumstance, before its first determiner, preposition or other stop word.

    "when did uzbekistan quit GUAM" → ["quit", "guam"]; "Where did Bakiyev find refuge after
    he was ousted?" → ["find", "refuge"]; "How often does the presidency change hands?" →
    ["change", "hands"] ("how" with a measure word asks a frequency, not a word of the
    predicate). The subject's first word (after a determiner) is left out: a verb follows it.
    An object behind a determiner or preposition is left out too ("When did the CSTO open an
    office in PARIS?", "adopt its FLAG"): a thing named there is what the documents must hold,
    while the bare verb is the user's own word for the event. ``[]`` for "how many / how much"
    (a counted object), "what / which / who did ..." (the verb's object is asked: "what did the
    deployment cost") and forms without "do" ("When was X born?").
    """
    return _event(_tokens(question))


def _event(tokens: list[str]) -> list[str]:
    """``event_words`` of the question's folded ``tokens``."""
    if len(tokens) < 3:
        return []
    if tokens[0] in _ADJUNCT_WH or (tokens[0] == "how" and tokens[1] in _DO):
        at = 1
    elif tokens[0] == "how" and tokens[1] not in ("many", "much") and tokens[2] in _DO:
        at = 2
    else:
        return []
    if tokens[at] not in _DO:
        return []
    at += 1
    while at < len(tokens) and tokens[at] in _DETERMINERS:
        at += 1
    found: list[str] = []
    for word in tokens[at + 1 :]:  # the subject's first word is never the verb
        if word in _DETERMINERS or word in _PHRASE_END or word in STOP_WORDS:
            break
        found.append(word)
    return found


def question_focus(question: str, idf: Mapping[str, float], n_docs: int) -> Focus:
    """The focus of ``question`` given the index's IDF by stem over ``n_docs`` passages.

    A term the index has never seen gets the IDF of a term in no passage, the rarest
    possible: when the documents lack it, that matters most.
    """
    unseen = math.log((n_docs + 0.5) / 0.5) if n_docs else 1.0
    kind = expected_type(question)
    type_words = TYPE_WORDS.get(kind, frozenset())
    terms: dict[str, Term] = {}
    for word in words(question):
        if word in FORM_WORDS or word in type_words:
            continue
        s = stem(word)
        if s in terms:
            continue
        known = s in idf
        terms[s] = Term(word, idf[s] if known else unseen, known)
    # The question folded and tokenized once for the three readings below (each did it on
    # its own; question_focus 29-33 -> 23-27 us a question, warm, 198 questions, 3 runs each).
    tokens = _tokens(question)
    head = frozenset(s for s in (stem(w) for w in _head(tokens)[0]) if s in terms)
    bound = frozenset(s for s in (stem(w) for w in _bound(tokens)) if s in terms) - head
    event = frozenset(s for s in (stem(w) for w in _event(tokens)) if s in terms) - head - bound
    return Focus(kind, terms, head, bound, event)


def _similar(word: str, candidates: Iterable[str]) -> bool:
    if len(word) < TYPO_MIN_LENGTH or word.isdigit():
        return False
    for other in candidates:
        if abs(len(other) - len(word)) <= 2 and other[:1] == word[:1]:
            matcher = SequenceMatcher(None, word, other)
            # quick_ratio is an upper bound of ratio and far cheaper: most pairs stop there.
            if matcher.quick_ratio() >= TYPO_RATIO and matcher.ratio() >= TYPO_RATIO:
                return True
    return False


class Spellings:
    """Words that a misspelt word could stand for, grouped by first letter and length.

    :func:`_similar` only compares words with the same first letter and within two
    letters of each other's length, so :meth:`near` reads five small groups instead of
    every word: about half the time (this corpus, 105 passages x 6 misspelt probes, three
    runs at different loads: 9.8-15 -> 5.6-7.6 us per word and passage, median; 70-98 ->
    39-60 us per word against the index's 1,129 stems, which take 0.2-0.4 ms to group).
    """

    __slots__ = ("_groups",)

    def __init__(self, vocabulary: Iterable[str]) -> None:
        groups: dict[tuple[str, int], list[str]] = {}
        for word in vocabulary:
            if len(word) >= TYPO_MIN_LENGTH - 2:  # shorter ones are never within two letters
                groups.setdefault((word[:1], len(word)), []).append(word)
        self._groups = {key: tuple(found) for key, found in groups.items()}

    def near(self, word: str) -> bool:
        """One of the words is ``word`` misspelt (or ``word`` one of them): ``_similar``."""
        if len(word) < TYPO_MIN_LENGTH or word.isdigit():
            return False
        initial, size = word[:1], len(word)
        return any(_similar(word, self._groups.get((initial, n), ())) for n in range(size - 2, size + 3))

    def misspelt(self, s: str, term: Term) -> bool:
        """The focus term (stem ``s``) is here as a near spelling of its surface or its stem."""
        return self.near(term.surface) or self.near(s)


@dataclass(frozen=True)
class TextTerms:
    """What :func:`present_in` reads of a text: its stems, and its folded words and stems
    as typo candidates. They do not depend on the question, so a caller may keep them."""

    stems: frozenset[str]
    spellings: Spellings


def text_terms(text: str) -> TextTerms:
    folded = words(text)
    stems = frozenset(stem(w) for w in folded)
    return TextTerms(stems, Spellings(set(folded) | stems))


def present_in(
    focus: Focus, terms: TextTerms, misspelt: Callable[[str, Term], bool] | None = None
) -> set[str]:
    """Stems of ``focus`` that the text of ``terms`` holds, exactly (by stem) or as a near
    spelling. ``misspelt(stem, term)`` is the typo check (default: ``terms.spellings``'),
    so that a caller can keep its verdicts."""
    check = terms.spellings.misspelt if misspelt is None else misspelt
    return {s for s, t in focus.terms.items() if s in terms.stems or check(s, t)}


def present_terms(focus: Focus, text: str) -> set[str]:
    """Stems of ``focus`` that ``text`` holds, exactly (by stem) or as a near spelling."""
    return present_in(focus, text_terms(text))


def coverage(focus: Focus, present: Set[str]) -> float:
    """IDF-weighted share of the focus terms in ``present`` (1.0 when there are none)."""
    total = sum(t.idf for t in focus.terms.values())
    if total <= 0:
        return 1.0
    return sum(t.idf for s, t in focus.terms.items() if s in present) / total


def unknown_terms(focus: Focus, vocabulary: Iterable[str] | Spellings) -> set[str]:
    """Stems of ``focus`` the index has never seen, not even as a near spelling.
    ``vocabulary`` is the index's stems, or their :class:`Spellings` (kept by the caller:
    grouping a large vocabulary costs more than one check)."""
    unseen = [s for s, t in focus.terms.items() if not t.known]
    if not unseen:
        return set()
    spellings = vocabulary if isinstance(vocabulary, Spellings) else Spellings(vocabulary)
    return {s for s in unseen if not spellings.misspelt(s, focus.terms[s])}


def support(
    focus: Focus,
    present: Set[str],
    unknown: Set[str],
    absent_weight: float,
    lead_present: Set[str] | None = None,
    head_weight: float = 0.0,
    bound_weight: float = 0.0,
    event_weight: float = 1.0,
    bound_near: Set[str] | None = None,
    generic: Set[str] = frozenset(),
    generic_weight: float = 1.0,
) -> float:
    """Share of the focus the evidence supports, IDF-weighted.

    A term the index has never seen is unsupported outright; a term the index knows but
    the evidence lacks counts ``absent_weight`` of that, because a paraphrase ("the bloc"
    for "the CSTO") is often what the passage says instead. A head term (``focus.head``)
    the lead passage lacks (``lead_present``) counts ``head_weight`` times its IDF: the
    evidence is about something else than what is counted or named. A head, or a number,
    that the index never saw counts that much too, and at least its IDF once. A term bound
    to the head (``focus.bound``) that the evidence has but not beside the lead sentence
    (``bound_near``: the bound words of the lead sentence and its neighbours; the lead
    passage when not given) counts ``bound_weight`` times its IDF, and the head then counts
    as missing from the lead: the words are in the documents, apart. An
    unseen word of the predicate of "when / where / why / how did ..." (``focus.event``) counts
    ``event_weight`` times its IDF: the user's own verb for an event a passage words otherwise.
    An unseen word that is common in English (``generic``: "has the organisation GOT")
    counts ``generic_weight`` times its IDF: its absence says little of what is asked.
    """
    total = sum(t.idf for t in focus.terms.values())
    if total <= 0:
        return 1.0
    lead = present if lead_present is None else lead_present
    near = lead if bound_near is None else bound_near
    # A head whose complement the evidence has, but not beside it, names something else
    # ("The President of Kyrgyzstan, …" for "the president of Uzbekistan"): it counts as
    # missing too.
    unbound = bound_weight > 0 and any(s in present and s not in near for s in focus.bound)
    lost = 0.0
    for s, t in focus.terms.items():
        if s in unknown and (s in focus.head or s.isdigit()):
            # A head the index never saw is at least as unsupported as one it knows; so is
            # a number it never saw ("in 2027"): a number has no paraphrase.
            lost += max(head_weight, 1.0) * t.idf
        elif s in focus.head and (s not in lead or unbound):
            lost += head_weight * t.idf
        elif s in focus.bound and s in present and s not in near:
            lost += bound_weight * t.idf
        elif s in unknown:
            weight = event_weight if s in focus.event else 1.0
            lost += (min(weight, generic_weight) if s in generic else weight) * t.idf
        elif s not in present:
            lost += absent_weight * t.idf
    return max(0.0, 1.0 - lost / total)

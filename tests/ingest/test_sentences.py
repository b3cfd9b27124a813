"""Sentence splitting with offsets."""

from __future__ import annotations

from csto_qa.ingest.sentences import split_sentences


def spans(text: str) -> list[str]:
    return [text[s:e] for s, e in split_sentences(text)]


def test_abbreviations_and_initials_do_not_end_sentences() -> None:
    text = (
        "The force could deploy under a U.N. mandate. Kornilenko, A. V. wrote about it. "
        "Dr. Rozen-Bakher agrees."
    )
    assert spans(text) == [
        "The force could deploy under a U.N. mandate.",
        "Kornilenko, A. V. wrote about it.",
        "Dr. Rozen-Bakher agrees.",
    ]


def test_quotes_and_line_breaks_end_sentences() -> None:
    text = 'He said: "No!" Then he left.\nA headline without a full stop\nNext line.'
    assert spans(text) == ['He said: "No!"', "Then he left.", "A headline without a full stop", "Next line."]


def test_offsets_point_into_the_text() -> None:
    text = "  First one.   Second one?  \n\n Third!"
    for start, end in split_sentences(text):
        assert text[start:end].strip() == text[start:end] and text[start:end]


def test_lowercase_after_period_is_not_a_boundary() -> None:
    assert len(spans("Troops arrived, approx. two thousand of them.")) == 1

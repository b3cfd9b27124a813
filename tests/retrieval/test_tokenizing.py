"""Tokenizer: folding, scripts, stop words, stems."""

from __future__ import annotations

from csto_qa.retrieval.tokenizing import fold, tokenize, words


def test_case_and_accents_are_folded() -> None:
    assert fold("Коллекти́вные СИЛЫ") == "коллективные силы"
    assert fold("Düsseldorf") == "dusseldorf"


def test_cyrillic_armenian_and_georgian_words_are_kept() -> None:
    assert tokenize("Организация Договора") == tokenize("организация договора")
    assert tokenize("Организация")[0].startswith("организац")
    assert "հավաքական" in words("Հավաքական անվտանգության")
    assert "კოლექტიური" in words("კოლექტიური უსაფრთხოების")


def test_stop_words_go_and_inflections_meet() -> None:
    assert tokenize("When did the members suspend it?") == tokenize("member suspended")
    assert tokenize("peacekeepers") == tokenize("peacekeeper")


def test_numbers_and_dates_are_tokens() -> None:
    assert tokenize("28 June 2012") == ["28", "june", "2012"]


def test_empty_and_punctuation_only_text_gives_no_tokens() -> None:
    assert tokenize("") == []
    assert tokenize("?!… — |") == []

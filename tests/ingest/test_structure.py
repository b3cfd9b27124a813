"""Structure detectors on small hand-made pages (tests/data/structure/)."""

from __future__ import annotations

from pathlib import Path

import pytest

from csto_qa.ingest.citations import citation_like, citation_runs
from csto_qa.ingest.structure import Item, ItemKind, Reason, analyse

DATA = Path(__file__).parent.parent / "data" / "structure"


def _page(name: str) -> str:
    return (DATA / name).read_text(encoding="utf-8")


def _by_text(text: str) -> dict[str, Item]:
    return {text[i.start : i.end]: i for i in analyse(text)}


def test_items_are_ordered_disjoint_spans_of_the_original_text() -> None:
    for path in sorted(DATA.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        items = analyse(text)
        for a, b in zip(items, items[1:], strict=False):
            assert a.end <= b.start, (path.name, a, b)
        for item in items:
            span = text[item.start : item.end]
            assert span and span == span.strip(), (path.name, item)
        covered = {k for i in items for k in range(i.start, i.end)}
        # What no item covers is whitespace, or the cell borders around a field's row.
        assert all(ch.isspace() or ch == "|" for k, ch in enumerate(text) if k not in covered), path.name


def test_table_rules_empty_cells_and_image_stubs_are_left_out() -> None:
    items = _by_text(
        "Intro line of the page\n|\n---|---|\n|||\n![](a.png) Emblem\n![]() |\n-\nLocation | |\n"
    )
    assert items["|"].reason is Reason.TABLE_RULES
    assert items["---|---|"].reason is Reason.TABLE_RULES
    assert items["|||"].reason is Reason.TABLE_RULES
    assert items["-"].reason is Reason.TABLE_RULES
    assert items["Location | |"].reason is Reason.TABLE_RULES  # a field without a value
    assert items["![](a.png) Emblem"].reason is Reason.IMAGES
    assert items["![]() |"].reason is Reason.IMAGES


def test_an_image_with_a_real_caption_keeps_the_caption_as_text() -> None:
    text = "![]() Map showing the member states in dark green\n"
    stub, caption = analyse(text)
    assert stub.reason is Reason.IMAGES and text[stub.start : stub.end] == "![]()"
    assert caption.kind is ItemKind.CAPTION
    assert text[caption.start : caption.end] == "Map showing the member states in dark green"


def test_key_value_rows_become_facts_with_a_display_form() -> None:
    text = _page("infobox.txt")
    facts = [i for i in analyse(text) if i.kind is ItemKind.FACT]
    assert [f.display for f in facts] == [
        "Abbreviation: HL",
        "Type: Trade league",
        "Headquarters: Portsmouth, England",
        "Official language: English",
        "Membership: 12 members, 2 observers",
        "Port: Dover; Year of entry: 1950",
        "Port: Calais; Year of entry: 1962",
    ]
    # The span is the original text: the row, or the name, the lone pipe and the value lines.
    spans = [text[f.start : f.end] for f in facts]
    assert spans[2] == "Headquarters | Portsmouth, England"
    assert spans[4] == "Membership\n|\n12 members\n2 observers"
    items = _by_text(text)
    assert items["Port | Year of entry |"].reason is Reason.TABLE_HEADERS
    assert items["Founded |"].reason is Reason.TABLE_RULES


def test_a_headline_with_a_pipe_is_not_a_field() -> None:
    text = "Forces complete drills at the northern training range this spring | Video News\n"
    (item,) = analyse(text)
    assert item.kind is ItemKind.TEXT


def test_navigation_link_only_lines_contents_furniture_and_see_also() -> None:
    text = _page("navigation.txt")
    items = _by_text(text)
    nav = [k for k, i in items.items() if i.reason is Reason.NAVIGATION]
    assert nav == [
        "Lighthouse Monitor by Jane Doe",
        "Lighthouse Monitor by Jane Doe https://www.janedoe.example/monitor",
        "Storm Timeline by Jane Doe: Notes on recent storms.",
        "Storm Timeline by Jane Doe: https://www.janedoe.example/storms",
        "Publications of Jane Doe https://www.janedoe.example/publications",
        "https://www.janedoe.example/",
    ]
    # A link to another site, with a label, is content (someone may ask for the website).
    assert items["Official site of the lighthouse https://northcape-light.example/"].kind is ItemKind.TEXT
    assert items["Latest Update: 2 March 2025"].kind is ItemKind.TEXT
    assert items["Contents"].reason is Reason.CONTENTS
    kinds = [(text[i.start : i.end], i.kind, i.reason) for i in analyse(text)]
    assert ("Overview", ItemKind.LEFT_OUT, Reason.CONTENTS) in kinds  # the list entry
    assert ("Overview", ItemKind.HEADING, None) in kinds  # the real heading
    assert ("Keepers", ItemKind.HEADING, None) in kinds
    assert [k for k, _, r in kinds if r is Reason.FURNITURE] == ["Share this page"] * 3
    assert [k for k, _, r in kinds if r is Reason.BACK_MATTER] == [
        "See also",
        "- Lighthouses of the north",
        "- Coastal navigation",
    ]


def test_a_reference_block_ends_at_the_next_article() -> None:
    text = _page("two_articles.txt")
    kinds = [(text[i.start : i.end], i.kind) for i in analyse(text)]
    assert ("The Mountain Pact", ItemKind.HEADING) in kinds
    prose = [t for t, k in kinds if k is ItemKind.TEXT]
    assert any(t.startswith("The Mountain Pact joined") for t in prose)
    assert any(t.startswith("A herdsman") for t in prose)
    assert not any("ISBN" in t or "(2011)" in t for t in prose)


@pytest.mark.parametrize(
    "sentence",
    [
        "Smith, J. (1999).",
        "Guliyev, F., & Gawrich, A. (2021).",
        "Obydenkova, Anastassia (23 November 2010).",
        "Archived from the original on 7 June 2022.",
        "Retrieved 2 January 2013.",
        "London: Routledge. ISBN 9781857439557.",
        "Journal of Eurasian Studies. 2 (2): 91.",
        "Post-Communist Economies, 33(2-3), 283-304.",
        "In Handbook of governance and security (pp. 554-570).",
    ],
)
def test_citation_marks(sentence: str) -> None:
    assert citation_like(sentence)


@pytest.mark.parametrize(
    "sentence",
    [
        "The CSTO has six members.",
        "In 2004, the CSTO was granted observer status in the UN General Assembly.",
        "Armenia, Belarus and Russia signed in 1992.",
        'He said: "No!"',
    ],
)
def test_prose_is_not_a_citation(sentence: str) -> None:
    assert not citation_like(sentence)


def test_citation_runs_take_the_pieces_between_citations_but_not_the_prose_after() -> None:
    sentences = [
        "The alliance was formed in 2002 after years of talks between its members.",
        '"Treaty signed".',
        "TASS.",
        "Retrieved 2 January 2013.",
        "Miller, Jonathan (23 September 2011).",
        "Russia Launches War Games.",
        "The Diplomat.",
        "Archived from the original on 26 September 2011.",
        "Retrieved 26 September 2011.",
        "Its council still meets every year in the capital to plan joint exercises.",
    ]
    flags = citation_runs(sentences)
    assert flags == [False, True, True, True, True, True, True, True, True, False]


def test_short_sentences_alone_are_not_a_reference_list() -> None:
    facts = [f"Fact number {i} is short." for i in range(29)]
    assert citation_runs(facts) == [False] * 29


def test_the_line_under_a_title_line_is_a_subtitle_not_a_section() -> None:
    text = (
        "Harbour League facts for young readers\nLiga Portuum\n"
        "The league is a union of twelve port cities that share pilots and charts.\n"
    )
    kinds = [i.kind for i in analyse(text)]
    assert kinds == [ItemKind.TEXT, ItemKind.TEXT, ItemKind.TEXT]
    text = (
        "Harbour League\nHistory\nThe league was founded in 1950 by twelve port cities that share pilots.\n"
    )
    assert [i.kind for i in analyse(text)] == [ItemKind.HEADING, ItemKind.HEADING, ItemKind.TEXT]


def test_a_numbered_heading_under_the_title_is_a_section_not_a_subtitle() -> None:
    for heading in ("Article 1", "Chapter II", "1. Scope", "Article 5 – Collective defence"):
        text = (
            f"Charter of the Harbour League\n{heading}\n"
            "The member cities share pilots, charts and a common fund for the upkeep of lights.\n"
        )
        assert [i.kind for i in analyse(text)][1] is ItemKind.HEADING, heading

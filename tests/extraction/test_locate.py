"""Pages, lines and sections of offsets, fast for long documents."""

import time

import pytest

from services.extraction.locate import DocumentIndex, Location, lower_preserving_offsets, unhyphenate

TEXT = (
    "GAP WAIVER ADDENDUM\n"
    "\n"
    "Buyer: Customer #12345\n"
    "1. DEFINITIONS\n"
    "Words mean things.\n"
    "\f"
    "SECTION 5 - REFUND PROVISIONS\n"
    "Refunds are pro rata.\n"
    "ARTICLE IV. CANCELLATION\n"
    "You may cancel.\n"
    "\f"
    "The last page has no heading of its own.\n"
    "3. CANCELLATION. You may cancel at any time.\n"
    "C. Signatures\n"
)


@pytest.mark.parametrize(
    ("needle", "location"),
    [
        ("GAP WAIVER", Location(1, 1, "GAP WAIVER ADDENDUM")),
        ("Customer", Location(1, 3, "GAP WAIVER ADDENDUM")),
        ("Words", Location(1, 5, "1. DEFINITIONS")),
        ("SECTION 5", Location(2, 1, "SECTION 5 - REFUND PROVISIONS")),
        ("Refunds are", Location(2, 2, "SECTION 5 - REFUND PROVISIONS")),
        ("You may cancel.", Location(2, 4, "ARTICLE IV. CANCELLATION")),
        ("The last page", Location(3, 1, "ARTICLE IV. CANCELLATION")),
        ("You may cancel at", Location(3, 2, "3. CANCELLATION")),
        ("Signatures", Location(3, 3, "C. Signatures")),
    ],
)
def test_locate_gives_page_line_and_nearest_heading(needle: str, location: Location) -> None:
    assert DocumentIndex(TEXT).locate(TEXT.index(needle)) == location


def test_line_breaks_and_page_breaks_belong_to_the_line_they_end() -> None:
    index = DocumentIndex(TEXT)
    assert index.locate(TEXT.index("\n")) == index.locate(0)
    form_feed = TEXT.index("\f")
    assert index.locate(form_feed).page == 1
    assert index.locate(form_feed + 1) == Location(2, 1, "SECTION 5 - REFUND PROVISIONS")
    assert index.locate(len(TEXT)).page == 3


def test_prose_in_capitals_and_table_rows_are_not_headings() -> None:
    text = (
        "NOTICE\n"
        "YOU MAY CANCEL THIS CONTRACT AT ANY TIME BY WRITTEN REQUEST AND YOU WILL\n"
        "RECEIVE A REFUND OF THE UNEARNED CHARGE\n"
        "1. You must keep the vehicle insured at all times.\n"
        "7  GAP Waiver (optional)          $795.00\n"
    )
    index = DocumentIndex(text)
    assert {index.locate(text.index(word)).section for word in ("RECEIVE", "You must", "GAP")} == {"NOTICE"}


def test_span_quotes_the_real_text_and_unaligned_points_nowhere() -> None:
    index = DocumentIndex(TEXT)
    start = TEXT.index("Refunds are pro rata.")
    span = index.span(start, start + len("Refunds are pro rata."))
    assert span.quote == TEXT[span.start : span.end]
    assert (span.page, span.line, span.alignment) == (2, 2, "exact")
    nowhere = index.unaligned("a claimed quote", "quote not found in document")
    assert (nowhere.start, nowhere.end, nowhere.quote, nowhere.alignment) == (
        0,
        0,
        "a claimed quote",
        "unaligned",
    )


def test_line_bounds() -> None:
    index = DocumentIndex(TEXT)
    start, end = index.line_bounds(TEXT.index("Words"))
    assert TEXT[start:end] == "Words mean things."


def test_unhyphenate_joins_words_and_keeps_every_offset() -> None:
    text = "the can-\ncellation fee and a well-known pro-\n  rata refund"
    joined = unhyphenate(text)
    assert len(joined) == len(text)
    assert "cancellation" in joined
    assert "prorata" in joined
    assert "well-known" in joined
    assert joined.index("fee and") == text.index("fee and")


def test_lower_case_keeps_offsets_even_for_characters_that_grow() -> None:
    text = "İSTANBUL Fee"
    assert len(lower_preserving_offsets(text)) == len(text)
    assert lower_preserving_offsets(text).endswith("fee")


def test_a_200_page_document_is_indexed_and_searched_fast() -> None:
    page = (
        "4. CANCELLATION AND REFUNDS\n" + "You may cancel this Addendum at any time and get a refund.\n" * 50
    )
    text = "\f".join([page] * 200)
    started = time.perf_counter()
    index = DocumentIndex(text)
    locations = [index.locate(offset) for offset in range(0, len(text), len(text) // 10_000)]
    assert time.perf_counter() - started < 1.0
    assert locations[-1].page == 200
    assert locations[-1].section == "4. CANCELLATION AND REFUNDS"


def test_a_run_in_heading_heads_its_paragraph_only_then_the_enclosing_section_resumes() -> None:
    text = (
        "PART 5 - REFUND PROVISIONS\n"
        "You may cancel this Agreement at any time by written notice.\n"
        "\n"
        "FREE LOOK: You may return this Agreement within 30 days of purchase for a full\n"
        "refund, provided no claim has been filed.\n"
        "\n"
        "You will receive a refund of the unearned fee, prorated according to the days left.\n"
        "\f"
        "A $75 cancellation fee will be retained.\n"
        "\n"
        "PART 6 - CLAIMS\n"
        "Call us.\n"
    )
    index = DocumentIndex(text)
    section = lambda words: index.locate(text.index(words)).section  # noqa: E731
    assert section("You may cancel") == "PART 5 - REFUND PROVISIONS"
    assert section("FREE LOOK") == "FREE LOOK"
    assert section("provided no claim") == "FREE LOOK"
    assert section("prorated according") == "PART 5 - REFUND PROVISIONS"
    assert section("$75 cancellation fee") == "PART 5 - REFUND PROVISIONS"
    assert section("Call us") == "PART 6 - CLAIMS"

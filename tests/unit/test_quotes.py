import pytest

from streams.nlp.quotes import find_quotes


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("He said “yes, we will” today.", ["yes, we will"]),
        ('She said "no" and "never again".', ["no", "never again"]),
        ("“One,” he said. “Two.”", ["One,", "Two."]),
        ("No quotes here.", []),
        ("«Bonjour» dit-il.", ["Bonjour"]),
        # a quotation running over paragraphs stays open at the end of the first
        ("“First part.\n“Second part,” he said.", ["First part.", "Second part,"]),
        ('Unbalanced "quote at the end', ["quote at the end"]),
        ('Empty "" quotes', []),
    ],
)
def test_find_quotes(text: str, expected: list[str]) -> None:
    assert [q.text(text) for q in find_quotes(text)] == expected


def test_quotes_spans_are_offsets_into_the_text() -> None:
    text = "A said “x y z.”"
    (quote,) = find_quotes(text)
    assert text[quote.start] == "“" and text[quote.end - 1] == "”"
    assert text[quote.inner_start : quote.inner_end] == "x y z."
    assert quote.closed


def test_trimmed_drops_the_comma_before_the_closing_mark() -> None:
    text = "“We will go,” he said."
    (quote,) = find_quotes(text)
    start, end = quote.trimmed(text)
    assert text[start:end] == "We will go"


def test_thousands_of_quote_marks_are_linear_and_bounded() -> None:
    text = '"' * 5001 + " end"
    quotes = find_quotes(text)
    assert all(q.inner_end - q.inner_start >= 1 for q in quotes)


def test_double_marks_nest_inside_a_typographic_quotation() -> None:
    text = "“I’d rather live in what he calls “hell” than with him.” ― A reader"
    (quote,) = find_quotes(text)
    assert quote.text(text) == "I’d rather live in what he calls “hell” than with him."

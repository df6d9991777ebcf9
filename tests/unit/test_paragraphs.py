"""Paragraph breaks start sentences before the parser runs."""

from __future__ import annotations

from spacy.lang.en import English

from streams.nlp.pipeline import paragraph_sentences


def starts(text: str) -> list[str]:
    doc = paragraph_sentences(English()(text))
    return [t.text for t in doc if t.is_sent_start and t.i > 0]


def test_a_blank_line_starts_a_sentence() -> None:
    text = "“None of them gave him the answer he wanted.”\n\nLooking ahead, Ham explained why."
    assert starts(text) == ["Looking"]


def test_a_line_end_after_sentence_final_punctuation_starts_one() -> None:
    assert starts("He left.\nShe stayed.") == ["She"]


def test_a_hard_wrapped_line_inside_a_sentence_does_not() -> None:
    assert starts("The minister said the talks\nwould resume on Monday.") == []

"""Statements that typography attributes rather than syntax.

- A **signed quotation**: “…” ― Name (a dash after the closing mark, then the speaker's name),
  the way readers' comments, epigraphs and pull quotes are signed.
- A **transcript turn**: a paragraph opening with the speaker's name in capitals and a colon
  (``PENCE: Well, look, …``), the convention of interview and debate transcripts.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from streams.nlp.doccache import text_of
from streams.nlp.quotes import Quote

if TYPE_CHECKING:
    from spacy.tokens import Doc, Token

_SIGNATURE = re.compile(r"[ \t]*[―—–][ \t]*(?=\w)")
_TURN = re.compile(r"^[ \t]*[\"“]?([A-Z][A-Z.'’\- ]{1,40}[A-Z.]):[ \t]+(?=\S)")
_MAX_NAME_TOKENS = 5
#: editorial labels that open a paragraph in capitals and a colon like a transcript turn
_LABELS = frozenset({
    "update", "updated", "correction", "clarification", "editor's note", "editor’s note",
    "note", "related", "read more", "watch", "photo", "video", "warning", "disclaimer",
    "breaking", "breaking news", "live", "analysis", "opinion", "q", "a",
})  # fmt: skip


def signed_quotes(doc: Doc, quotes: list[Quote]) -> Iterator[tuple[Quote, Token]]:
    """Closed quotations followed by a dash and a name: (quote, head token of the name)."""
    for quote in quotes:
        if not quote.closed:
            continue
        match = _SIGNATURE.match(text_of(doc), quote.end)
        if match is None:
            continue
        head = _name_head(doc, match.end())
        if head is not None:
            yield quote, head


def transcript_turns(doc: Doc) -> Iterator[tuple[Token, int, int]]:
    """Paragraphs opening ``NAME:``: (head token of the name, content start, content end)."""
    offset = 0
    for paragraph in text_of(doc).split("\n"):
        match = _TURN.match(paragraph)
        if (
            match is not None
            and any(c.isalpha() for c in match.group(1))
            and match.group(1).strip().lower() not in _LABELS
        ):
            head = _name_head(doc, offset + match.start(1), stop=offset + match.end(1))
            start = offset + match.end()
            end = offset + len(paragraph.rstrip().rstrip('"”'))
            if head is not None and end - start > 1:
                yield head, start, end
        offset += len(paragraph) + 1


def _name_head(doc: Doc, start: int, stop: int | None = None) -> Token | None:
    """The last token of a run of capitalised words starting at character ``start``."""
    span = doc.char_span(start, start + 1, alignment_mode="expand")
    if span is None:
        return None
    head = None
    for token in doc[span.start : span.start + _MAX_NAME_TOKENS]:
        if stop is not None and token.idx >= stop:
            break
        if token.is_space or "\n" in token.text:
            break
        if token.text[:1].isupper() or (head is not None and token.text in (".", "-")):
            if token.text[:1].isupper():
                head = token
            continue
        break
    return head

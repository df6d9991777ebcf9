"""Per-doc data that spaCy recomputes on every access, computed once and kept in
``doc.user_data``: the text (``Doc.text`` joins every token each call), sentence starts
(``Token.sent`` walks the doc), entities and noun chunks (a span's own ``ents`` and
``noun_chunks`` walk the whole doc)."""

from __future__ import annotations

from bisect import bisect_right
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from spacy.tokens import Doc, Span, Token


def text_of(doc: Doc) -> str:
    text = doc.user_data.get("streams.text")
    if text is None:
        text = doc.user_data["streams.text"] = doc.text
    return str(text)


def sentence_of(token: Token) -> Span:
    """The token's sentence."""
    doc = token.doc
    starts = doc.user_data.get("streams.sentence_starts")
    if starts is None:
        starts = doc.user_data["streams.sentence_starts"] = [s.start for s in doc.sents]
    i = bisect_right(starts, token.i) - 1
    end = starts[i + 1] if i + 1 < len(starts) else len(doc)
    return doc[starts[i] : end]


def ents_of(doc: Doc) -> list[tuple[int, int, str, int]]:
    """The doc's entities as (start, end, label, root index)."""
    cached = doc.user_data.get("streams.ents")
    if cached is None:
        cached = doc.user_data["streams.ents"] = [
            (e.start, e.end, e.label_, e.root.i) for e in doc.ents
        ]
    return list(cached)


def chunks_of(doc: Doc) -> list[tuple[int, int, int]]:
    """The doc's noun chunks as (start, end, root index)."""
    cached = doc.user_data.get("streams.chunks")
    if cached is None:
        cached = doc.user_data["streams.chunks"] = [
            (c.start, c.end, c.root.i) for c in doc.noun_chunks
        ]
    return list(cached)

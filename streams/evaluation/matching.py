"""Span matching shared by both evaluations: word tokens, and the one-to-one greedy match
of predicted spans to gold spans whose tokens overlap by at least half of the larger."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

_TOKEN = re.compile(r"\w+", re.UNICODE)
SPAN_MATCH = 0.5

Spans = Sequence[tuple[int, int]]


def tokens(text: str, spans: Iterable[tuple[int, int]]) -> set[int]:
    """Start offsets of the word tokens inside ``spans`` of ``text``."""
    out: set[int] = set()
    for start, end in spans:
        out.update(m.start() + start for m in _TOKEN.finditer(text[start:end]))
    return out


def match(text: str, predicted: Sequence[Spans], gold: Sequence[Spans]) -> list[tuple[int, int]]:
    """(predicted index, gold index) pairs, each gold span used once, in predicted order."""
    gold_sets = [tokens(text, spans) for spans in gold]
    taken: set[int] = set()
    pairs = []
    for p, spans in enumerate(predicted):
        own = tokens(text, spans)
        best, best_score = None, 0.0
        for g, other in enumerate(gold_sets):
            if g in taken or not other or not own:
                continue
            score = len(own & other) / max(len(own), len(other))
            if score > best_score:
                best, best_score = g, score
        if best is not None and best_score >= SPAN_MATCH:
            taken.add(best)
            pairs.append((p, best))
    return pairs

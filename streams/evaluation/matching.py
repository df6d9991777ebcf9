"""Span matching shared by every evaluation: word tokens, the one-to-one greedy match of
predicted spans to gold spans whose tokens overlap by at least half of the larger, and the
content-token counts of BBC Citron's quote-extraction metrics."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

_TOKEN = re.compile(r"\w+", re.UNICODE)
SPAN_MATCH = 0.5

Spans = Sequence[tuple[int, int]]


def tokens(text: str, spans: Iterable[tuple[int, int]]) -> set[int]:
    """Start offsets of the word tokens inside ``spans`` of ``text``."""
    out: set[int] = set()
    for start, end in spans:
        out.update(m.start() + start for m in _TOKEN.finditer(text[start:end]))
    return out


def words(text: str) -> list[str]:
    """The word tokens of ``text``."""
    return _TOKEN.findall(text)


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


def f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def excerpt(text: str, size: int = 70) -> str:
    """``text`` on one line, cut to ``size`` characters, quoted: for lists of misses."""
    text = " ".join(text.split())
    return repr(text if len(text) <= size else text[: size - 1] + "…")


def ratio(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


@dataclass
class ContentTokens:
    """Content-token counts: predicted tokens inside gold content, gold tokens found."""

    predicted: int = 0
    predicted_hit: int = 0
    gold: int = 0
    gold_hit: int = 0

    def add(
        self, text: str, predicted: Iterable[tuple[int, int]], gold: Iterable[tuple[int, int]]
    ) -> None:
        """Count one article's spans."""
        pred, want = tokens(text, predicted), tokens(text, gold)
        self.predicted += len(pred)
        self.predicted_hit += len(pred & want)
        self.gold += len(want)
        self.gold_hit += len(want & pred)

    def as_dict(self) -> dict[str, float]:
        precision = self.predicted_hit / self.predicted if self.predicted else 0.0
        recall = self.gold_hit / self.gold if self.gold else 0.0
        return {
            "content_token_precision": round(precision, 4),
            "content_token_recall": round(recall, 4),
            "content_token_f1": round(f1(precision, recall), 4),
        }

"""Quotation spans in raw text.

Marks: typographic double quotes (“…”), guillemets («…»), low-high quotes („…“), TeX-style
(``…'') and the doubled apostrophes some newspapers print for straight quotes (''…''), and
straight double quotes ("…"). Typographic marks pair by direction; straight ones alternate
within a paragraph. A quote left open at the end of a paragraph runs to its end: the
newspaper convention for a quotation that continues into the next paragraph, which opens
again with a quote mark.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# opening mark → closing mark; straight marks close themselves
_PAIRS = {"“": "”", "«": "»", "„": "“", "``": "''", '"': '"', "''": "''"}
_MARK = re.compile(r"``|''|[“”\"«»„]")


@dataclass(frozen=True, slots=True)
class Quote:
    """A quotation: ``start``/``end`` include the marks, ``inner_*`` exclude them."""

    start: int
    end: int
    inner_start: int
    inner_end: int
    closed: bool

    def trimmed(self, source: str) -> tuple[int, int]:
        """Inner span without the comma or space a quotation ends with before its mark."""
        end = self.inner_end
        while end > self.inner_start and source[end - 1] in " ,;:":
            end -= 1
        return self.inner_start, end

    def text(self, source: str) -> str:
        return source[self.inner_start : self.inner_end]


def find_quotes(text: str) -> list[Quote]:
    """All quotation spans of ``text``, in order, never nested or overlapping."""
    quotes: list[Quote] = []
    offset = 0
    for paragraph in text.split("\n"):
        quotes.extend(_paragraph_quotes(paragraph, offset))
        offset += len(paragraph) + 1
    return quotes


def _paragraph_quotes(paragraph: str, offset: int) -> list[Quote]:
    found: list[Quote] = []
    marks = [(m.start(), m.group()) for m in _MARK.finditer(paragraph)]
    i = 0
    while i < len(marks):
        start, mark = marks[i]
        closer = _PAIRS.get(mark)
        if closer is None or (mark == "''" and _is_apostrophe_pair(paragraph, start)):
            i += 1  # a stray closing mark
            continue
        j = _closing(marks, i, closer)
        inner_start = start + len(mark)
        if j is None:
            end = len(paragraph.rstrip())
            if end - inner_start > 0:
                found.append(
                    Quote(offset + start, offset + end, offset + inner_start, offset + end, False)
                )
            break
        close_at = marks[j][0]
        if close_at > inner_start:
            found.append(
                Quote(
                    offset + start,
                    offset + close_at + len(closer),
                    offset + inner_start,
                    offset + close_at,
                    True,
                )
            )
        i = j + 1
    return found


def _closing(marks: list[tuple[int, str]], i: int, closer: str) -> int | None:
    """Index of the mark closing the one at ``i``; typographic marks nest (a “quote” inside
    a quotation, printed with double marks, does not close it)."""
    opener = marks[i][1]
    depth = 0
    for k in range(i + 1, len(marks)):
        mark = marks[k][1]
        if mark == closer and depth == 0:
            return k
        if mark == closer:
            depth -= 1
        elif mark == opener and opener != closer:
            depth += 1
    return None


def _is_apostrophe_pair(paragraph: str, at: int) -> bool:
    """``''`` right after a letter ("the Joneses''") closes nothing that was opened."""
    return (
        at > 0
        and paragraph[at - 1].isalnum()
        and (at + 2 >= len(paragraph) or not paragraph[at + 2].isalnum())
    )

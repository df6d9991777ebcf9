"""Quotation spans in raw text.

Typographic quotes (“…”) pair unambiguously; straight double quotes (") pair left to right
within a paragraph. A quote left open at the end of a paragraph is closed there when the next
paragraph opens another one: the newspaper convention for a quotation running over several
paragraphs.
"""

from __future__ import annotations

from dataclasses import dataclass

OPENERS = {"“": "”", '"': '"', "«": "»", "„": "“"}


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
    i, n = 0, len(paragraph)
    while i < n:
        closer = OPENERS.get(paragraph[i])
        if closer is None:
            i += 1
            continue
        j = paragraph.find(closer, i + 1)
        if j == -1:
            end = len(paragraph.rstrip())
            if end - i > 1:
                found.append(Quote(offset + i, offset + end, offset + i + 1, offset + end, False))
            break
        if j - i > 1:
            found.append(Quote(offset + i, offset + j + 1, offset + i + 1, offset + j, True))
        i = j + 1
    return found

"""Stance of a statement toward the targets it names.

This is the seam the attribution calls for every statement. The first cut returns no stances;
the stance issue fills it with cue-verb semantics, negation and target-scoped lexicons.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from streams.records import Stance

if TYPE_CHECKING:
    from spacy.tokens import Doc


def stances_for(doc: Doc, start: int, end: int, cue: str) -> tuple[Stance, ...]:
    """Stances taken in ``doc.text[start:end]`` (reported with ``cue``); none yet."""
    del doc, start, end, cue
    return ()

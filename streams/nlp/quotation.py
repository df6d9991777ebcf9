"""Quotation identity: the same words by the same speaker, whichever outlet carries them.

A quote is reduced to its words: case folded, accents and quote-mark styles evened out,
punctuation dropped, and an ellipsis (``...``, ``…``, ``[...]``) taken as a gap where words
were left out. Its *shingles* are the runs of :data:`RUN` words that do not cross a gap; two
quotes are the same quotation when they share one, so a quote in full, one with an ellipsis
and one that keeps a part of :data:`RUN` or more words all meet. A quote shorter than that
matches only a quote of exactly its words.

Matching goes through an index (shingle → quotation id, per speaker), never a scan of the
quotations known: a new quote costs one lookup per shingle. A quote's whole words are
indexed too (:func:`words_key`): the same words again, the common case of a remark carried
by many outlets, cost one lookup, and give the id the shingles would (a key, once indexed,
keeps its quotation, so the vote that named the words first names them again).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from streams.ids import digest

#: Words two quotes must share in one run to be one quotation.
RUN = 6
#: Shingles looked up and indexed per quote: a long quote is matched by its first ones.
MAX_SHINGLES = 200

_ELLIPSIS = re.compile(r"\[\s*(?:\.\s*){2,}\]|\(\s*(?:\.\s*){2,}\)|(?:\.\s*){3,}|…")
# apostrophes inside a word join it ("don't" is one word), whatever their style
_APOSTROPHE = re.compile(r"(?<=\w)['’ʼ`´](?=\w)")
_WORD = re.compile(r"\w+")
# a quoted part: from an opening mark to its closing one, or to the end (a statement's span
# often stops before the closing mark)
_QUOTED = re.compile(r"[\"“„«]([^\"“”„«»]+)(?:[\"”»]|$)")


@dataclass(frozen=True)
class Quote:
    """A quote's words, split at its gaps, and the keys it is indexed under."""

    segments: tuple[tuple[str, ...], ...]
    keys: tuple[str, ...]

    @property
    def words(self) -> tuple[str, ...]:
        return tuple(w for segment in self.segments for w in segment)


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def segments(text: str) -> tuple[tuple[str, ...], ...]:
    """The quote's words, lower-cased and without punctuation, in the runs its ellipses
    leave (empty runs dropped)."""
    parts = _ELLIPSIS.split(_fold(text))
    out = []
    for part in parts:
        words = tuple(_WORD.findall(_APOSTROPHE.sub("", part)))
        if words:
            out.append(words)
    return tuple(out)


def quote(text: str | tuple[tuple[str, ...], ...]) -> Quote:
    """``text`` (or its :func:`segments`) as a quote: its segments and its keys (shingles, or
    the whole words of a quote with no run of :data:`RUN` words)."""
    runs = segments(text) if isinstance(text, str) else text
    keys: list[str] = []
    seen: set[str] = set()
    for words in runs:
        for i in range(len(words) - RUN + 1):
            key = digest(*words[i : i + RUN])
            if key not in seen:
                seen.add(key)
                keys.append(key)
            if len(keys) >= MAX_SHINGLES:
                break
        if len(keys) >= MAX_SHINGLES:
            break
    if not keys and runs:
        keys.append("w" + digest(*(" ".join(words) for words in runs)))
    return Quote(runs, tuple(keys))


def words_key(runs: tuple[tuple[str, ...], ...]) -> str:
    """The key a quote's whole words (its :func:`segments`) are indexed under, beside its
    shingles, where it has two keys or more (a quote with one key is its words already). A
    quote found under it has the keys of the quote indexed under it (the same words), so it
    can be looked up before the shingles are made."""
    return "t" + digest(*(" ".join(words) for words in runs))


def quoted(content: str, kind: str) -> str | None:
    """The words of a statement that are the speaker's own, as quoted: all of a direct
    quote, a mixed one's parts in quotation marks (a gap between two); None for a
    paraphrase (an indirect statement, a mixed one without marks), which is no quotation."""
    if kind == "direct":
        return content
    if kind == "mixed":
        parts = [part.strip() for part in _QUOTED.findall(content) if part.strip()]
        if parts:
            return " … ".join(parts)
    return None


def quotation_id(speaker_id: str, q: Quote) -> str:
    """The id a quotation gets from its first quote: stable for the same speaker and words."""
    return digest("quotation", speaker_id, *(" ".join(words) for words in q.segments))


def match(known: dict[str, str | None]) -> str | None:
    """The quotation most of a quote's keys belong to (ties: the smallest id), else None.

    ``known``: each key of the quote and the quotation the speaker's index has it under.
    """
    votes = Counter(qid for qid in known.values() if qid is not None)
    if not votes:
        return None
    return min(votes, key=lambda qid: (-votes[qid], qid))


def identify(
    speaker_id: str,
    text: str | Quote,
    lookup: Callable[[str], str | None],
    *,
    new_id: str | None = None,
) -> tuple[str, list[str]]:
    """``(quotation id, keys to index under it)`` for ``text`` said by ``speaker_id``: the
    known quotation it matches, else a new one (``new_id``, else :func:`quotation_id`); the
    keys are those of ``text`` that the index lacks (a longer quote of a known quotation
    extends what it is known by).

    ``lookup`` reads the speaker's index: the quotation a key belongs to, if any.
    """
    q = text if isinstance(text, Quote) else quote(text)
    known = {key: lookup(key) for key in q.keys}
    found = match(known)
    qid = found if found is not None else (new_id or quotation_id(speaker_id, q))
    return qid, [key for key, had in known.items() if had is None]

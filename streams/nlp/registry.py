"""Speakers across articles: one identity for the spellings of one name, none for two people.

Within an article :mod:`.speakers` settles who "he", "the minister" and "Araghçi" are. The
registry then matches that canonical speaker against the speakers already known:

- names are compared after transliteration to ASCII (anyascii), so "Erdoğan" is "Erdogan";
- two surnames are one when equal, or near in spelling (rapidfuzz ratio ≥ 85 with the same
  initial), or phonetically equal (Metaphone) and fairly near in spelling: "Zelensky",
  "Zelenskyy" and "Zelenskiy"; "Araghchi", "Araghçi" and "Araguchi";
- with a given name on both sides the given names must agree too (equal, near, or an
  initial), so people who share a surname stay apart;
- a bare surname matches a known person only when exactly one fits, an exact surname before
  a phonetic one; family-name-first names ("Xi Jinping") are found by their first word when
  their last does not fit;
- organisations and places match by their folded name.

The registry is plain data: the agent shares it through a Faust global table, ``streams
extract`` keeps one per call. Both feed every new or changed entry back with :meth:`learn`.
"""

from __future__ import annotations

from collections.abc import Iterable

from streams.nlp.names import by_bare_name, name_words, same_person
from streams.records import EnrichedArticle, KnownSpeaker, Speaker, SpeakerType, Statement

_MAX_ALIASES = 32


class SpeakerRegistry:
    """Known speakers by id."""

    def __init__(self, entries: Iterable[KnownSpeaker] = ()) -> None:
        self.entries: dict[str, KnownSpeaker] = {}
        self._words: dict[str, list[str]] = {}  # name words per id, folded once
        for entry in entries:
            self._put(entry)

    def _put(self, entry: KnownSpeaker) -> None:
        self.entries[entry.id] = entry
        self._words[entry.id] = name_words(entry.name)

    def __len__(self) -> int:
        return len(self.entries)

    def match(self, name: str, kind: SpeakerType) -> KnownSpeaker | None:
        """The known speaker ``name`` refers to, or None when none (or more than one) fits."""
        words = name_words(name)
        if not words:
            return None
        same_kind = [e for e in self.entries.values() if e.type == kind]
        # a lone proper name typed as a place or body (or not typed): a tagging slip when it
        # is a known person's surname and no known place or body has that name
        if (
            kind != "person"
            and len(words) == 1
            and not any(self._words[e.id] == words for e in same_kind)
        ):
            person = self._bare(words[0], "person")
            if person is not None:
                return person
        if kind != "person":
            return next((e for e in same_kind if self._words[e.id] == words), None)
        if len(words) == 1:
            return self._bare(words[0], kind)
        fits = [e for e in same_kind if same_person(words, self._words[e.id])]
        exact = [e for e in fits if self._words[e.id][-1] == words[-1]]
        chosen = exact or fits
        return chosen[0] if len(chosen) == 1 else None

    def _bare(self, word: str, kind: SpeakerType) -> KnownSpeaker | None:
        known = ((e.id, self._words[e.id]) for e in self.entries.values() if e.type == kind)
        found = by_bare_name(word, known)
        return self.entries[found] if found is not None else None

    def resolve(self, speaker: Speaker) -> Speaker:
        """``speaker`` with the id and name of the known speaker it matches, if any."""
        known = self.match(speaker.name, speaker.type)
        if known is None or (known.id == speaker.id and known.name == speaker.name):
            return speaker
        return speaker.model_copy(update={"id": known.id, "name": known.name, "type": known.type})

    def learn(self, speaker: Speaker) -> KnownSpeaker | None:
        """Record ``speaker``; returns the new or changed entry (to persist), else None.

        A bare surname is never an entry of its own: alone it cannot tell people apart.
        """
        if speaker.type == "person" and len(name_words(speaker.name)) < 2:
            return None
        entry = self.entries.get(speaker.id)
        if entry is None:
            entry = KnownSpeaker(id=speaker.id, name=speaker.name, type=speaker.type)
        aliases = entry.aliases
        for alias in (speaker.name, speaker.mention):
            if (
                alias != entry.name
                and alias not in aliases
                and name_words(alias)
                and (alias[:1].isupper())
            ):
                aliases = (*aliases, alias)[:_MAX_ALIASES]
        if speaker.id in self.entries and aliases == entry.aliases:
            return None
        entry = entry.model_copy(update={"aliases": aliases})
        self._put(entry)
        return entry

    def apply(self, article: EnrichedArticle) -> tuple[EnrichedArticle, list[KnownSpeaker]]:
        """The article with its speakers matched to known ones, and the entries to persist."""
        changed: list[KnownSpeaker] = []
        statements: list[Statement] = []
        for statement in article.statements:
            speaker = self.resolve(statement.speaker)
            learned = self.learn(speaker)
            if learned is not None:
                changed.append(learned)
            statements.append(
                statement
                if speaker is statement.speaker
                else statement.model_copy(update={"speaker": speaker})
            )
        return article.model_copy(update={"statements": tuple(statements)}), changed

"""Speakers across articles: one identity for the spellings of one name, none for two people.

Within an article :mod:`.speakers` settles who "he", "the minister" and "Araghçi" are. The
registry then matches that canonical speaker against the speakers already known, deciding
with :mod:`.names` (transliteration, spelling and phonetic variants of a surname, given names
that must agree, bare surnames that fit exactly one person, family-name-first names):

- a full name is compared with the known people whose surname is a variant of its own;
- a bare surname matches a known person only when exactly one fits, an exact surname before
  a variant; family-name-first names ("Xi Jinping") are found by their first word;
- organisations and places match by their folded name.

Lookups touch only candidates: :class:`~streams.nlp.blocking.BlockingIndex` files each
entry under keys of its surname and first word (of its folded name and acronym, for
organisations and places), entry by entry as the registry learns or reads them (:meth:`put`),
never rebuilt.

The registry is plain data: the agent shares it through a Faust global table, ``streams
extract`` keeps one per call. Both feed every new or changed entry back with :meth:`learn`.
"""

from __future__ import annotations

from collections.abc import Iterable

from streams.nlp.blocking import BlockingIndex, Group, Words
from streams.nlp.names import by_bare_name, name_words, same_person
from streams.records import EnrichedArticle, KnownSpeaker, Speaker, SpeakerType, Statement

_MAX_ALIASES = 32
_MEMO_SIZE = 100_000


class SpeakerRegistry:
    """Known speakers by id, filed in a blocking index for matching.

    Answers are remembered per name with the index's clock value of the candidates they
    read; a name asked again is answered from memory unless one of those candidates changed
    since (a news stream names the same people over and over).
    """

    def __init__(self, entries: Iterable[KnownSpeaker] = ()) -> None:
        self.entries: dict[str, KnownSpeaker] = {}
        self._words: dict[str, list[str]] = {}  # name words per id, folded once
        self._index = BlockingIndex()
        self._memo: dict[tuple[SpeakerType, Words], tuple[int, str | None]] = {}
        for entry in entries:
            self.put(entry)

    def put(self, entry: KnownSpeaker) -> None:
        """Add or replace one entry (learned here, or read from another worker's writes)."""
        previous = self.entries.get(entry.id)
        self.entries[entry.id] = entry
        if previous is not None and (previous.name, previous.type) == (entry.name, entry.type):
            return
        words = name_words(entry.name)
        self._words[entry.id] = words
        self._index.file(entry.id, entry.type, tuple(words))

    def __len__(self) -> int:
        return len(self.entries)

    def match(self, name: str, kind: SpeakerType) -> KnownSpeaker | None:
        """The known speaker ``name`` refers to, or None when none (or more than one) fits."""
        words = tuple(name_words(name))
        if not words:
            return None
        if kind == "person":
            groups, changed = self._index.person_groups(words)
        else:
            groups, changed = self._index.named_groups(kind, words)
            if len(words) == 1:
                changed = max(changed, self._index.person_groups(words)[1])
        remembered = self._memo.get((kind, words))
        if remembered is not None and remembered[0] == changed:
            found = remembered[1]
        else:
            found = self._match(kind, words, groups)
            if len(self._memo) >= _MEMO_SIZE:
                self._memo.clear()
            self._memo[(kind, words)] = (changed, found)
        return self.entries[found] if found is not None else None

    def _match(self, kind: SpeakerType, words: Words, groups: list[Group]) -> str | None:
        index = self._index
        if kind != "person":
            same_name = [
                i for i in index.ids(groups, ordered=True) if tuple(self._words[i]) == words
            ]
            # a lone proper name typed as a place or body (or not typed): a tagging slip when
            # it is a known person's surname and no known place or body has that name
            if len(words) == 1 and not same_name:
                person = self._bare(words[0])
                if person is not None:
                    return person
            return same_name[0] if same_name else None
        if len(words) == 1:
            return self._bare(words[0])
        query = list(words)
        fits = [i for i in index.ids(groups) if same_person(query, self._words[i])]
        exact = [i for i in fits if self._words[i][-1] == words[-1]]
        chosen = exact or fits
        return chosen[0] if len(chosen) == 1 else None

    def _bare(self, word: str) -> str | None:
        groups, _ = self._index.person_groups((word,))
        return by_bare_name(word, ((i, self._words[i]) for i in self._index.ids(groups)))

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
        self.put(entry)
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

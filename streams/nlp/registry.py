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

What the registry learns later can make two ids one speaker; it then records a merge
(:class:`~streams.records.SpeakerMerge`, taken with :meth:`take_merges`) that the aggregate
follows, so that the table does not depend on the order the articles came in:

- a bare surname published on its own (``person:erdogan``: no one fitted yet) or a lone
  word typed as a place or body (``place:erdogan``, ``unknown:zelenskiy``) is merged into
  the person it resolves to once one is known;
- a person met under several spellings of the full name (Zelensky, Zelenskyy) is the speaker
  whose id is the smallest of those spellings' ids, whichever came first;
- two entries for one person (two workers that met two spellings at the same moment) merge
  into the smaller.

:meth:`canonical` gives the id a speaker id stands for now. A bare surname merged while one
person bore it stays merged when a namesake comes later.

The registry is plain data: the agent shares it through a Faust global table, ``streams
extract`` keeps one per call. Both feed every new or changed entry back with :meth:`learn`.
"""

from __future__ import annotations

from collections.abc import Iterable

from streams.ids import speaker_id
from streams.nlp.blocking import BlockingIndex, Group, Words
from streams.nlp.identity import Identities, Name
from streams.nlp.identity import Reason as MergeReason
from streams.nlp.names import by_bare_name, name_words, same_person
from streams.records import (
    EnrichedArticle,
    KnownSpeaker,
    Speaker,
    SpeakerMerge,
    SpeakerType,
    Statement,
)

_MAX_ALIASES = 32
_MAX_SPELLINGS = 16
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
        self._index = BlockingIndex()  # the speakers names are matched against
        self._lone = BlockingIndex()  # ids published for a lone word, until they resolve
        self._memo: dict[tuple[SpeakerType, Words], tuple[int, str | None]] = {}
        self._identities = Identities()
        for entry in entries:
            self.put(entry)

    def put(self, entry: KnownSpeaker) -> None:
        """Add or replace one entry (learned here, or read from another worker's writes), and
        record the merges it makes known."""
        previous = self.entries.get(entry.id)
        self.entries[entry.id] = entry
        words = name_words(entry.name)
        self._words[entry.id] = words
        identities = self._identities
        if len(words) == 1 and (entry.provisional or entry.type != "person"):
            identities.add_lone(entry.id)
            if not entry.provisional:  # a place or body: matched as itself until merged
                self._file(entry)
            self._lone.file(entry.id, "person", tuple(words))
            self._resolve_lone(entry.id)
            return
        identities.add_entry(entry.id)
        identities.add_name(Name(entry.id, entry.name, entry.type))
        for spelling in entry.spellings:
            other = speaker_id(entry.type, spelling)
            identities.join(entry.id, other, "spelling")
            identities.add_name(Name(other, spelling, entry.type))
        self._file(entry)
        if entry.type != "person" or len(words) < 2:
            return
        if previous is None:
            # another worker's entry for a person this one knows (both met a new name at
            # the same moment): one speaker, when exactly one fits, as for a match
            same = self._fits(tuple(words), exclude=entry.id)
            if len(same) == 1:
                identities.join(same[0], entry.id, "same-person")
                self._refile(entry.id)
        lone = self._lone.ids(
            [
                *self._lone.person_groups((words[-1],))[0],
                *self._lone.person_groups((words[0],))[0],
            ]
        )
        for ident in lone:
            self._resolve_lone(ident)

    def _file(self, entry: KnownSpeaker) -> None:
        """File ``entry`` for matching, unless another entry of its speaker is filed."""
        if self._identities.entries(entry.id)[:1] in ([], [entry.id]):
            self._index.file(entry.id, entry.type, tuple(self._words[entry.id]))

    def _refile(self, ident: str) -> None:
        """One entry per speaker filed for matching: two would make its names ambiguous."""
        first, *others = self._identities.entries(ident)
        for other in others:
            self._index.remove(other)
        self._index.file(first, self.entries[first].type, tuple(self._words[first]))

    def _resolve_lone(self, ident: str) -> None:
        """Merge an id published for a lone word into the person it names now, if one alone
        fits."""
        entry = self.entries[ident]
        if self._identities.goes_by(ident) is not None:
            return
        person = self._bare(self._words[ident][0])
        if person is None:
            return
        reason: MergeReason = "bare-name" if entry.type == "person" else "other-type"
        self._identities.join(person, ident, reason)
        self._index.remove(ident)  # the word names the person now, whatever its type
        self._lone.remove(ident)

    def canonical(self, ident: str) -> tuple[str, str] | None:
        """``(id, name)`` of the speaker ``ident`` stands for now, when that is another id."""
        name = self._identities.goes_by(ident)
        return (name.id, name.name) if name is not None and name.id != ident else None

    def goes_by(self, article: EnrichedArticle) -> EnrichedArticle:
        """The article with each statement's speaker under the id (and name) it goes by now."""
        statements = []
        for statement in article.statements:
            found = self.canonical(statement.speaker.id)
            if found is not None:
                speaker = statement.speaker.model_copy(update={"id": found[0], "name": found[1]})
                statement = statement.model_copy(update={"speaker": speaker})
            statements.append(statement)
        return article.model_copy(update={"statements": tuple(statements)})

    def take_merges(self) -> list[SpeakerMerge]:
        """The merges recorded since the last call."""
        merges, self._identities.merges = self._identities.merges, []
        return merges

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
        chosen = self._fits(words, groups=groups)
        return chosen[0] if len(chosen) == 1 else None

    def _fits(
        self, words: Words, *, groups: list[Group] | None = None, exclude: str | None = None
    ) -> list[str]:
        """The known persons the full name ``words`` can be, those with its exact surname
        if any."""
        if groups is None:
            groups, _ = self._index.person_groups(words)
        query = list(words)
        fits = [
            i
            for i in self._index.ids(groups)
            if i != exclude and same_person(query, self._words[i])
        ]
        return [i for i in fits if self._words[i][-1] == words[-1]] or fits

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

    def _remember(self, published: Speaker, named: Speaker) -> KnownSpeaker | None:
        """What the registry keeps of a statement's speaker besides :meth:`learn`: a bare
        surname published on its own (to merge once it resolves), or the full name an
        article gave (``named``) for a speaker known under another; the entry to persist."""
        words = name_words(named.name)
        if published is named and published.type == "person" and len(words) == 1:
            if published.id in self.entries:
                return None
            entry = KnownSpeaker(
                id=published.id, name=published.name, type="person", provisional=True
            )
        else:
            entry_or_none = self.entries.get(published.id)
            if (
                entry_or_none is None
                or published is named
                or named.type != published.type
                or len(words) < 2
                or named.name == entry_or_none.name
                or named.name in entry_or_none.spellings
                or len(entry_or_none.spellings) >= _MAX_SPELLINGS
            ):
                return None
            entry = entry_or_none.model_copy(
                update={"spellings": (*entry_or_none.spellings, named.name)}
            )
        self.put(entry)
        return entry

    def apply(self, article: EnrichedArticle) -> tuple[EnrichedArticle, list[KnownSpeaker]]:
        """The article with its speakers matched to known ones, and the entries to persist."""
        changed: list[KnownSpeaker] = []
        statements: list[Statement] = []
        for statement in article.statements:
            speaker = self.resolve(statement.speaker)
            for learned in (self.learn(speaker), self._remember(speaker, statement.speaker)):
                if learned is not None:
                    changed.append(learned)
            statements.append(
                statement
                if speaker is statement.speaker
                else statement.model_copy(update={"speaker": speaker})
            )
        return article.model_copy(update={"statements": tuple(statements)}), changed

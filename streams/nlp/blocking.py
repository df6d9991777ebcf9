"""Blocking keys for speaker names, and the index that files known speakers under them.

Matching a name against every known speaker costs time in proportion to all of them; the
registry asks this index for the few that can match and leaves the decision to
:mod:`.names`. People are filed under their surname and their first word (a family name
written first: "Xi Jinping"); surnames are filed under keys that spelling and
transliteration variants share: the folded surname, its Metaphone code, its forms with one
letter (or its last two) left out, with its initial. A lookup probes with one letter more
left out. A full name is looked up among those of its surname's variants whose given
name begins within the same coarse class of initials
(:func:`~streams.nlp.names.given_name_class`), so that a common surname does not make a
lookup compare with everyone who bears it; which given names are variants of one stays the
comparison's business. Places, organisations and the rest are filed under their folded name
and its acronym.

Every group of ids carries the clock value of its last change, so that a lookup can tell
whether anything it would read changed since an earlier one (see
:meth:`BlockingIndex.person_groups`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

import jellyfish

from streams.nlp.names import given_name_class, same_surname
from streams.records import SpeakerType

Words = tuple[str, ...]
_VARIANTS_SIZE = 100_000
_SMALL_WORDS = frozenset({"of", "the", "and", "for", "de", "la", "du", "der", "des"})


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


@lru_cache(maxsize=65_536)  # the same surnames come back with every mention
def surname_keys(word: str) -> tuple[str, ...]:
    """The keys a known (folded) surname is filed under: its Metaphone code, itself and its
    forms with one letter, or its last two, left out, each with its initial — so that
    spelling variants ("zelensky", "zelenskyy", "zelenskiy"), transliterations that sound
    alike ("araghchi", "araguchi") and suffixed forms ("peters", "petersen") share a key.
    (Two spellings of one surname begin with the same letter: see
    :func:`~streams.nlp.names.same_surname`.)"""
    initial = word[:1]
    forms = {word}
    if len(word) > 3:
        forms.update((*_deletions(word), word[:-2]))
    keys = {f"{initial}~{jellyfish.metaphone(word)}", *(f"{initial}-{form}" for form in forms)}
    return tuple(sorted(keys))


@lru_cache(maxsize=65_536)
def surname_probes(word: str) -> tuple[str, ...]:
    """The keys a surname is looked up under: those it would be filed under, and its forms
    with two letters left out (so that a name two letters longer than a known one meets it)."""
    keys = set(surname_keys(word))
    if len(word) > 4:
        initial = word[:1]
        keys.update(f"{initial}-{two}" for one in _deletions(word) for two in _deletions(one))
    return tuple(sorted(keys))


def acronym(words: Words) -> str:
    """ "north atlantic treaty organization" → "nato"; a single word is its own."""
    if len(words) == 1:
        return words[0]
    return "".join(w[0] for w in words if w not in _SMALL_WORDS)


@dataclass(slots=True)
class Group:
    ids: dict[str, None] = field(default_factory=dict)  # ordered: the order of filing
    changed: int = 0


class BlockingIndex:
    """Entry ids filed under blocking keys, per speaker type."""

    def __init__(self) -> None:
        self._clock = 0
        self._groups: dict[tuple[SpeakerType, str], Group] = {}
        self._surnames: dict[str, dict[str, None]] = {}  # surname key → surnames of persons
        self._key_changed: dict[str, int] = {}
        # per surname: its known variants, with the clock value of the keys they came from
        self._variants: dict[str, tuple[int, list[str]]] = {}
        self._filed: dict[str, tuple[tuple[SpeakerType, str], ...]] = {}
        self._order: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self._filed)

    def file(self, entry_id: str, kind: SpeakerType, words: Words) -> None:
        """File ``entry_id`` (again: its old keys are dropped first)."""
        groups = self.groups_of(kind, words)
        if self._filed.get(entry_id) == groups:
            return
        self.remove(entry_id)
        self._clock += 1
        self._order.setdefault(entry_id, len(self._order))
        self._filed[entry_id] = groups
        for group_key in groups:
            group = self._groups.setdefault(group_key, Group())
            group.ids[entry_id] = None
            group.changed = self._clock
        if kind == "person" and words:
            surname = words[-1]
            for key in surname_keys(surname):
                surnames = self._surnames.setdefault(key, {})
                if surname not in surnames:
                    surnames[surname] = None
                    self._key_changed[key] = self._clock

    def remove(self, entry_id: str) -> None:
        old = self._filed.pop(entry_id, None)
        if old is None:
            return
        self._clock += 1
        for key in old:
            group = self._groups[key]
            group.ids.pop(entry_id, None)
            group.changed = self._clock

    @staticmethod
    def groups_of(kind: SpeakerType, words: Words) -> tuple[tuple[SpeakerType, str], ...]:
        if not words:
            return ()
        if kind == "person":
            return (
                ("person", f"={words[-1]}"),
                ("person", f"={words[-1]}/{given_name_class(words[0])}"),
                ("person", f"^{words[0]}"),
                ("person", f"%{words[0]} {words[-1]}"),
            )
        return ((kind, f"#{' '.join(words)}"), (kind, f"@{acronym(words)}"))

    def person_groups(self, words: Words) -> tuple[list[Group], int]:
        """The groups of persons that the name ``words`` can refer to: those whose surname
        may be a variant of its last word (for a full name, with a given name of the same
        :func:`~streams.nlp.names.given_name_class`), and, for a full name, those who write
        it in the other order ("Jinping Xi" for "Xi Jinping"), for a lone word those whose
        first word it is ("Xi"); with the clock value of the latest change among them (a
        later lookup that finds the same value would read the same ids)."""
        word = words[-1]
        probes = surname_probes(word)
        changed_at = self._key_changed.get
        keys_changed = max([0, *[changed_at(key, 0) for key in probes]])
        variants = self._variants.get(word)
        if variants is None or variants[0] != keys_changed:
            # the keys gather near spellings; names.py says which are variants of one surname
            found: dict[str, None] = {}
            for key in probes:
                found.update(self._surnames.get(key, {}))
            variants = (keys_changed, [s for s in found if same_surname(s, word)])
            if len(self._variants) >= _VARIANTS_SIZE:
                self._variants.clear()
            self._variants[word] = variants
        if len(words) == 1:
            other, given = f"^{word}", ""
        else:  # only those whose given name can be its given name
            other, given = f"%{word} {words[0]}", f"/{given_name_class(words[0])}"
        groups = [
            group
            for key in (*(f"={s}{given}" for s in variants[1]), other)
            if (group := self._groups.get(("person", key))) is not None
        ]
        return groups, max((keys_changed, *(g.changed for g in groups)))

    def named_groups(self, kind: SpeakerType, words: Words) -> tuple[list[Group], int]:
        """The groups of ``kind`` filed under the folded name or acronym of ``words``."""
        groups = [group for key in self.groups_of(kind, words) if (group := self._groups.get(key))]
        return groups, max((0, *(g.changed for g in groups)))

    def ids(self, groups: Iterable[Group], *, ordered: bool = False) -> list[str]:
        """The ids of ``groups``, each once; ``ordered``: in the order they were first filed
        (the order a scan of every entry would meet them)."""
        found: dict[str, None] = {}
        for group in groups:
            found.update(group.ids)
        return sorted(found, key=self._order.__getitem__) if ordered else list(found)

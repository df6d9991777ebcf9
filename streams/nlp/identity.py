"""Speaker ids found to be one speaker, and the id each speaker goes by.

A union–find over speaker ids. Each group of ids keeps the smallest of the full names in it
(by the id they give): that is the id the speaker goes by, whichever of the names came first.
Ids that name no one by themselves (a bare surname published on its own, a lone word typed
as a place) join a group when they resolve to a person in it. Every change of the id a
group goes by is a merge (:class:`~streams.records.SpeakerMerge`): from the id it went by
(or the lone id that joined) to the one it goes by now.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from streams.records import SpeakerMerge, SpeakerType

Reason = Literal["bare-name", "other-type", "spelling", "same-person"]


@dataclass(frozen=True, order=True)
class Name:
    """A full name an id gives: ordered by id, the smallest is the one a group goes by."""

    id: str
    name: str
    type: SpeakerType


@dataclass
class _Group:
    best: Name | None = None
    lone: list[str] = field(default_factory=list)  # published ids not merged anywhere yet
    entries: list[str] = field(default_factory=list)  # ids the registry matches names against


class Identities:
    """Groups of speaker ids that are one speaker."""

    def __init__(self) -> None:
        self._parent: dict[str, str] = {}
        self._groups: dict[str, _Group] = {}
        self.merges: list[SpeakerMerge] = []

    def root(self, ident: str) -> str:
        path = []
        while (up := self._parent.get(ident, ident)) != ident:
            path.append(ident)
            ident = up
        for step in path:
            self._parent[step] = ident
        return ident

    def _group(self, ident: str) -> _Group:
        return self._groups.setdefault(self.root(ident), _Group())

    def goes_by(self, ident: str) -> Name | None:
        """The full name the speaker ``ident`` belongs to goes by; None when it has none."""
        group = self._groups.get(self.root(ident))
        return group.best if group is not None else None

    def entries(self, ident: str) -> list[str]:
        """The registry entries in ``ident``'s group."""
        group = self._groups.get(self.root(ident))
        return list(group.entries) if group is not None else []

    def add_entry(self, ident: str) -> None:
        group = self._group(ident)
        if ident not in group.entries:
            group.entries.append(ident)

    def add_name(self, name: Name, reason: Reason = "spelling") -> None:
        """``name`` is a full name of the speaker ``name.id`` is."""
        group = self._group(name.id)
        if group.best is None or name < group.best:
            self._goes_by(group, name, reason)

    def add_lone(self, ident: str) -> None:
        """``ident`` was published for a lone word; it merges when its group gets a name."""
        group = self._group(ident)
        if group.best is None and ident not in group.lone:
            group.lone.append(ident)

    def join(self, a: str, b: str, reason: Reason) -> bool:
        """``a`` and ``b`` are one speaker; False when that was known."""
        root_a, root_b = self.root(a), self.root(b)
        if root_a == root_b:
            return False
        group_a, group_b = self._group(a), self._group(b)
        self._parent[root_b] = root_a
        del self._groups[root_b]
        group_a.entries += group_b.entries
        group_a.lone += group_b.lone
        names = [n for n in (group_a.best, group_b.best) if n is not None]
        group_a.best = None
        if names:
            for name in names:
                if name != min(names):
                    self._record(name.id, min(names), reason)
            self._goes_by(group_a, min(names), reason)
        return True

    def _goes_by(self, group: _Group, best: Name, reason: Reason) -> None:
        if group.best is not None and group.best != best:
            self._record(group.best.id, best, reason)
        group.best = best
        for lone in group.lone:
            self._record(lone, best, reason)
        group.lone = []

    def _record(self, old: str, into: Name, reason: Reason) -> None:
        if old != into.id:
            self.merges.append(
                SpeakerMerge(id=old, into=into.id, name=into.name, type=into.type, reason=reason)
            )

"""A crash between the writes of one tally (the speaker's value, its quotation, its buckets:
three changelogs) loses some of them; the tally is read again. Each table remembers what it
counted, so the tables end as if nothing had been lost."""

import copy
from datetime import datetime
from typing import Any

import pytest

from streams.app.agents import Stores, tally_step
from streams.app.quotations import identified
from streams.app.timeline import buckets
from streams.codec import dumps
from streams.records import Quotation, SpeakerState, Statement, Tally
from tests.unit.test_quotations import COPIES, SPEAKER, T0, _statement
from tests.unit.test_timeline import _windows


class World:
    """A speaker's tables, as dicts: the value, the quotation index and quotations, the
    hour and day buckets."""

    def __init__(self) -> None:
        self.speakers: dict[str, bytes] = {}
        self.index: dict[str, bytes] = {}
        self.quotations: dict[str, bytes] = {}
        self.windows: dict[str, Any] = _windows()

    def stores(self) -> Stores:
        return Stores(
            self.index,
            self.quotations,
            self.windows,
            lambda speaker: [v for k, v in self.quotations.items() if k.startswith(f"{speaker}|")],
        )

    def apply(self, tally: Tally) -> None:
        value = self.speakers.get(SPEAKER)
        state = SpeakerState.model_validate_json(value) if value is not None else None
        step, _ = tally_step(self.stores(), state, SPEAKER, tally, recent_limit=20, now=T0)
        if step.state is not None:
            self.speakers[SPEAKER] = dumps(step.state)

    def seen(self) -> tuple[Any, ...]:
        """What a reader sees: the speaker's counts, each quotation's, the day buckets."""
        summary = SpeakerState.model_validate_json(self.speakers[SPEAKER]).summary
        quotations = sorted(
            (q.text, q.occurrences, q.articles, tuple(sorted(q.sources.items())))
            for q in map(Quotation.model_validate_json, self.quotations.values())
            if q.occurrences
        )
        days = list(buckets(self.windows, SPEAKER, "day", now=T0))
        return (summary.statements, summary.articles, summary.quotations), quotations, days


def _tallies() -> list[Tally]:
    index: dict[str, bytes] = {}
    said = [identified(index, _statement(*copy)) for copy in COPIES]
    other = identified(index, _statement("b1", "Wire", None, "Nobody will be left behind"))
    adds = [
        Tally(op="add", speaker=SPEAKER, partition=0, offset=n, statement=s, article=1)
        for n, s in enumerate([*said[:2], other])
    ]
    retract = _retract(other, offset=3)
    return [*adds, retract, adds[2].model_copy(update={"offset": 4}), _retract(other, 5)]


def _retract(statement: Statement, offset: int) -> Tally:
    return Tally(
        op="retract",
        speaker=SPEAKER,
        partition=0,
        offset=offset,
        statement=statement,
        statement_id=statement.statement_id,
        quotation_id=statement.quotation_id,
        article=-1,
    )


def _clean() -> tuple[Any, ...]:
    world = World()
    for tally in _tallies():
        world.apply(tally)
    return world.seen()


@pytest.mark.parametrize("cut", range(1, 6))
@pytest.mark.parametrize("lost", ["speaker", "quotations", "buckets", "quotations and buckets"])
def test_a_tally_read_again_after_a_crash_counts_once_everywhere(cut: int, lost: str) -> None:
    tallies = _tallies()
    world = World()
    for tally in tallies[:cut]:
        world.apply(tally)
    kept = copy.deepcopy(world)
    for tally in tallies[cut:]:
        world.apply(tally)
    # the crash: the writes of the tallies after the committed offset reached some
    # changelogs and not others; the worker comes back and reads those tallies again
    if lost == "speaker":
        world.speakers = kept.speakers
    if "quotations" in lost:
        world.quotations, world.index = kept.quotations, kept.index
    if "buckets" in lost:
        world.windows = kept.windows
    for tally in tallies[cut:]:
        world.apply(tally)
    assert world.seen() == _clean()


def test_the_clean_run_counts_what_it_should() -> None:
    (statements, articles, quotations), texts, days = _clean()
    assert (statements, articles, quotations) == (2, 2, 1)
    assert [t[1] for t in texts] == [2]
    assert [(d["statements"], d["quotations"]) for d in days] == [(2, 1)]
    assert isinstance(days[0]["start"], str) and datetime.fromisoformat(days[0]["start"])

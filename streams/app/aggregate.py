"""The running aggregate of one speaker: a pure fold over the ledger's tallies and the
registry's merges.

Every field of the value is bounded (counts, stance counters, first and last seen, a
bounded list of recent statements and of aliases, one offset per id and partition of the
ledger's input, the ids merged in): its size does not grow with the statements counted.

- ``add`` / ``retract`` count a statement in or out. Each carries the coordinates of the
  ledger record that made it; one from a record at or below the offset already applied for
  its id and partition is a redelivery and changes nothing.
- ``merge`` (sent to the merged id): the merged speaker's value becomes a pointer to the
  speaker it is, and its aggregate goes there as an ``absorb``, which adds it up once (the
  absorbed ids are remembered). What comes later for the merged id is passed on, its
  offsets checked on the way and again where it lands: counts move, never double. (The
  merged id's quotations and timeline buckets follow the ``absorb`` as tallies of their own:
  see ``streams.app.agents.moving``.)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from streams.app.quotations import event_time, later, outlet, tally_mark
from streams.nlp.speakers import PRONOUNS
from streams.records import (
    RecentStatement,
    SpeakerState,
    SpeakerSummary,
    Stance,
    StanceCounts,
    Tally,
    utcnow,
)

#: Mention spellings kept per speaker.
MAX_ALIASES = 32
#: Stance targets kept per speaker: past it, a new target takes the place of the least
#: mentioned one (a speaker quoted for months names thousands of things once or twice).
MAX_STANCE_TARGETS = 100
#: Ids remembered as merged into one speaker.
MAX_ABSORBED = 256


@dataclass
class Step:
    """What one tally does: the value to write (None: nothing), and tallies to send on
    (``(key, tally)``)."""

    state: SpeakerState | None = None
    send: list[tuple[str, Tally]] = field(default_factory=list)
    #: seconds spent counting the statement as a quotation and in the timeline: wall-clock,
    #: and CPU of the thread
    quoting: float = 0.0
    quoting_cpu: float = 0.0


def apply_tally(
    state: SpeakerState | None,
    key: str,
    tally: Tally,
    *,
    recent_limit: int,
    at: datetime | None = None,
) -> Step:
    """What ``tally``, read under ``key``, does to ``state`` (the value at ``key``)."""
    if tally.op == "merge":
        return _merge(state, key, tally)
    if tally.op == "absorb":
        return _absorb(state, key, tally, recent_limit)
    mark = tally_mark(tally)
    if state is not None and state.applied.get(mark, -1) >= tally.offset:
        return Step()  # applied already
    if state is not None and state.merged_into is not None:
        return Step(send=[(state.merged_into, tally)])
    if tally.op == "retract":
        if state is None:
            return Step()  # nothing was counted here
        summary = _retract(state.summary, tally)
    else:
        summary = _add(state, key, tally, recent_limit, at or utcnow())
    applied = {**state.applied, mark: tally.offset} if state is not None else {mark: tally.offset}
    absorbed = state.absorbed if state is not None else ()
    return Step(SpeakerState(summary=summary, applied=applied, absorbed=absorbed))


def _add(
    state: SpeakerState | None, key: str, tally: Tally, recent_limit: int, at: datetime
) -> SpeakerSummary:
    statement = tally.statement
    assert statement is not None, "an add tally carries its statement"
    speaker = statement.speaker
    summary = (
        state.summary
        if state is not None
        else SpeakerSummary(
            id=key, name=speaker.name, type=speaker.type, first_seen=at, last_seen=at
        )
    )
    aliases = summary.aliases
    if (
        speaker.mention != summary.name
        and speaker.mention not in aliases
        and speaker.mention.lower() not in PRONOUNS
        and len(aliases) < MAX_ALIASES
    ):
        aliases = (*aliases, speaker.mention)
    recent = (
        RecentStatement(
            statement_id=statement.statement_id,
            article_id=statement.article_id,
            content=statement.content,
            kind=statement.kind,
            url=statement.url,
            cue=statement.cue,
            source=outlet(statement.source, statement.url),
            title=statement.title,
            at=event_time(statement, at),
            # the id it was identified as, under the speaker id it came with (the quotation
            # step corrects it where it counts the words under another)
            quotation_id=statement.quotation_id,
        ),
        *summary.recent,
    )[:recent_limit]
    return summary.model_copy(
        update={
            "aliases": aliases,
            "statements": summary.statements + 1,
            "articles": summary.articles + tally.article,
            "stances": count_stances(summary.stances, statement.stances, 1),
            "recent": recent,
            "last_seen": max(summary.last_seen, at),
        }
    )


def _retract(summary: SpeakerSummary, tally: Tally) -> SpeakerSummary:
    return summary.model_copy(
        update={
            "statements": max(0, summary.statements - 1),
            "articles": max(0, summary.articles + tally.article),
            "stances": count_stances(summary.stances, tally.stances, -1),
            "recent": tuple(r for r in summary.recent if r.statement_id != tally.statement_id),
        }
    )


def count_stances(
    stances: dict[str, StanceCounts], found: tuple[Stance, ...], step: int
) -> dict[str, StanceCounts]:
    """``stances`` with each of ``found`` counted ``step`` (1 or -1) times; bounded."""
    out = dict(stances)
    for stance in found:
        counts = out.get(stance.target)
        if counts is None:
            if step < 0:
                continue  # a target dropped for room: nothing to take back
            counts = StanceCounts()
            if len(out) >= MAX_STANCE_TARGETS:
                del out[min(out, key=lambda t: (_total(out[t]), t))]
        values = {"favor": counts.favor, "against": counts.against, "neutral": counts.neutral}
        values[stance.polarity] = max(0, values[stance.polarity] + step)
        counts = StanceCounts(**values)  # validated in half the time a model_copy takes
        if _total(counts):
            out[stance.target] = counts
        else:
            out.pop(stance.target, None)
    return out


def _total(counts: StanceCounts) -> int:
    return counts.favor + counts.against + counts.neutral


def _merge(state: SpeakerState | None, key: str, tally: Tally) -> Step:
    into = tally.into
    if into is None or into == key:
        return Step()
    absorb = Tally(
        op="absorb", speaker=key, into=into, name=tally.name, type=tally.type, state=state
    )
    if state is not None and state.merged_into is not None:
        if state.merged_into == into:
            # merged already (another worker found it too, or this merge is read again after
            # a crash that may have lost the absorb): send it again, it is added up once
            absorb = absorb.model_copy(update={"state": _unmerged(state)})
            return Step(send=[(into, absorb)])
        # merged before into another id, which carries its counts and merges on its own
        return Step(state.model_copy(update={"merged_into": into}))
    summary = (
        state.summary
        if state is not None
        else SpeakerSummary(
            id=key, name=key, type=tally.type or "unknown", first_seen=utcnow(), last_seen=utcnow()
        )
    )
    pointer = SpeakerState(
        summary=summary,
        applied=state.applied if state is not None else {},
        merged_into=into,
        absorbed=state.absorbed if state is not None else (),
    )
    return Step(pointer, [(into, absorb)])


def _unmerged(state: SpeakerState) -> SpeakerState:
    return state.model_copy(update={"merged_into": None})


def _absorb(state: SpeakerState | None, key: str, tally: Tally, recent_limit: int) -> Step:
    if state is not None and state.merged_into is not None:
        return Step(send=[(state.merged_into, tally)])
    if state is not None and tally.speaker in state.absorbed:
        return Step()
    merged = tally.state
    name, kind = tally.name or key, tally.type or "unknown"
    if state is None:
        base = merged.summary if merged is not None else None
        now = utcnow()
        state = SpeakerState(
            summary=SpeakerSummary(
                id=key,
                name=name,
                type=kind,
                first_seen=base.first_seen if base is not None else now,
                last_seen=base.last_seen if base is not None else now,
            )
        )
    absorbed = tuple(
        dict.fromkeys(
            (*state.absorbed, tally.speaker, *(merged.absorbed if merged is not None else ()))
        )
    )[-MAX_ABSORBED:]
    if merged is None:
        return Step(state.model_copy(update={"absorbed": absorbed}))
    return Step(
        SpeakerState(
            summary=_sum(state.summary, merged.summary, recent_limit),
            applied=later(state.applied, merged.applied),
            absorbed=absorbed,
        )
    )


def add_stances(
    mine: dict[str, StanceCounts], theirs: dict[str, StanceCounts]
) -> dict[str, StanceCounts]:
    """Two sets of stance counters added up, the most mentioned targets kept."""
    stances = dict(mine)
    for target, counts in theirs.items():
        have = stances.get(target, StanceCounts())
        stances[target] = StanceCounts(
            favor=have.favor + counts.favor,
            against=have.against + counts.against,
            neutral=have.neutral + counts.neutral,
        )
    if len(stances) > MAX_STANCE_TARGETS:
        kept = sorted(stances, key=lambda t: (-_total(stances[t]), t))[:MAX_STANCE_TARGETS]
        stances = {t: stances[t] for t in kept}
    return stances


def _sum(mine: SpeakerSummary, theirs: SpeakerSummary, recent_limit: int) -> SpeakerSummary:
    stances = add_stances(mine.stances, theirs.stances)
    aliases = tuple(
        a for a in dict.fromkeys((*mine.aliases, theirs.name, *theirs.aliases)) if a != mine.name
    )[:MAX_ALIASES]
    seen = {r.statement_id for r in mine.recent}
    recent = (*mine.recent, *(r for r in theirs.recent if r.statement_id not in seen))
    return mine.model_copy(
        update={
            "aliases": aliases,
            "statements": mine.statements + theirs.statements,
            "articles": mine.articles + theirs.articles,
            # the merged speaker's quotations follow one by one (``quotation`` tallies),
            # each counted where it is new
            "stances": stances,
            "recent": recent[:recent_limit],
            "first_seen": min(mine.first_seen, theirs.first_seen),
            "last_seen": max(mine.last_seen, theirs.last_seen),
        }
    )

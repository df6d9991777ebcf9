"""The running aggregate of one speaker: a pure fold over the ledger's tallies.

Every field of the value is bounded (counts, stance counters, first and last seen, a
bounded list of recent statements and of aliases, and one offset per partition of the
ledger's input): its size does not grow with the statements counted. Each tally carries the
coordinates of the ledger record that made it; a tally from a record at or below the offset
already applied for its partition is a redelivery and changes nothing.
"""

from __future__ import annotations

from datetime import datetime

from streams.nlp.speakers import PRONOUNS
from streams.records import (
    RecentStatement,
    SpeakerState,
    SpeakerSummary,
    StanceCounts,
    Tally,
    utcnow,
)

#: Mention spellings kept per speaker.
MAX_ALIASES = 32
#: Stance targets kept per speaker: past it, a new target takes the place of the least
#: mentioned one (a speaker quoted for months names thousands of things once or twice).
MAX_STANCE_TARGETS = 100


def apply_tally(
    state: SpeakerState | None,
    tally: Tally,
    *,
    recent_limit: int,
    at: datetime | None = None,
) -> SpeakerState | None:
    """The state after ``tally``; None when it was applied already (nothing to write)."""
    source = str(tally.partition)
    if state is not None and state.applied.get(source, -1) >= tally.offset:
        return None
    at = at or utcnow()
    statement = tally.statement
    speaker = statement.speaker
    if state is None:
        summary = SpeakerSummary(
            id=speaker.id, name=speaker.name, type=speaker.type, first_seen=at, last_seen=at
        )
        state = SpeakerState(summary=summary)
    summary = state.summary
    aliases = summary.aliases
    if (
        speaker.mention != summary.name
        and speaker.mention not in aliases
        and speaker.mention.lower() not in PRONOUNS
        and len(aliases) < MAX_ALIASES
    ):
        aliases = (*aliases, speaker.mention)
    stances = dict(summary.stances)
    for stance in statement.stances:
        counts = stances.get(stance.target)
        if counts is None:
            counts = StanceCounts()
            if len(stances) >= MAX_STANCE_TARGETS:
                del stances[min(stances, key=lambda t: (_total(stances[t]), t))]
        stances[stance.target] = counts.model_copy(
            update={stance.polarity: getattr(counts, stance.polarity) + 1}
        )
    recent = (
        RecentStatement(
            statement_id=statement.statement_id,
            article_id=statement.article_id,
            content=statement.content,
            kind=statement.kind,
            url=statement.url,
        ),
        *summary.recent,
    )[:recent_limit]
    return SpeakerState(
        summary=summary.model_copy(
            update={
                "aliases": aliases,
                "statements": summary.statements + 1,
                "articles": summary.articles + (1 if tally.opens_article else 0),
                "stances": stances,
                "recent": recent,
                "last_seen": max(summary.last_seen, at),
            }
        ),
        applied={**state.applied, source: tally.offset},
    )


def _total(counts: StanceCounts) -> int:
    return counts.favor + counts.against + counts.neutral

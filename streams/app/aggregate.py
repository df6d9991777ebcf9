"""The running aggregate of one speaker: a pure fold over statements.

Each ``statement_id`` counts once: the ids already counted are kept in the same table value as
the counts (:class:`~streams.records.SpeakerState`), so one write updates both and a
redelivered statement is recognised whatever happened before it.
"""

from __future__ import annotations

from datetime import datetime

from streams.nlp.speakers import PRONOUNS
from streams.records import (
    RecentStatement,
    SpeakerState,
    SpeakerSummary,
    StanceCounts,
    Statement,
    utcnow,
)


def fold(
    state: SpeakerState | None,
    statement: Statement,
    *,
    recent_limit: int,
    url: str | None = None,
    at: datetime | None = None,
) -> SpeakerState | None:
    """The state after ``statement``; None when it was counted already (nothing to write)."""
    if state is not None and statement.statement_id in state.statement_ids:
        return None
    at = at or utcnow()
    speaker = statement.speaker
    if state is None:
        summary = SpeakerSummary(
            id=speaker.id, name=speaker.name, type=speaker.type, first_seen=at, last_seen=at
        )
        state = SpeakerState(summary=summary)
    summary = state.summary
    new_article = statement.article_id not in state.article_ids
    aliases = summary.aliases
    if (
        speaker.mention != summary.name
        and speaker.mention not in aliases
        and speaker.mention.lower() not in PRONOUNS
    ):
        aliases = (*aliases, speaker.mention)
    stances = dict(summary.stances)
    for stance in statement.stances:
        counts = stances.get(stance.target, StanceCounts())
        stances[stance.target] = counts.model_copy(
            update={stance.polarity: getattr(counts, stance.polarity) + 1}
        )
    recent = (
        RecentStatement(
            statement_id=statement.statement_id,
            article_id=statement.article_id,
            content=statement.content,
            kind=statement.kind,
            url=url,
        ),
        *summary.recent,
    )[:recent_limit]
    return SpeakerState(
        summary=summary.model_copy(
            update={
                "aliases": aliases,
                "statements": summary.statements + 1,
                "articles": summary.articles + (1 if new_article else 0),
                "stances": stances,
                "recent": recent,
                "last_seen": max(summary.last_seen, at),
            }
        ),
        statement_ids=(*state.statement_ids, statement.statement_id),
        article_ids=(*state.article_ids, statement.article_id)
        if new_article
        else state.article_ids,
    )

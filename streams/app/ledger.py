"""The statement ledger: per article, which statements are counted and under whom.

A pure step over one statement (read from the article-keyed statement topic) and its
article's ledger: it returns the ledger to write and the tallies to send to the speakers'
aggregate.

- A statement the ledger holds under the same speaker is not tallied again: the aggregate
  counts each ``statement_id`` once however often the statement comes (a redelivered or
  replayed article).
- A statement that comes again under another speaker (the registry learned more between
  the two enrichments) moves: a ``retract`` for the speaker it was counted under, an ``add``
  for the new one, never both counted (the adder/subtractor of a Kafka Streams table
  aggregate).
- The same *record* read again after a worker stopped before committing it is told apart
  from a new copy by its coordinates: its tallies are sent again, and the aggregate, which
  remembers the coordinates it applied, drops those it has already.
"""

from __future__ import annotations

from datetime import datetime

from streams.records import ArticleLedger, Counted, Statement, Tally


def record(
    ledger: ArticleLedger | None,
    statement: Statement,
    *,
    partition: int,
    offset: int,
    at: datetime,
) -> tuple[ArticleLedger | None, list[Tally]]:
    """``(ledger to write or None, tallies to send)`` for ``statement``, read at
    ``partition``/``offset``."""
    statements = ledger.statements if ledger is not None else {}
    counted = statements.get(statement.statement_id)
    if counted is not None and (counted.partition, counted.offset) == (partition, offset):
        # the record that counted it, read again: its tallies again (the aggregate may lack them)
        return None, tallies(statement, counted)
    speaker = statement.speaker.id
    if counted is not None and counted.speaker == speaker:
        return None, []  # a copy of a statement counted already
    others = [c for sid, c in statements.items() if sid != statement.statement_id]
    moved_from = counted.speaker if counted is not None else None
    counted = Counted(
        speaker=speaker,
        partition=partition,
        offset=offset,
        opened=not any(c.speaker == speaker for c in others),
        stances=statement.stances,
        moved_from=moved_from,
        moved_stances=counted.stances if counted is not None else (),
        closed=moved_from is not None and not any(c.speaker == moved_from for c in others),
        quotation_id=statement.quotation_id,
        moved_quotation_id=counted.quotation_id if counted is not None else None,
    )
    updated = ArticleLedger(
        statements={**statements, statement.statement_id: counted}, updated_at=at
    )
    return updated, tallies(statement, counted)


def tallies(statement: Statement, counted: Counted) -> list[Tally]:
    """What counting ``statement`` as ``counted`` says changes: a retract from the speaker it
    moved from, if any, and an add for its speaker."""
    out = []
    if counted.moved_from is not None:
        out.append(
            Tally(
                op="retract",
                speaker=counted.moved_from,
                partition=counted.partition,
                offset=counted.offset,
                # the same words in the same article (the id says so): what the speaker's
                # quotations and timeline take it back by
                statement=statement,
                statement_id=statement.statement_id,
                stances=counted.moved_stances,
                quotation_id=counted.moved_quotation_id,
                article=-1 if counted.closed else 0,
            )
        )
    out.append(
        Tally(
            op="add",
            speaker=counted.speaker,
            partition=counted.partition,
            offset=counted.offset,
            statement=statement,
            article=1 if counted.opened else 0,
        )
    )
    return out

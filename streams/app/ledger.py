"""The statement ledger: per article, which statements are counted and under whom.

A pure step over one statement (read from the article-keyed statement topic) and its
article's ledger: it returns the ledger to write and the tallies to send to the speakers'
aggregate. A statement the ledger holds already is not tallied again, so the aggregate counts
each ``statement_id`` once however often the statement comes (a redelivered or replayed
article). The same *record* read again after a worker stopped before committing it is told
apart from a new copy by its coordinates: its tally is sent again, and the aggregate, which
remembers the coordinates it applied, drops it if it has it already.
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
    if counted is not None:
        if (counted.partition, counted.offset) != (partition, offset):
            return None, []  # a copy of a statement counted already
        # the record that counted it, read again: its tally again (the aggregate may lack it)
        return None, [_add(statement, counted)]
    speaker = statement.speaker.id
    counted = Counted(
        speaker=speaker,
        partition=partition,
        offset=offset,
        opened=not any(c.speaker == speaker for c in statements.values()),
    )
    updated = ArticleLedger(
        statements={**statements, statement.statement_id: counted}, updated_at=at
    )
    return updated, [_add(statement, counted)]


def _add(statement: Statement, counted: Counted) -> Tally:
    return Tally(
        op="add",
        partition=counted.partition,
        offset=counted.offset,
        statement=statement,
        opens_article=counted.opened,
    )

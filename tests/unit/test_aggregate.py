from datetime import UTC, datetime, timedelta

import orjson

from streams.app.aggregate import MAX_ALIASES, MAX_STANCE_TARGETS, apply_tally
from streams.app.ledger import record
from streams.codec import dumps
from streams.records import ArticleLedger, Speaker, SpeakerState, Stance, Statement, Tally

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _statement(sid: str, article: str = "a1", mention: str = "Araghçi", **kw: object) -> Statement:
    speaker = Speaker(
        id="person:abbas-araghchi",
        name="Abbas Araghchi",
        type="person",
        mention=mention,
        start=0,
        end=len(mention),
    )
    fields: dict[str, object] = dict(
        statement_id=sid,
        article_id=article,
        speaker=speaker,
        cue="said",
        content=f"content {sid}",
        start=0,
        end=5,
        kind="direct",
    )
    fields.update(kw)
    return Statement.model_validate(fields)


def _count_all(
    *statements: Statement, limit: int = 20, offsets: list[int] | None = None
) -> SpeakerState | None:
    """Each statement through its article's ledger and the aggregate, as the agents do;
    ``offsets`` are the statements' positions on the article-keyed topic (default: in turn)."""
    ledgers: dict[str, ArticleLedger] = {}
    state = None
    for n, statement in enumerate(statements):
        offset = offsets[n] if offsets is not None else n
        at = T0 + timedelta(minutes=n)
        ledger, tallies = record(
            ledgers.get(statement.article_id), statement, partition=0, offset=offset, at=at
        )
        if ledger is not None:
            ledgers[statement.article_id] = ledger
        for tally in tallies:
            state = apply_tally(state, tally, recent_limit=limit, at=at) or state
    return state


def test_counts_statements_and_distinct_articles() -> None:
    state = _count_all(_statement("s1"), _statement("s2"), _statement("s3", article="a2"))
    assert state is not None
    assert state.summary.statements == 3
    assert state.summary.articles == 2
    assert state.summary.first_seen < state.summary.last_seen


def test_a_redelivered_statement_counts_once() -> None:
    once = _count_all(_statement("s1"), _statement("s2"))
    twice = _count_all(_statement("s1"), _statement("s2"), _statement("s1"), _statement("s2"))
    assert once is not None and twice is not None
    assert twice.summary.statements == once.summary.statements == 2
    assert twice.summary.articles == 1


def test_a_record_read_again_is_tallied_again_and_applied_once() -> None:
    """A worker stopped after writing the ledger but before its tally left: the same record,
    read again, sends the tally again; a tally the aggregate has is dropped."""
    statement = _statement("s1")
    ledger, (tally,) = record(None, statement, partition=2, offset=40, at=T0)
    assert ledger is not None
    again, (resent,) = record(ledger, statement, partition=2, offset=40, at=T0)
    assert again is None and resent == tally
    state = apply_tally(None, tally, recent_limit=20, at=T0)
    assert state is not None and state.summary.statements == 1
    assert apply_tally(state, resent, recent_limit=20, at=T0) is None
    # a copy of the statement on another record is no tally at all
    assert record(ledger, statement, partition=2, offset=41, at=T0) == (None, [])


def test_a_tally_at_or_below_the_applied_offset_is_dropped() -> None:
    statement = _statement("s1")
    state = SpeakerState.model_validate(
        orjson.loads(dumps(apply_tally(None, _tally(statement, 3, 10), recent_limit=5)))
    )
    assert apply_tally(state, _tally(_statement("s2"), 3, 10), recent_limit=5) is None
    assert apply_tally(state, _tally(_statement("s2"), 3, 9), recent_limit=5) is None
    later = apply_tally(state, _tally(_statement("s2"), 3, 11), recent_limit=5)
    other_partition = apply_tally(state, _tally(_statement("s2"), 1, 0), recent_limit=5)
    assert later is not None and later.summary.statements == 2
    assert other_partition is not None and other_partition.applied == {"3": 10, "1": 0}


def _tally(statement: Statement, partition: int, offset: int) -> Tally:
    return Tally(op="add", partition=partition, offset=offset, statement=statement)


def test_the_value_stays_bounded_however_many_statements() -> None:
    few = _count_all(*(_statement(f"s{i:05}", article=f"a{i:05}") for i in range(30)))
    many = _count_all(*(_statement(f"s{i:05}", article=f"a{i:05}") for i in range(3000)))
    assert few is not None and many is not None
    assert many.summary.statements == 3000 and many.summary.articles == 3000
    assert len(dumps(many)) - len(dumps(few)) < 16  # the counts' digits, nothing else


def test_recent_is_bounded_and_newest_first() -> None:
    state = _count_all(*(_statement(f"s{i}") for i in range(30)), limit=5)
    assert state is not None
    assert [r.statement_id for r in state.summary.recent] == ["s29", "s28", "s27", "s26", "s25"]
    assert state.summary.statements == 30


def test_aliases_collect_name_variants_but_not_pronouns_and_are_bounded() -> None:
    state = _count_all(
        _statement("s1", mention="Araghçi"),
        _statement("s2", mention="he"),
        _statement("s3", mention="Araguchi"),
        _statement("s4", mention="Araghçi"),
    )
    assert state is not None
    assert state.summary.aliases == ("Araghçi", "Araguchi")
    many = _count_all(*(_statement(f"s{i}", mention=f"Araghchi{i}") for i in range(50)))
    assert many is not None and len(many.summary.aliases) == MAX_ALIASES


def test_stances_are_counted_per_target() -> None:
    favor = (Stance(target="talks", polarity="favor", score=0.6),)
    against = (Stance(target="talks", polarity="against", score=-0.7),)
    state = _count_all(
        _statement("s1", stances=favor),
        _statement("s2", stances=against),
        _statement("s3", stances=favor),
    )
    assert state is not None
    counts = state.summary.stances["talks"]
    assert (counts.favor, counts.against, counts.neutral) == (2, 1, 0)


def test_stance_targets_are_bounded_keeping_the_most_mentioned() -> None:
    def stance(target: str) -> tuple[Stance, ...]:
        return (Stance(target=target, polarity="favor", score=0.5),)

    often = [_statement(f"o{i}", stances=stance("talks")) for i in range(5)]
    rare = [
        _statement(f"r{i}", stances=stance(f"thing {i}")) for i in range(3 * MAX_STANCE_TARGETS)
    ]
    state = _count_all(*often, *rare)
    assert state is not None
    assert len(state.summary.stances) == MAX_STANCE_TARGETS
    assert state.summary.stances["talks"].favor == 5
    assert f"thing {3 * MAX_STANCE_TARGETS - 1}" in state.summary.stances  # the newest is in

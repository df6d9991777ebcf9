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


class Tables:
    """The ledger and the aggregate as the agents run them, tallies delivered in order."""

    def __init__(self, limit: int = 20) -> None:
        self.ledgers: dict[str, ArticleLedger] = {}
        self.states: dict[str, SpeakerState] = {}
        self.limit = limit
        self.offset = 0

    def statement(self, statement: Statement, *, offset: int | None = None) -> None:
        """``statement`` read by the ledger at ``offset`` (default: the next one)."""
        if offset is None:
            offset, self.offset = self.offset, self.offset + 1
        at = T0 + timedelta(minutes=offset)
        ledger, tallies = record(
            self.ledgers.get(statement.article_id), statement, partition=0, offset=offset, at=at
        )
        if ledger is not None:
            self.ledgers[statement.article_id] = ledger
        self.deliver([(t.speaker, t) for t in tallies], at)

    def deliver(self, queue: list[tuple[str, Tally]], at: datetime = T0) -> None:
        while queue:
            key, tally = queue.pop(0)
            step = apply_tally(self.states.get(key), key, tally, recent_limit=self.limit, at=at)
            if step.state is not None:
                self.states[key] = step.state
            queue += step.send

    def merge(self, old: str, into: str, name: str = "Abbas Araghchi") -> None:
        merge = Tally(op="merge", speaker=old, into=into, name=name, type="person")
        self.deliver([(old, merge)])

    def count(self, speaker: str) -> tuple[int, int]:
        summary = self.states[speaker].summary
        return summary.statements, summary.articles


def _count_all(
    *statements: Statement, limit: int = 20, offsets: list[int] | None = None
) -> SpeakerState | None:
    """Each statement through its article's ledger and the aggregate, as the agents do;
    ``offsets`` are the statements' positions on the article-keyed topic (default: in turn)."""
    tables = Tables(limit)
    for n, statement in enumerate(statements):
        tables.statement(statement, offset=offsets[n] if offsets is not None else None)
    return tables.states.get("person:abbas-araghchi")


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
    key = tally.speaker
    state = apply_tally(None, key, tally, recent_limit=20, at=T0).state
    assert state is not None and state.summary.statements == 1
    assert apply_tally(state, key, resent, recent_limit=20, at=T0).state is None
    # a copy of the statement on another record is no tally at all
    assert record(ledger, statement, partition=2, offset=41, at=T0) == (None, [])


def test_a_tally_at_or_below_the_applied_offset_is_dropped() -> None:
    def tally(sid: str, partition: int, offset: int) -> Tally:
        return Tally(
            op="add",
            speaker="person:abbas-araghchi",
            partition=partition,
            offset=offset,
            statement=_statement(sid),
        )

    key = "person:abbas-araghchi"
    first = apply_tally(None, key, tally("s1", 3, 10), recent_limit=5).state
    state = SpeakerState.model_validate(orjson.loads(dumps(first)))  # as the table reads it
    assert apply_tally(state, key, tally("s2", 3, 10), recent_limit=5).state is None
    assert apply_tally(state, key, tally("s2", 3, 9), recent_limit=5).state is None
    later = apply_tally(state, key, tally("s2", 3, 11), recent_limit=5).state
    other_partition = apply_tally(state, key, tally("s2", 1, 0), recent_limit=5).state
    assert later is not None and later.summary.statements == 2
    assert other_partition is not None
    assert other_partition.applied == {f"{key}@3": 10, f"{key}@1": 0}


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


def _as(statement: Statement, speaker_id: str, name: str) -> Statement:
    """``statement`` attributed to another speaker."""
    speaker = statement.speaker.model_copy(update={"id": speaker_id, "name": name})
    return statement.model_copy(update={"speaker": speaker})


ERDOGAN, RTE = "person:erdogan", "person:recep-tayyip-erdogan"


def test_a_statement_sent_again_under_another_speaker_moves_there_once() -> None:
    favor = (Stance(target="talks", polarity="favor", score=0.6),)
    first = _as(_statement("s1", stances=favor), ERDOGAN, "Erdogan")
    other = _as(_statement("s2"), ERDOGAN, "Erdogan")
    tables = Tables()
    tables.statement(first)
    tables.statement(other)
    moved = _as(first, RTE, "Recep Tayyip Erdoğan")
    tables.statement(moved)
    assert tables.count(ERDOGAN) == (1, 1)  # s2 keeps the article there
    assert tables.count(RTE) == (1, 1)
    assert "talks" not in tables.states[ERDOGAN].summary.stances
    assert tables.states[RTE].summary.stances["talks"].favor == 1
    assert [r.statement_id for r in tables.states[ERDOGAN].summary.recent] == ["s2"]
    tables.statement(moved)  # a copy under the new speaker: nothing
    tables.statement(_as(other, RTE, "Recep Tayyip Erdoğan"))  # the last of its article
    assert tables.count(ERDOGAN) == (0, 0)
    assert tables.count(RTE) == (2, 1)


def test_a_move_read_again_after_a_crash_is_not_applied_twice() -> None:
    tables = Tables()
    first = _as(_statement("s1"), ERDOGAN, "Erdogan")
    tables.statement(first, offset=5)
    moved = _as(first, RTE, "Recep Tayyip Erdoğan")
    tables.statement(moved, offset=9)
    tables.statement(moved, offset=9)  # the ledger wrote, the worker died, the record again
    assert tables.count(ERDOGAN) == (0, 0)
    assert tables.count(RTE) == (1, 1)


def test_a_merge_moves_the_counts_and_what_comes_later_follows() -> None:
    tables = Tables()
    for n in range(3):
        tables.statement(_as(_statement(f"b{n}", article=f"a{n}"), ERDOGAN, "Erdogan"))
    tables.statement(_as(_statement("f1", article="a9"), RTE, "Recep Tayyip Erdoğan"))
    tables.merge(ERDOGAN, RTE, "Recep Tayyip Erdoğan")
    assert tables.states[ERDOGAN].merged_into == RTE
    assert tables.count(RTE) == (4, 4)
    assert "Erdogan" in tables.states[RTE].summary.aliases
    late = _as(_statement("b7", article="a7"), ERDOGAN, "Erdogan")
    tables.statement(late)  # published before the worker knew: passed on
    assert tables.count(RTE) == (5, 5)
    tables.merge(ERDOGAN, RTE, "Recep Tayyip Erdoğan")  # found again by another worker
    tables.deliver([(RTE, Tally(op="absorb", speaker=ERDOGAN, into=RTE, state=None))])
    assert tables.count(RTE) == (5, 5)
    tables.statement(_as(late, RTE, "Recep Tayyip Erdoğan"))  # and sent again: it moves
    assert tables.count(RTE) == (5, 5)
    assert tables.states[ERDOGAN].summary.statements == 3  # the pointer keeps what it had


def test_counts_do_not_depend_on_whether_the_merge_comes_first() -> None:
    def run(merge_first: bool) -> tuple[int, int]:
        tables = Tables()
        statements = [
            _as(_statement(f"s{n}", article=f"a{n % 2}"), ERDOGAN if n % 2 else RTE, "x")
            for n in range(6)
        ]
        if merge_first:
            tables.merge(ERDOGAN, RTE, "Recep Tayyip Erdoğan")
        for statement in statements:
            tables.statement(statement)
        if not merge_first:
            tables.merge(ERDOGAN, RTE, "Recep Tayyip Erdoğan")
        return tables.count(RTE)

    assert run(merge_first=True) == run(merge_first=False) == (6, 2)


def test_a_merge_into_a_speaker_not_counted_yet_names_it() -> None:
    tables = Tables()
    tables.statement(_as(_statement("s1"), ERDOGAN, "Erdogan"))
    tables.merge(ERDOGAN, RTE, "Recep Tayyip Erdoğan")
    summary = tables.states[RTE].summary
    assert (summary.id, summary.name, summary.statements) == (RTE, "Recep Tayyip Erdoğan", 1)

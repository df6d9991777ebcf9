from datetime import UTC, datetime, timedelta

from streams.app.aggregate import fold
from streams.records import Speaker, SpeakerState, Stance, Statement


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


def _fold_all(*statements: Statement, limit: int = 20) -> SpeakerState | None:
    state = None
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    for n, statement in enumerate(statements):
        state = fold(state, statement, recent_limit=limit, at=t0 + timedelta(minutes=n)) or state
    return state


def test_counts_statements_and_distinct_articles() -> None:
    state = _fold_all(_statement("s1"), _statement("s2"), _statement("s3", article="a2"))
    assert state is not None
    assert state.summary.statements == 3
    assert state.summary.articles == 2
    assert state.summary.first_seen < state.summary.last_seen


def test_a_redelivered_statement_counts_once() -> None:
    once = _fold_all(_statement("s1"), _statement("s2"))
    twice = _fold_all(_statement("s1"), _statement("s2"), _statement("s1"), _statement("s2"))
    assert once is not None and twice is not None
    assert twice.summary.statements == once.summary.statements == 2
    assert fold(once, _statement("s1"), recent_limit=20) is None


def test_recent_is_bounded_and_newest_first() -> None:
    state = _fold_all(*(_statement(f"s{i}") for i in range(30)), limit=5)
    assert state is not None
    assert [r.statement_id for r in state.summary.recent] == ["s29", "s28", "s27", "s26", "s25"]
    assert state.summary.statements == 30


def test_aliases_collect_name_variants_but_not_pronouns() -> None:
    state = _fold_all(
        _statement("s1", mention="Araghçi"),
        _statement("s2", mention="he"),
        _statement("s3", mention="Araguchi"),
        _statement("s4", mention="Araghçi"),
    )
    assert state is not None
    assert state.summary.aliases == ("Araghçi", "Araguchi")


def test_stances_are_counted_per_target() -> None:
    favor = (Stance(target="talks", polarity="favor", score=0.6),)
    against = (Stance(target="talks", polarity="against", score=-0.7),)
    state = _fold_all(
        _statement("s1", stances=favor),
        _statement("s2", stances=against),
        _statement("s3", stances=favor),
    )
    assert state is not None
    counts = state.summary.stances["talks"]
    assert (counts.favor, counts.against, counts.neutral) == (2, 1, 0)

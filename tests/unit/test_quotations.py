import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from streams.app.paging import quotation_page
from streams.app.quotations import (
    absorb,
    count,
    identified,
    identify_in,
    outlet,
    quotation_key,
)
from streams.records import Quotation, Speaker, Statement, Tally

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
SPEAKER = "person:ada-lindqvist"
FULL = "We will rebuild every bridge on the river before the first snow falls this winter."
COPIES = [
    ("a1", "Northern Wire", None, FULL),
    (
        "a2",
        None,
        "https://www.valley-gazette.example/news/1",
        "“We will rebuild every bridge … before the first snow falls this winter”",
    ),
    ("a3", "Radio Lake", None, "on the river before the first snow falls this winter"),
]


def _statement(article: str, source: str | None, url: str | None, content: str) -> Statement:
    return Statement(
        statement_id=f"s-{article}",
        article_id=article,
        speaker=Speaker(
            id=SPEAKER, name="Ada Lindqvist", type="person", mention="Lindqvist", start=0, end=9
        ),
        cue="said",
        content=content,
        start=0,
        end=len(content),
        kind="direct",
        source=source,
        url=url,
        published_at=T0,
    )


_OFFSETS = itertools.count()


def _tally(**fields: Any) -> Tally:
    """A tally as the ledger sends them: each at an offset of its own, growing."""
    return Tally(offset=next(_OFFSETS), **fields)


class Tables:
    def __init__(self) -> None:
        self.index: dict[str, bytes] = {}
        self.quotations: dict[str, bytes] = {}

    def add(self, statement: Statement, speaker: str = SPEAKER) -> str | None:
        tally = _tally(op="add", speaker=speaker, statement=statement)
        return count(self.index, self.quotations, speaker, tally, at=T0).quotation_id

    def quotation(self, qid: str, speaker: str = SPEAKER) -> Quotation:
        return Quotation.model_validate_json(self.quotations[quotation_key(speaker, qid)])


def test_three_outlets_carrying_one_quote_are_one_quotation() -> None:
    tables = Tables()
    ids = {tables.add(_statement(*copy)) for copy in COPIES}
    assert len(ids) == 1
    qid = ids.pop()
    assert qid is not None
    quotation = tables.quotation(qid)
    assert (quotation.occurrences, quotation.articles) == (3, 3)
    assert quotation.sources == {"Northern Wire": 1, "valley-gazette.example": 1, "Radio Lake": 1}
    assert quotation.text == FULL
    assert quotation.first_seen == quotation.last_seen == T0


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_in_any_order(order: tuple[int, ...]) -> None:
    tables = Tables()
    assert len({tables.add(_statement(*COPIES[i])) for i in order}) == 1


def test_two_quotations_only_a_later_quote_bridges_stay_two() -> None:
    """No quotation merges: a part and an ellipsis quote sharing under six words are two
    quotations, and the full quote that has both counts under the one it shares most with."""
    tables = Tables()
    part = tables.add(_statement("b1", "X", None, "every bridge on the river before the first"))
    gap = tables.add(_statement("b2", "Y", None, "… the first snow falls this winter"))
    assert part != gap
    assert tables.add(_statement("b3", "Z", None, FULL)) == part


def test_an_article_quoting_it_twice_is_one_article() -> None:
    tables = Tables()
    qid = tables.add(_statement(*COPIES[0]))
    again = _statement(*COPIES[0]).model_copy(update={"statement_id": "s-a1-headline"})
    assert tables.add(again) == qid
    assert qid is not None
    quotation = tables.quotation(qid)
    assert (quotation.occurrences, quotation.articles) == (2, 1)
    assert quotation.sources == {"Northern Wire": 2}


def test_a_retraction_takes_back_what_its_add_counted() -> None:
    tables = Tables()
    qid = tables.add(_statement(*COPIES[0]))
    tables.add(_statement(*COPIES[2]))
    retract = _tally(op="retract", speaker=SPEAKER, statement=_statement(*COPIES[2]))
    result = count(tables.index, tables.quotations, SPEAKER, retract, at=T0)
    assert (result.quotation_id, result.delta, result.sign, result.at) == (qid, 0, -1, T0)
    assert qid is not None
    quotation = tables.quotation(qid)
    assert (quotation.occurrences, quotation.articles, quotation.sources) == (
        1,
        1,
        {"Northern Wire": 1},
    )
    last = _tally(op="retract", speaker=SPEAKER, statement=_statement(*COPIES[0]))
    assert count(tables.index, tables.quotations, SPEAKER, last, at=T0).delta == -1
    # kept with no occurrence, to remember what it counted; the API lists it no more
    assert tables.quotation(qid).occurrences == 0
    assert quotation_page(tables.quotations.values(), {})["items"] == []
    # counted again: a new hearing, its first
    again = tables.add(_statement(*COPIES[2]))
    assert again == qid and tables.quotation(qid).occurrences == 1


def test_the_same_words_of_two_speakers_are_two_quotations() -> None:
    tables = Tables()
    mine = tables.add(_statement(*COPIES[0]))
    theirs = tables.add(_statement(*COPIES[0]), speaker="person:omar-feld")
    assert mine != theirs


def test_outlet_is_the_source_else_the_host() -> None:
    assert outlet(" Wire ", "https://x.example/") == "Wire"
    assert outlet(None, "https://www.x.example/a") == "x.example"
    assert outlet(None, None) is None


def test_a_paraphrase_is_no_quotation_but_counts_in_time() -> None:
    tables = Tables()
    said = _statement("p1", "Wire", None, "the town would rebuild every bridge on the river")
    said = said.model_copy(update={"kind": "indirect"})
    added = count(tables.index, tables.quotations, SPEAKER, _tally(op="add", speaker=SPEAKER,
                  statement=said), at=T0)  # fmt: skip
    assert (added.quotation_id, added.delta, added.sign, added.at) == (None, 0, 1, T0)
    assert tables.quotations == {}
    retract = _tally(op="retract", speaker=SPEAKER, statement=said)
    taken = count(tables.index, tables.quotations, SPEAKER, retract, at=T0)
    assert (taken.quotation_id, taken.sign, taken.at) == (None, -1, T0)


def test_a_move_takes_the_quotation_from_the_old_speaker_to_the_new() -> None:
    from streams.app.ledger import record

    old, new = "person:lindqvist", SPEAKER
    before = _statement(*COPIES[0])
    before = before.model_copy(
        update={"speaker": before.speaker.model_copy(update={"id": old, "name": "Lindqvist"})}
    )
    ledger, first = record(None, before, partition=0, offset=next(_OFFSETS), at=T0)
    _, moved = record(ledger, _statement(*COPIES[0]), partition=0, offset=next(_OFFSETS), at=T0)
    tables = Tables()
    for tally in [*first, *moved]:
        count(tables.index, tables.quotations, tally.speaker, tally, at=T0)
    assert [t.op for t in moved] == ["retract", "add"]
    counted = [k for k, v in tables.quotations.items() if b'"occurrences":0' not in v]
    assert [k.split("|")[0] for k in counted] == [new]


def test_an_earlier_occurrence_moves_where_the_quotation_was_first_heard() -> None:
    tables = Tables()
    later = _statement(*COPIES[0])
    earlier = _statement(*COPIES[2]).model_copy(update={"published_at": T0 - timedelta(days=1)})
    first = count(tables.index, tables.quotations, SPEAKER, _tally(op="add", speaker=SPEAKER,
                  statement=later), at=T0)  # fmt: skip
    assert first.heard == ((T0, 1),)
    second = count(tables.index, tables.quotations, SPEAKER, _tally(op="add", speaker=SPEAKER,
                   statement=earlier), at=T0)  # fmt: skip
    assert second.heard == ((T0, -1), (T0 - timedelta(days=1), 1))
    assert second.quotation_id == first.quotation_id


def test_the_id_a_statement_carries_is_the_quotation_it_is_counted_as() -> None:
    """The quotation agent gives each statement its id before ``statements``; the aggregate
    counts it under that id, and a move's retraction finds it by the id the ledger kept."""
    from streams.app.ledger import record

    tables = Tables()
    carried = [identified(tables.index, _statement(*copy)) for copy in COPIES]
    ids = {s.quotation_id for s in carried}
    assert len(ids) == 1 and None not in ids
    for statement in carried:
        tables.add(statement)
    assert list(tables.quotations) == [quotation_key(SPEAKER, ids.pop())]
    # the same statement later resolved to another speaker: counted there, taken back here
    # by the id it was counted as (the index is not asked: an empty one would not know it)
    ledger, _ = record(None, carried[0], partition=0, offset=next(_OFFSETS), at=T0)
    other = "person:omar-feld"
    moved = carried[0].model_copy(
        update={"speaker": carried[0].speaker.model_copy(update={"id": other})}
    )
    moved = identified(tables.index, moved)
    _, (retract, add) = record(ledger, moved, partition=0, offset=next(_OFFSETS), at=T0)
    assert retract.quotation_id == carried[0].quotation_id != add.statement.quotation_id  # type: ignore[union-attr]
    taken = count({}, tables.quotations, SPEAKER, retract, at=T0)
    assert taken.quotation_id == carried[0].quotation_id
    assert tables.quotation(carried[0].quotation_id or "").occurrences == 2


def test_a_paraphrase_carries_no_quotation_id() -> None:
    said = _statement("p1", "Wire", None, "the town would rebuild every bridge").model_copy(
        update={"kind": "indirect"}
    )
    index: dict[str, bytes] = {}
    assert identified(index, said).quotation_id is None
    assert index == {}


def test_a_statement_passed_on_from_a_merged_id_is_identified_again_where_it_lands() -> None:
    """After a merge the merged id's tallies go to the speaker it is; the id given under the
    merged id is not that speaker's, so the words are looked up in that speaker's index."""
    tables = Tables()
    mine = tables.add(_statement(*COPIES[0]))
    merged = "person:lindqvist"
    old = _statement(*COPIES[2]).model_copy(
        update={"speaker": _statement(*COPIES[2]).speaker.model_copy(update={"id": merged})}
    )
    old = identified(tables.index, old)
    assert old.quotation_id != mine
    passed = _tally(op="add", speaker=merged, statement=old)
    landed = count(tables.index, tables.quotations, SPEAKER, passed, at=T0)
    assert landed.quotation_id == mine
    assert mine is not None and tables.quotation(mine).occurrences == 2


def test_a_merged_speakers_quotations_join_the_speakers_once() -> None:
    """A merge moves the merged id's quotations: one the speaker knows takes its counts
    (the later first hearing given back), one it does not goes on under its own id."""
    tables = Tables()
    mine = tables.add(_statement(*COPIES[0]))
    merged = "person:lindqvist"
    theirs, other = Tables(), "They will rebuild it all"
    for copy in COPIES[1:]:
        statement = _statement(*copy).model_copy(update={"published_at": T0 + timedelta(hours=1)})
        theirs.add(statement, speaker=merged)
    theirs.add(_statement("c1", "Z", None, other), speaker=merged)
    moved = [Quotation.model_validate_json(v) for v in theirs.quotations.values()]
    results = [absorb(tables.index, tables.quotations, SPEAKER, q) for q in moved * 2]
    assert [r.delta for r in results] == [0, 1, 0, 0]
    assert results[0].heard == ((T0 + timedelta(hours=1), -1),)
    assert mine is not None
    joined = tables.quotation(mine)
    assert (joined.occurrences, joined.articles) == (3, 3)
    assert sorted(joined.sources) == ["Northern Wire", "Radio Lake", "valley-gazette.example"]
    (new,) = [q for q in moved if q.text == other]
    assert tables.quotation(new.quotation_id).speaker_id == SPEAKER
    # later quotes of those words, by the speaker, are the same quotations
    assert tables.add(_statement("c2", "Z", None, other)) == new.quotation_id
    assert tables.add(_statement(*COPIES[2])) == mine


def test_a_merge_of_a_merge_read_again_adds_nothing_twice() -> None:
    a, b = "person:a", "person:b"
    tables = Tables()
    tables.add(_statement(*COPIES[0]), speaker=a)
    (of_a,) = [Quotation.model_validate_json(v) for v in tables.quotations.values()]
    absorb(tables.index, tables.quotations, b, of_a)
    of_b = Quotation.model_validate_json(tables.quotations[quotation_key(b, of_a.quotation_id)])
    absorb(tables.index, tables.quotations, SPEAKER, of_b)
    again = absorb(tables.index, tables.quotations, SPEAKER, of_a)
    assert again.delta == 0
    assert tables.quotation(of_a.quotation_id).occurrences == 1


class _CountingIndex(dict[str, bytes]):
    """An index that counts its lookups."""

    lookups = 0

    def get(self, key: str, default: Any = None) -> Any:
        self.lookups += 1
        return super().get(key, default)


def test_the_same_words_again_cost_one_lookup_and_short_quotes_stay_apart() -> None:
    index = _CountingIndex()
    words = "We will not accept any deal that leaves our farmers without water this summer."
    qid = identify_in(index, "person:a-b", words)
    assert index.lookups > 2  # a new quote: its shingles, one lookup each
    index.lookups = 0
    assert identify_in(index, "person:a-b", f"“{words.upper()}”") == qid
    assert index.lookups == 1
    # a quote too short for a shingle matches only its exact words
    short = identify_in(index, "person:a-b", "Not now.")
    assert identify_in(index, "person:a-b", "not NOW") == short != qid
    assert identify_in(index, "person:a-b", "Not now, maybe later.") != short

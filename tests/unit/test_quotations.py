import itertools
from datetime import UTC, datetime, timedelta

import pytest

from streams.app.quotations import count, outlet, quotation_key
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


class Tables:
    def __init__(self) -> None:
        self.index: dict[str, bytes] = {}
        self.quotations: dict[str, bytes] = {}

    def add(self, statement: Statement, speaker: str = SPEAKER) -> str | None:
        tally = Tally(op="add", speaker=speaker, statement=statement)
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
    retract = Tally(op="retract", speaker=SPEAKER, statement=_statement(*COPIES[2]))
    result = count(tables.index, tables.quotations, SPEAKER, retract, at=T0)
    assert (result.quotation_id, result.delta, result.sign, result.at) == (qid, 0, -1, T0)
    assert qid is not None
    quotation = tables.quotation(qid)
    assert (quotation.occurrences, quotation.articles, quotation.sources) == (
        1,
        1,
        {"Northern Wire": 1},
    )
    last = Tally(op="retract", speaker=SPEAKER, statement=_statement(*COPIES[0]))
    assert count(tables.index, tables.quotations, SPEAKER, last, at=T0).delta == -1
    assert tables.quotations == {}


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
    added = count(tables.index, tables.quotations, SPEAKER, Tally(op="add", speaker=SPEAKER,
                  statement=said), at=T0)  # fmt: skip
    assert (added.quotation_id, added.delta, added.sign, added.at) == (None, 0, 1, T0)
    assert tables.quotations == {}
    retract = Tally(op="retract", speaker=SPEAKER, statement=said)
    taken = count(tables.index, tables.quotations, SPEAKER, retract, at=T0)
    assert (taken.quotation_id, taken.sign, taken.at) == (None, -1, T0)


def test_a_move_takes_the_quotation_from_the_old_speaker_to_the_new() -> None:
    from streams.app.ledger import record

    old, new = "person:lindqvist", SPEAKER
    before = _statement(*COPIES[0])
    before = before.model_copy(
        update={"speaker": before.speaker.model_copy(update={"id": old, "name": "Lindqvist"})}
    )
    ledger, first = record(None, before, partition=0, offset=0, at=T0)
    _, moved = record(ledger, _statement(*COPIES[0]), partition=0, offset=1, at=T0)
    tables = Tables()
    for tally in [*first, *moved]:
        count(tables.index, tables.quotations, tally.speaker, tally, at=T0)
    assert [t.op for t in moved] == ["retract", "add"]
    assert [k.split("|")[0] for k in tables.quotations] == [new]


def test_an_earlier_occurrence_moves_where_the_quotation_was_first_heard() -> None:
    tables = Tables()
    later = _statement(*COPIES[0])
    earlier = _statement(*COPIES[2]).model_copy(update={"published_at": T0 - timedelta(days=1)})
    first = count(tables.index, tables.quotations, SPEAKER, Tally(op="add", speaker=SPEAKER,
                  statement=later), at=T0)  # fmt: skip
    assert first.heard == ((T0, 1),)
    second = count(tables.index, tables.quotations, SPEAKER, Tally(op="add", speaker=SPEAKER,
                   statement=earlier), at=T0)  # fmt: skip
    assert second.heard == ((T0, -1), (T0 - timedelta(days=1), 1))
    assert second.quotation_id == first.quotation_id

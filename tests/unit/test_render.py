"""Readable tail lines, the speakers table, SSE positions and the OpenAPI description."""

from __future__ import annotations

from streams.app.events import format_event_id, parse_event_id
from streams.app.openapi import openapi
from streams.app.views import stance_rows
from streams.cli.render import readable, speakers_table


def record(value: object, key: str = "k") -> dict[str, object]:
    return {"topic": "t", "partition": 1, "offset": 7, "timestamp": 0, "key": key, "value": value}


def test_a_statement_reads_as_speaker_cue_and_quote() -> None:
    statement = {
        "speaker": {"id": "person:a-b", "name": "Ann Bell", "type": "person", "mention": "she"},
        "cue": "said",
        "kind": "direct",
        "content": "We will  win.",
        "stances": [{"target": "the plan", "polarity": "against", "score": -0.5}],
    }
    line = readable(record(statement))
    assert line == (
        '00:00:00 p1@7 Ann Bell (person, as "she") said [direct]: “We will win.”  '
        "stances: -the plan"
    )


def test_dead_letters_articles_and_others() -> None:
    dead = {"topic": "raw", "partition": 0, "offset": 3, "key": "x", "stage": "decode",
            "error": "not JSON"}  # fmt: skip
    assert "DEAD decode raw[0]@3 key=x: not JSON" in readable(record(dead))
    article = {"article_id": "a1", "text": "Body text.", "title": "Headline", "source": "Feed"}
    assert readable(record(article)).endswith("a1 (Feed) Headline — 10 chars")
    assert readable(record([1, 2])).endswith("k: [1, 2]")


def test_speakers_table_aligns_counts() -> None:
    rows = [
        {"id": "person:a", "name": "A", "type": "person", "statements": 12, "articles": 3,
         "top_stances": [{"target": "t", "favor": 1, "neutral": 0, "against": 2}]},
    ]  # fmt: skip
    table = speakers_table(rows).splitlines()
    assert table[0].split() == ["speaker", "type", "statements", "articles", "top", "stances", "id"]
    assert "t 1+/0=/2-" in table[2] and table[2].rstrip().endswith("person:a")


def test_event_ids_round_trip_and_junk_is_ignored() -> None:
    positions = {0: 13, 3: 0, 1: 5}
    assert format_event_id(positions) == "0-13.1-5.3-0"
    assert parse_event_id(format_event_id(positions)) == positions
    assert parse_event_id("garbage.-1-2.x-y") == {}
    assert parse_event_id(None) == {}
    # numbers past what a partition or a Kafka offset can be are junk too
    assert parse_event_id(f"0-{1 << 63}.1-5") == {1: 5}
    assert parse_event_id(f"0-{'9' * 5000}.{'9' * 30}-1") == {}


def test_stance_rows_sort_by_mentions_with_net_score() -> None:
    rows = stance_rows(
        {
            "a": {"favor": 1, "against": 0, "neutral": 0},
            "b": {"favor": 0, "against": 3, "neutral": 1},
        }
    )
    assert [(r["target"], r["total"], r["net"]) for r in rows] == [("b", 4, -0.75), ("a", 1, 1.0)]


def test_openapi_components_resolve() -> None:
    spec = openapi()
    schemas = spec["components"]["schemas"]
    text = str(spec)
    for name in ("Article", "Statement", "SpeakerPage", "SpeakerDetail", "Problem", "StanceRow"):
        assert name in schemas
    for ref in {part.split("'")[0] for part in text.split("#/components/schemas/")[1:]}:
        assert ref in schemas, ref

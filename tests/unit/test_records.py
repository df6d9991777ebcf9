"""Records ⇔ schemas: the files in schemas/ are the models' schemas, and instances agree."""

from collections.abc import Callable
from typing import Any

import orjson
import pytest
from jsonschema import ValidationError

from streams import schemas
from streams.codec import Remembered, dumps, loads
from streams.errors import InputError, RecordError
from streams.records import (
    Article,
    ArticleLedger,
    Counted,
    DeadLetter,
    EnrichedArticle,
    Entity,
    Speaker,
    SpeakerMerge,
    SpeakerState,
    SpeakerSummary,
    Stance,
    Statement,
    Tally,
    utcnow,
)
from tests.conftest import SCHEMAS

Validate = Callable[[str, Any], None]


def _statement() -> Statement:
    speaker = Speaker(id="person:a-b", name="A B", type="person", mention="he", start=0, end=2)
    return Statement(
        statement_id="s1",
        article_id="a1",
        speaker=speaker,
        cue="said",
        content="x",
        start=5,
        end=6,
        kind="direct",
        stances=(Stance(target="talks", polarity="favor", score=0.5),),
    )


def test_schema_files_match_the_models() -> None:
    assert schemas.stale(SCHEMAS) == []


@pytest.mark.parametrize(
    ("name", "record"),
    [
        ("article", Article(article_id="a1", text="Hello.")),
        ("entity", Entity(text="Iran", label="GPE", start=0, end=4)),
        ("statement", _statement()),
        (
            "enriched_article",
            EnrichedArticle(
                article_id="a1", fetched_at=utcnow(), model="m", statements=(_statement(),)
            ),
        ),
        (
            "speaker_summary",
            SpeakerSummary(
                id="person:a-b", name="A B", type="person", first_seen=utcnow(), last_seen=utcnow()
            ),
        ),
        (
            "tally",
            Tally(op="add", speaker="person:a-b", partition=1, offset=7, statement=_statement()),
        ),
        (
            "speaker_merge",
            SpeakerMerge(
                id="person:b", into="person:a-b", name="A B", type="person", reason="bare-name"
            ),
        ),
        (
            "dead_letter",
            DeadLetter(topic="t", error="bad", stage="decode", payload="\\xff"),
        ),
    ],
)
def test_records_on_the_wire_validate_and_round_trip(
    name: str, record: Any, validate_wire: Validate
) -> None:
    wire = dumps(record)
    validate_wire(name, orjson.loads(wire))
    assert loads(type(record), wire) == record


def test_dumps_writes_what_orjson_writes_for_the_json_dump() -> None:
    # pydantic's serializer straight to bytes: the same bytes as the two-step encoding
    statement = _statement().model_copy(
        update={"published_at": utcnow(), "title": "Ünïcode “quotes”", "url": "https://x.y/z"}
    )
    for record in (statement, Tally(op="add", speaker="person:a-b", statement=statement)):
        assert dumps(record) == orjson.dumps(record.model_dump(mode="json"))


def test_remembered_decodes_each_value_once_and_forgets_the_least_recently_used() -> None:
    decoded = []

    def decode(value: bytes) -> Any:
        decoded.append(value)
        return orjson.loads(value)

    known = Remembered(decode, orjson.dumps, 2)
    one = b'{"target": "talks"}'
    first = known(one)
    assert first == {"target": "talks"} and decoded == [one]
    assert known(bytes(bytearray(one))) is first  # equal bytes, another object: no decoding
    deal = {"target": "deal"}
    two = known.written(deal)
    assert two == orjson.dumps(deal) and known(two) is deal  # written: known as it was
    assert known(one) is first  # used last: "two" is the least recently used now
    war = {"target": "war"}
    assert known(known.written(war)) is war  # "two" forgotten
    assert known(one) is first and decoded == [one]
    again = known(two)  # decoded again, to an equal value
    assert again == deal and again is not deal and decoded == [one, two]
    with pytest.raises(orjson.JSONDecodeError):
        known(b"{not json")


def test_speaker_state_validates(validate_wire: Validate) -> None:
    summary = SpeakerSummary(
        id="org:x", name="X", type="org", first_seen=utcnow(), last_seen=utcnow()
    )
    state = SpeakerState(summary=summary, applied={"0": 12})
    validate_wire("speaker_state", orjson.loads(dumps(state)))
    ledger = ArticleLedger(
        statements={"s1": Counted(speaker="org:x", partition=0, offset=12, opened=True)},
        updated_at=utcnow(),
    )
    validate_wire("article_ledger", orjson.loads(dumps(ledger)))


@pytest.mark.parametrize(
    "obj",
    [
        {"article_id": "a1"},  # no text
        {"article_id": "", "text": "x", "fetched_at": "2026-01-01T00:00:00Z"},
        {"article_id": "a1", "text": 3, "fetched_at": "2026-01-01T00:00:00Z"},
        {"article_id": "a1", "text": "x", "fetched_at": "2026-01-01T00:00:00Z", "extra": 1},
        {"article_id": "a1", "text": "x", "fetched_at": "yesterday"},
    ],
)
def test_bad_articles_fail_both_model_and_schema(
    obj: dict[str, Any], validate_wire: Validate
) -> None:
    with pytest.raises(RecordError):
        loads(Article, orjson.dumps(obj))
    with pytest.raises(ValidationError):
        validate_wire("article", {"schema_version": 1, **obj})


def test_invalid_json_is_an_input_error_not_a_crash() -> None:
    with pytest.raises(InputError, match="not valid JSON"):
        loads(Article, b"\xff{")


def test_records_are_immutable() -> None:
    article = Article(article_id="a1", text="x")
    with pytest.raises(Exception, match="frozen"):
        article.text = "y"  # type: ignore[misc]


def _properties(node: Any, where: str) -> list[tuple[str, Any]]:
    """Every (path, property schema) under ``node``, nested definitions included."""
    found: list[tuple[str, Any]] = []
    if isinstance(node, dict):
        for name, prop in (node.get("properties") or {}).items():
            found.append((f"{where}.{name}", prop))
        for key, value in node.items():
            if key != "properties":
                found += _properties(value, f"{where}/{key}")
            else:
                for name, prop in value.items():
                    found += _properties(prop, f"{where}.{name}")
    elif isinstance(node, list):
        for n, item in enumerate(node):
            found += _properties(item, f"{where}[{n}]")
    return found


@pytest.mark.parametrize("filename", sorted(p.name for p in SCHEMAS.glob("*.schema.json")))
def test_every_property_of_every_schema_has_a_description(filename: str) -> None:
    schema = orjson.loads((SCHEMAS / filename).read_bytes())
    properties = _properties(schema, filename)
    assert properties
    missing = [path for path, prop in properties if not prop.get("description")]
    assert not missing, f"properties without a description: {missing}"

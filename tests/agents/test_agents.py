"""The agents in Faust's test context: no broker, sends captured at the topic seam."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from streams.app.factory import create_app
from streams.app.parts import StreamsApp
from streams.codec import dumps
from streams.records import Article, SpeakerState, Statement, Tally
from streams.settings import Settings
from tests.conftest import SEED


class Captured:
    """Stands in for ``Topic.send``: records what an agent publishes.

    Like the real one it returns the delivery's future, resolved at once; ``fail`` makes the
    broker refuse the records whose key it names (the future fails), ``refuse`` makes the
    client refuse them (``send`` raises), each ``times`` times (None: always).
    """

    def __init__(self) -> None:
        self.sent: list[tuple[bytes | None, bytes]] = []
        self.fail: dict[bytes | None, int | None] = {}
        self.refuse: dict[bytes | None, int | None] = {}

    @staticmethod
    def _due(rules: dict[bytes | None, int | None], key: bytes | None) -> bool:
        if key not in rules:
            return False
        left = rules[key]
        if left is not None:
            if left <= 0:
                return False
            rules[key] = left - 1
        return True

    async def __call__(
        self, *, key: bytes | None = None, value: bytes, **_: Any
    ) -> asyncio.Future[None]:
        if self._due(self.refuse, key):
            raise RuntimeError("the client refused the record")
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self._due(self.fail, key):
            done.set_exception(RuntimeError("the broker refused the record"))
        else:
            self.sent.append((key, value))
            done.set_result(None)
        return done

    def values(self) -> list[Any]:
        return [orjson.loads(v) for _, v in self.sent]


@pytest.fixture()
async def parts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[StreamsApp]:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        data_dir=tmp_path,
        nlp_processes=0,
        batch_timeout=0.05,
        max_article_chars=50_000,
        # Faust's test context hands each event to every actor of a concurrent agent (a
        # real topic hands it to one: checked on the broker), so one actor here
        enrich_concurrency=1,
    )
    parts = create_app(settings)
    parts.app.finalize()
    parts.app.flow_control.resume()
    for name in ("enriched", "unidentified", "statements", "deadletter"):
        monkeypatch.setattr(getattr(parts, name), "send", Captured())
    # the global registry table needs a running producer to partition by key; a dict
    # stands in for it here (the integration tests use the real one)
    parts.registry_table = {}  # type: ignore[assignment]
    yield parts
    parts.runner.stop()


async def _until(predicate: Any, timeout: float = 60.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_enrich_publishes_the_article_and_its_statements(parts: StreamsApp) -> None:
    text = SEED.read_text(encoding="utf-8")
    article = Article(article_id="seed", text=text)
    enriched, statements = parts.enriched.send, parts.unidentified.send
    async with parts.app.agents["enrich"].test_context() as agent:
        await agent.put(dumps(article), key=b"seed")
        await _until(lambda: enriched.sent)  # type: ignore[attr-defined]
    ((key, value),) = enriched.sent  # type: ignore[attr-defined]
    assert key == b"seed"
    record = orjson.loads(value)
    assert record["article_id"] == "seed"
    assert len(statements.sent) == len(record["statements"]) > 0  # type: ignore[attr-defined]
    for skey, svalue in statements.sent:  # type: ignore[attr-defined]
        assert skey == orjson.loads(svalue)["speaker"]["id"].encode()
    assert "person:abbas-araghchi" in parts.registry_table


@pytest.mark.parametrize(
    ("payload", "stage"),
    [
        (b"\xff\xfe not json", "decode"),
        (b'{"article_id": "x"}', "validate"),
        (b'{"article_id": "x", "text": "   "}', "validate"),
        (orjson.dumps({"article_id": "x", "text": "word " * 20_000}), "validate"),
    ],
    ids=["garbage", "no-text", "blank-text", "too-long"],
)
async def test_bad_input_becomes_a_dead_letter_and_the_agent_goes_on(
    parts: StreamsApp, payload: bytes, stage: str
) -> None:
    dead, enriched = parts.deadletter.send, parts.enriched.send
    good = Article(article_id="good", text="“All is well,” Anna Berg said.")
    async with parts.app.agents["enrich"].test_context() as agent:
        await agent.put(payload, key=b"bad")
        await agent.put(dumps(good), key=b"good")
        await _until(lambda: dead.sent and enriched.sent)  # type: ignore[attr-defined]
    (letter,) = dead.values()  # type: ignore[attr-defined]
    assert letter["stage"] == stage
    assert letter["key"] == "bad"
    assert letter["error"]
    assert [v["article_id"] for v in enriched.values()] == ["good"]  # type: ignore[attr-defined]


async def test_an_article_whose_results_cannot_be_published_is_a_dead_letter(
    parts: StreamsApp,
) -> None:
    """The broker refuses one article's enriched record: that article is a dead letter with
    the reason, none of its statements go out, and the articles around it are published."""
    dead, enriched = parts.deadletter.send, parts.enriched.send
    enriched.fail[b"refused"] = None  # type: ignore[attr-defined]
    enriched.refuse[b"refused-by-client"] = None  # type: ignore[attr-defined]
    names = ["before", "refused", "refused-by-client", "after"]
    async with parts.app.agents["enrich"].test_context() as agent:
        for name in names:
            text = f"“The {name} plan works,” Anna Berg said."
            await agent.put(dumps(Article(article_id=name, text=text)), key=name.encode())
        await _until(lambda: len(dead.sent) == 2 and len(enriched.sent) == 2)  # type: ignore[attr-defined]
    letters = {v["key"]: v for v in dead.values()}  # type: ignore[attr-defined]
    assert set(letters) == {"refused", "refused-by-client"}
    assert {v["stage"] for v in letters.values()} == {"produce"}
    assert "broker refused" in letters["refused"]["error"]
    assert "client refused" in letters["refused-by-client"]["error"]
    assert [v["article_id"] for v in enriched.values()] == ["before", "after"]  # type: ignore[attr-defined]
    published = {v["article_id"] for v in parts.unidentified.send.values()}  # type: ignore[attr-defined]
    assert published == {"before", "after"}
    assert parts.metrics.articles_enriched == 2


async def test_an_article_whose_outputs_are_over_the_message_limit_is_a_dead_letter(
    parts: StreamsApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The issue's case at a smaller scale: the URL is copied into every statement, and the
    enriched record grows past the limit. Nothing of it is sent; its neighbours are."""
    from streams.app import agents

    monkeypatch.setattr(agents, "MAX_MESSAGE_BYTES", 16_384)
    dead, enriched = parts.deadletter.send, parts.enriched.send
    quotes = " ".join(f"“Point {n} stands,” Anna Berg said." for n in range(30))
    big = Article(article_id="big", url="https://example.org/" + "x" * 2000, text=quotes)
    async with parts.app.agents["enrich"].test_context() as agent:
        for article in (Article(article_id="small-1", text=quotes[:200]), big):
            await agent.put(dumps(article), key=article.article_id.encode())
        await agent.put(dumps(Article(article_id="small-2", text=quotes[:200])), key=b"small-2")
        await _until(lambda: dead.sent and len(enriched.sent) == 2)  # type: ignore[attr-defined]
    (letter,) = dead.values()  # type: ignore[attr-defined]
    assert letter["key"] == "big" and letter["stage"] == "produce"
    assert "over the message limit of 16384 bytes" in letter["error"]
    assert [v["article_id"] for v in enriched.values()] == ["small-1", "small-2"]  # type: ignore[attr-defined]
    published = {v["article_id"] for v in parts.unidentified.send.values()}  # type: ignore[attr-defined]
    assert "big" not in published


async def test_a_dead_letter_waits_until_the_broker_has_it(parts: StreamsApp) -> None:
    dead, enriched = parts.deadletter.send, parts.enriched.send
    dead.fail[b"bad"] = 2  # type: ignore[attr-defined]
    good = Article(article_id="good", text="“All is well,” Anna Berg said.")
    async with parts.app.agents["enrich"].test_context() as agent:
        await agent.put(b"{not json", key=b"bad")
        await agent.put(dumps(good), key=b"good")
        await _until(lambda: dead.sent and enriched.sent)  # type: ignore[attr-defined]
    (letter,) = dead.values()  # type: ignore[attr-defined]
    assert letter["key"] == "bad" and dead.fail[b"bad"] == 0  # type: ignore[attr-defined]


async def test_an_article_id_reused_for_another_text_is_a_dead_letter(parts: StreamsApp) -> None:
    dead, enriched = parts.deadletter.send, parts.enriched.send
    first = Article(article_id="story", text="“The bridge opens,” Anna Berg said.")
    second = Article(article_id="story", text="“The bridge closes,” Anna Berg said.")
    async with parts.app.agents["enrich"].test_context() as agent:
        await agent.put(dumps(first), key=b"story")
        await _until(lambda: enriched.sent)  # type: ignore[attr-defined]
        await agent.put(dumps(second), key=b"story")
        await agent.put(dumps(first), key=b"story")  # a redelivery of the first: processed
        await _until(lambda: dead.sent and len(enriched.sent) == 2)  # type: ignore[attr-defined]
    (letter,) = dead.values()  # type: ignore[attr-defined]
    assert letter["stage"] == "conflict" and letter["key"] == "story"
    assert "already used for another text" in letter["error"]
    assert orjson.loads(letter["payload"])["text"] == second.text
    first_ids, again_ids = (
        [s["statement_id"] for s in v["statements"]]
        for v in enriched.values()  # type: ignore[attr-defined]
    )
    assert first_ids and first_ids == again_ids


async def test_statements_are_counted_once_through_the_ledger_and_the_aggregate(
    parts: StreamsApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    from streams.records import Speaker

    speaker = Speaker(
        id="person:anna-berg", name="Anna Berg", type="person", mention="Berg", start=0, end=4
    )
    other = speaker.model_copy(update={"id": "person:sam-lee", "name": "Sam Lee"})

    def statement(sid: str, article: str = "a1", by: Speaker = speaker) -> bytes:
        return dumps(
            Statement(
                statement_id=sid,
                article_id=article,
                speaker=by,
                cue="said",
                content="x",
                start=0,
                end=1,
                kind="direct",
            )
        )

    routed, tallies = Captured(), Captured()
    monkeypatch.setattr(parts.by_article, "send", routed)
    monkeypatch.setattr(parts.tallies, "send", tallies)
    sent = [("s1", "a1"), ("s2", "a1"), ("s1", "a1"), ("s3", "a2"), ("s2", "a1")]
    published = parts.statements.send
    async with parts.app.agents["quotation"].test_context() as agent:
        for sid, article in sent:
            await agent.put(statement(sid, article), key=speaker.id.encode())
        await _until(lambda: len(routed.sent) == len(sent))
    assert [k for k, _ in routed.sent] == [a.encode() for _, a in sent]
    # on statements, keyed by speaker, each with its quotation: the same words, one id
    assert [k for k, _ in published.sent] == [speaker.id.encode()] * len(sent)  # type: ignore[attr-defined]
    assert len({v["quotation_id"] for v in published.values()}) == 1  # type: ignore[attr-defined]
    # put() returns once the agent has taken the event; the agents take the last one (another
    # speaker's) only after they are done with every event before it
    async with parts.app.agents["ledger"].test_context() as agent:
        for key, value in routed.sent:
            await agent.put(value, key=key)
        await agent.put(statement("s9", "a9", other), key=b"a9")
        await _until(lambda: any(k == other.id.encode() for k, _ in tallies.sent))
    mine = [(k, v) for k, v in tallies.sent if k == speaker.id.encode()]
    assert len(mine) == 3  # the copies of s1 and s2 are no tallies
    async with parts.app.agents["aggregate"].test_context() as agent:
        for key, value in [*mine, mine[0]]:  # one tally delivered twice
            await agent.put(value, key=key)
        last = [(k, v) for k, v in tallies.sent if k == other.id.encode()]
        await agent.put(last[0][1], key=last[0][0])
        await _until(lambda: parts.speakers.get(other.id) is not None)
        state = SpeakerState.model_validate_json(parts.speakers[speaker.id])
    assert parts.metrics.statements_counted == 4
    assert state.summary.statements == 3
    assert state.summary.articles == 2
    assert [r.statement_id for r in state.summary.recent] == ["s3", "s2", "s1"]


async def test_a_merge_moves_the_speakers_quotations_and_timeline(
    parts: StreamsApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A merge sends the merged id's aggregate, its buckets and its quotations to the speaker
    it is; read again (a crash before the commit), it adds nothing more there."""
    from datetime import UTC, datetime

    from streams.app.tables import prefixed
    from streams.app.timeline import buckets
    from streams.records import Quotation, Speaker

    day = datetime(2026, 11, 30, 9, tzinfo=UTC)
    bare = Speaker(id="person:berg", name="Berg", type="person", mention="Berg", start=0, end=4)
    full = bare.model_copy(update={"id": "person:anna-berg", "name": "Anna Berg"})
    words = "We will open the bridge again before the spring floods come"

    def add(sid: str, by: Speaker, content: str, offset: int) -> tuple[bytes, bytes]:
        statement = Statement(
            statement_id=sid,
            article_id=f"a-{sid}",
            speaker=by,
            cue="said",
            content=content,
            start=0,
            end=len(content),
            kind="direct",
            published_at=day,
        )
        # no quotation_id: the aggregate identifies the words itself (the quotation agent's
        # index is not written in this test)
        tally = Tally(op="add", speaker=by.id, offset=offset, statement=statement)
        return by.id.encode(), dumps(tally)

    tallies = Captured()
    monkeypatch.setattr(parts.tallies, "send", tallies)
    merge = Tally(op="merge", speaker=bare.id, into=full.id, name=full.name, type="person")
    async with parts.app.agents["aggregate"].test_context() as agent:
        for key, value in [
            add("s1", full, words, 0),
            add("s2", bare, words + ", the mayor said", 1),
            add("s3", bare, "Nobody will be left behind", 2),
        ]:
            await agent.put(value, key=key)
        for _ in range(2):
            await agent.put(dumps(merge), key=bare.id.encode())
        await _until(lambda: len(tallies.sent) >= 8)
        ops = [orjson.loads(v)["op"] for _, v in tallies.sent]
        assert ops == ["absorb", "buckets", "quotation", "quotation"] * 2
        assert {k for k, _ in tallies.sent} == {full.id.encode()}
        for key, value in list(tallies.sent):
            await agent.put(value, key=key)
        await agent.put(add("s4", full, "The bridge is safe", 3)[1], key=full.id.encode())
        await _until(lambda: "The bridge is safe" in str(parts.speakers.get(full.id)))
    state = SpeakerState.model_validate_json(parts.speakers[full.id])
    assert (state.summary.statements, state.summary.quotations) == (4, 3)
    prefix = f"{full.id}|"
    mine = [
        Quotation.model_validate_json(v)
        for n in range(parts.settings.partitions)
        for _, v in prefixed(parts.quotations, prefix, n)
    ]
    assert sorted(q.occurrences for q in mine) == [1, 1, 2]
    (day_bucket,) = buckets(parts.timeline, full.id, "day", now=day)
    assert (day_bucket["statements"], day_bucket["quotations"]) == (4, 3)


def test_the_producer_lingers_as_configured(tmp_path: Path) -> None:
    default = create_app(Settings(_env_file=None, data_dir=tmp_path))  # type: ignore[call-arg]
    assert default.app.conf.producer_linger == pytest.approx(0.01)
    tuned = create_app(
        Settings(_env_file=None, data_dir=tmp_path, producer_linger=0.05)  # type: ignore[call-arg]
    )
    assert tuned.app.conf.producer_linger == pytest.approx(0.05)


def test_the_registry_follows_the_global_table_entry_by_entry(tmp_path: Path) -> None:
    """Another worker's writes reach the registry through the table's changelog batches, one
    entry at a time: the registry object is never rebuilt."""
    from types import SimpleNamespace

    from streams.records import KnownSpeaker

    parts = create_app(Settings(_env_file=None, data_dir=tmp_path))  # type: ignore[call-arg]

    def batch(*names: str) -> list[Any]:
        out = []
        for name in names:
            entry = KnownSpeaker(
                id=f"person:{name.lower().replace(' ', '-')}", name=name, type="person"
            )
            value = dumps(entry)
            out.append(
                SimpleNamespace(
                    key=entry.id, value=value, message=SimpleNamespace(value=value, partition=0)
                )
            )
        return out

    parts.registry_table.apply_changelog_batch(batch("Anna Berg"))
    registry = parts.registry()
    assert registry.match("Anna Berg", "person") is not None
    parts.registry_table.apply_changelog_batch(batch("Olena Zelenska", "Abbas Araghchi"))
    assert parts.registry() is registry
    assert len(registry) == 3
    found = registry.match("Araghchi", "person")
    assert found is not None and found.id == "person:abbas-araghchi"

"""Hostile input over HTTP and Kafka, against workers on the real broker: nothing lost,
nothing leaked, nothing executed."""

from __future__ import annotations

import asyncio
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from streams.kafka.clients import ensure_topics, producer
from streams.settings import Settings
from streams.sources.replay import replay
from tests.integration.conftest import PUSH_TOKEN, Worker, free_port
from tests.integration.test_api import _events, get, post
from tests.integration.test_pipeline import read_topic

pytestmark = pytest.mark.integration

AUTH = {"Authorization": f"Bearer {PUSH_TOKEN}", "Content-Type": "application/json"}
NAMES = [
    "Ilse Varga", "Oskar Lindqvist", "Priya Raman", "Tomasz Wolski", "Amara Okonkwo",
    "Henrik Dahl", "Lucia Ferreira", "Kenji Matsuda", "Nadia Haddad", "Rafael Ortiz",
]  # fmt: skip


def ordinary(n: int, name: str) -> dict[str, Any]:
    surname = name.split()[-1]
    return {
        "article_id": f"ordinary-{n}",
        "url": f"https://example.org/news/{n}",
        "text": f"“The bridge over the river will reopen in May,” {name} said on Monday. "
        f"{surname} added that the repairs had cost more than planned.",
    }


def quotes(name: str, count: int) -> str:
    return " ".join(f"“Point {n} of the plan stands,” {name} said." for n in range(count))


def _metric(settings: Settings, name: str) -> float:
    status, body, _ = get(settings, "/metrics")
    assert status == 200
    for line in body.decode().splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"no metric {name}")


# --- High: one bad article loses nothing around it ---------------------------------------------

#: Largest record the `articles.enriched` topic of this test's worker accepts: an ordinary
#: article's record is a few KB, one with a 2,000-character URL and 30 statements is ~80 KB.
ENRICHED_LIMIT = 32_768


@pytest.fixture(scope="module")
def small_topics_worker(
    kafka: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Worker]:
    settings = kafka.model_copy(
        update={
            "topic_prefix": "hostile.",
            "app_id": "streams-hostile",
            "web_port": free_port(),
            "push_timeout": 2.0,
        }
    )

    async def topics() -> None:
        # articles.enriched first, with the small limit; ensure_topics adds the others
        admin = AIOKafkaAdminClient(bootstrap_servers=settings.broker)
        await admin.start()
        try:
            enriched = NewTopic(
                name=settings.topic("articles.enriched"),
                num_partitions=settings.partitions,
                replication_factor=1,
                topic_configs={"max.message.bytes": str(ENRICHED_LIMIT)},
            )
            await admin.create_topics([enriched])
        finally:
            await admin.close()
        await ensure_topics(settings)

    asyncio.run(topics())
    worker = Worker(settings, tmp_path_factory.mktemp("hostile") / "worker.log").start()
    try:
        yield worker
    finally:
        worker.stop()


def test_an_article_that_cannot_be_published_loses_nothing_around_it(
    small_topics_worker: Worker, validate_wire: Any
) -> None:
    settings = small_topics_worker.settings
    huge_url = "https://example.org/" + "x" * 300_000
    over_broker = {
        "article_id": "over-the-broker-limit",
        "url": "https://example.org/" + "y" * 1990,
        "text": quotes("Greta Sorensen", 30),
    }
    over_fields = {"article_id": "huge-url", "url": huge_url, "text": quotes("Greta Sorensen", 30)}
    # the push door refuses the 300 KB URL itself
    status, answer = post(settings, "/articles", orjson.dumps(over_fields), **AUTH)
    assert status == 422 and answer["fields"][0]["loc"] == ["url"], answer

    async def produce_raw() -> None:  # the other door: any producer writing articles.raw
        client = producer(settings)
        await client.start()
        try:
            await client.send_and_wait(
                settings.topic("articles.raw"), orjson.dumps(over_fields), key=b"huge-url"
            )
        finally:
            await client.stop()

    articles = [ordinary(n, name) for n, name in enumerate(NAMES[:9])]
    for article in articles[:3]:
        assert post(settings, "/articles", orjson.dumps(article), **AUTH)[0] == 202
    asyncio.run(produce_raw())
    assert post(settings, "/articles", orjson.dumps(over_broker), **AUTH)[0] == 202
    for article in articles[3:]:
        assert post(settings, "/articles", orjson.dumps(article), **AUTH)[0] == 202

    wanted = {a["article_id"] for a in articles}
    deadline = time.monotonic() + 180
    while True:
        enriched = {
            r["value"]["article_id"]: r["value"] for r in read_topic(settings, "articles.enriched")
        }
        dead = {r["key"]: r["value"] for r in read_topic(settings, "deadletter")}
        if wanted <= set(enriched) and {"huge-url", "over-the-broker-limit"} <= set(dead):
            break
        assert time.monotonic() < deadline, (wanted - set(enriched), set(dead))
        time.sleep(1)
    assert small_topics_worker.proc is not None and small_topics_worker.proc.poll() is None
    for key, stage in (("huge-url", "validate"), ("over-the-broker-limit", "produce")):
        validate_wire("dead_letter", dead[key])
        assert dead[key]["stage"] == stage, dead[key]
    assert "url" in dead["huge-url"]["error"]
    assert "TooLarge" in dead["over-the-broker-limit"]["error"], dead["over-the-broker-limit"]
    assert "over-the-broker-limit" not in enriched and "huge-url" not in enriched
    published = read_topic(settings, "statements")
    assert not {r["value"]["article_id"] for r in published} & {"huge-url", "over-the-broker-limit"}

    # every ordinary article's statements are counted in the table
    expected = {
        s["statement_id"]: s["speaker"]["id"] for a in wanted for s in enriched[a]["statements"]
    }
    assert len(expected) >= len(wanted)
    deadline = time.monotonic() + 60
    while True:
        counted: set[str] = set()
        for speaker in set(expected.values()):
            status, body, _ = get(settings, f"/speakers/{speaker}")
            if status == 200:
                counted |= {r["statement_id"] for r in orjson.loads(body)["recent"]}
        if set(expected) <= counted:
            break
        assert time.monotonic() < deadline, set(expected) - counted
        time.sleep(1)


# --- the push door ------------------------------------------------------------------------------


async def _raw(
    settings: Settings, head: list[str], pieces: list[bytes], pause: float = 0.0
) -> tuple[int, bytes]:
    """Send a request by hand, its body in ``pieces`` ``pause`` seconds apart."""
    reader, writer = await asyncio.open_connection("127.0.0.1", settings.web_port)
    lines = ["POST /articles HTTP/1.1", f"Host: 127.0.0.1:{settings.web_port}", "Connection: close"]
    writer.write(("\r\n".join(lines + head) + "\r\n\r\n").encode("utf-8", "surrogateescape"))
    try:
        for piece in pieces:
            await asyncio.sleep(pause)
            writer.write(piece)
            await writer.drain()
    except ConnectionError:
        pass  # the server answered and closed before the end of the body
    answer = await asyncio.wait_for(reader.read(), 30)
    writer.close()
    head_bytes, _, body = answer.partition(b"\r\n\r\n")
    return int(head_bytes.split(b" ", 2)[1]), body


def _chunked(body: bytes, size: int) -> list[bytes]:
    pieces = [body[i : i + size] for i in range(0, len(body), size)]
    return [f"{len(p):x}\r\n".encode() + p + b"\r\n" for p in pieces] + [b"0\r\n\r\n"]


def _auth_lines(length: int | None = None) -> list[str]:
    lines = [f"Authorization: Bearer {PUSH_TOKEN}", "Content-Type: application/json"]
    return lines + ([f"Content-Length: {length}"] if length is not None else [])


def test_the_push_body_is_read_whole_however_it_arrives(kafka: Settings, worker: Worker) -> None:
    limit = kafka.push_max_bytes
    article = orjson.dumps({"text": "“Split bodies work,” Ilse Varga said.", "article_id": "split"})
    # exactly the limit: JSON with whitespace after it
    full = orjson.dumps({"text": "“Full bodies work,” Ilse Varga said.", "article_id": "full"})
    full += b" " * (limit - len(full))

    chunked = [*_auth_lines(), "Transfer-Encoding: chunked"]
    pieces = [full[i : i + 65536] for i in range(0, limit, 65536)]

    async def run() -> list[tuple[int, bytes]]:
        return [
            await _raw(kafka, _auth_lines(len(full)), pieces),
            await _raw(kafka, _auth_lines(len(article)), [article[:40], article[40:]], pause=0.3),
            await _raw(kafka, chunked, _chunked(article, 16), pause=0.05),
            await _raw(kafka, chunked, _chunked(full + b" ", 65536)),
            await _raw(kafka, _auth_lines(limit + 1), [full + b" "]),
        ]

    (whole, split, in_chunks, chunked_over, declared_over) = asyncio.run(run())
    assert whole[0] == 202, whole
    assert split[0] == 202 and orjson.loads(split[1])["article_id"] == "split", split
    assert in_chunks[0] == 202, in_chunks
    assert chunked_over[0] == 413, chunked_over
    assert declared_over[0] == 413, declared_over


def test_a_body_slower_than_the_push_timeout_is_refused(small_topics_worker: Worker) -> None:
    settings = small_topics_worker.settings
    article = orjson.dumps({"text": "“Slow bodies end,” Nadia Haddad said."})
    status, body = asyncio.run(
        _raw(settings, _auth_lines(len(article)), [article[:20], article[20:]], pause=3.0)
    )
    assert status == 408 and b"STREAMS_PUSH_TIMEOUT" in body, body


def test_the_push_door_checks_every_limit_and_says_why(kafka: Settings, worker: Worker) -> None:
    status, answer = post(kafka, "/articles", orjson.dumps({"text": "x " * 150_000}), **AUTH)
    assert status == 413 and "STREAMS_MAX_ARTICLE_CHARS" in answer["error"]
    for field, size in (("url", 2049), ("title", 1001), ("source", 257), ("lang", 36)):
        body = orjson.dumps({"text": "Officials said so.", field: "x" * size})
        status, answer = post(kafka, "/articles", body, **AUTH)
        assert status == 422 and answer["fields"][0]["loc"] == [field], (field, answer)
    unknown = {"text": "Officials said so.", **{f"field{n}": n for n in range(30_000)}}
    request = urllib.request.Request(
        f"http://127.0.0.1:{kafka.web_port}/articles",
        data=orjson.dumps(unknown),
        method="POST",
        headers=AUTH,
    )
    try:
        urllib.request.urlopen(request, timeout=30)
        raise AssertionError("accepted")
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    assert status == 422 and len(raw) < 10_000
    assert orjson.loads(raw)["count"] == 30_000


def test_the_token_check_takes_any_header_and_leaks_nothing(
    kafka: Settings, worker: Worker
) -> None:
    article = orjson.dumps({"text": "“Tokens are checked,” Oskar Lindqvist said."})
    lower = {**AUTH, "Authorization": f"bearer {PUSH_TOKEN}"}
    assert post(kafka, "/articles", article, **lower)[0] == 202

    async def run() -> list[tuple[int, bytes]]:
        json_lines = ["Content-Type: application/json", f"Content-Length: {len(article)}"]
        return [
            await _raw(kafka, ["Authorization: Bearer \udcff\udcfe", *json_lines], [article]),
            await _raw(kafka, [f"Authorization: Bearer {PUSH_TOKEN}\x00", *json_lines], [article]),
        ]

    logged = worker.log.stat().st_size
    not_utf8, nul = asyncio.run(run())
    assert not_utf8[0] == 401, not_utf8
    assert nul[0] == 400 and PUSH_TOKEN.encode() not in nul[1], nul
    time.sleep(0.5)
    with worker.log.open("rb") as log:
        log.seek(logged)
        since = log.read()
    assert PUSH_TOKEN.encode() not in since and b"Traceback" not in since, since


def test_an_article_id_reused_for_another_text_is_refused_with_a_reason(
    kafka: Settings, worker: Worker
) -> None:
    first = {"article_id": "reused-id", "text": "“The dam holds,” Priya Raman said on Friday."}
    second = {**first, "text": "“The dam is leaking,” Tomasz Wolski said on Friday."}
    assert post(kafka, "/articles", orjson.dumps(first), **AUTH)[0] == 202
    deadline = time.monotonic() + 120
    while "reused-id" not in {r["key"] for r in read_topic(kafka, "articles.enriched")}:
        assert time.monotonic() < deadline
        time.sleep(1)
    assert post(kafka, "/articles", orjson.dumps(first), **AUTH)[0] == 202  # a redelivery
    status, answer = post(kafka, "/articles", orjson.dumps(second), **AUTH)
    assert status == 409 and "already used for another text" in answer["error"]

    async def produce() -> None:  # past the door: the agent refuses it too
        client = producer(kafka)
        await client.start()
        try:
            topic = kafka.topic("articles.raw")
            await client.send_and_wait(topic, orjson.dumps(second), key=b"reused-id")
        finally:
            await client.stop()

    asyncio.run(produce())
    deadline = time.monotonic() + 120
    while True:
        letters = [r["value"] for r in read_topic(kafka, "deadletter") if r["key"] == "reused-id"]
        if letters:
            break
        assert time.monotonic() < deadline
        time.sleep(1)
    assert letters[0]["stage"] == "conflict" and "another text" in letters[0]["error"]
    texts = {
        r["value"]["content"]
        for r in read_topic(kafka, "statements")
        if r["value"]["article_id"] == "reused-id"
    }
    assert texts and not any("leaking" in t for t in texts)


def test_replay_applies_the_limits(kafka: Settings, worker: Worker, tmp_path: Path) -> None:
    lines = [
        {"article_id": "replay-ok", "text": "“Replays are checked,” Amara Okonkwo said."},
        {"article_id": "replay-long-url", "url": "https://e.org/" + "x" * 3000, "text": "Said."},
        {"article_id": "replay-long-text", "text": "x " * 150_000},
    ]
    path = tmp_path / "articles.jsonl"
    path.write_bytes(b"\n".join(orjson.dumps(line) for line in lines))
    report = asyncio.run(replay(kafka, [path], progress=False))
    assert report.article_ids == ["replay-ok"] and report.produced == 1
    assert len(report.errors) == 2
    assert "url" in report.errors[0] and "STREAMS_MAX_ARTICLE_CHARS" in report.errors[1]


# --- the web server ------------------------------------------------------------------------------


def test_every_answer_carries_the_security_headers(kafka: Settings, worker: Worker) -> None:
    def headers(path: str, **extra: str) -> tuple[int, Any]:
        request = urllib.request.Request(f"http://127.0.0.1:{kafka.web_port}{path}", headers=extra)
        try:
            with urllib.request.urlopen(request, timeout=15) as response:
                return response.status, response.headers
        except urllib.error.HTTPError as exc:
            return exc.code, exc.headers

    status, page = headers("/")
    assert status == 200
    policy = page["Content-Security-Policy"]
    assert "script-src 'sha256-" in policy and "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy and "default-src 'none'" in policy
    for path in ("/", "/speakers", "/health", "/metrics", "/speakers/person:nobody"):
        status, found = headers(path)
        assert found["X-Content-Type-Options"] == "nosniff", path
        assert "frame-ancestors 'none'" in found["Content-Security-Policy"], path
        assert found["Server"] == "streams", path
    # Faust's own pages are off
    assert headers("/router/")[0] == 404
    assert headers("/table/speakers/person:abbas-araghchi/")[0] == 404
    # a name this worker is not reached by (DNS rebinding), a page of another origin
    assert headers("/speakers", Host="attacker.example")[0] == 421
    assert headers("/statements/stream", Origin="http://attacker.example")[0] == 403
    assert headers("/speakers", Origin=f"http://127.0.0.1:{kafka.web_port}")[0] == 200
    # numbers past 64 bits are a bad request, not a crash
    assert headers(f"/speakers?offset={1 << 64}")[0] == 400


def test_event_streams_notice_closed_clients_and_are_limited_per_client(
    kafka: Settings, worker: Worker
) -> None:
    url = f"http://127.0.0.1:{kafka.web_port}/statements/stream"
    per_client = kafka.stream_limit_per_client
    stop = threading.Event()

    def traffic() -> None:  # statements of other speakers keep arriving meanwhile
        n = 0
        while not stop.is_set():
            text = f"“Traffic {n} flows,” Henrik Dahl said."
            post(kafka, "/articles", orjson.dumps({"text": text}), **AUTH)
            n += 1
            stop.wait(0.5)

    async def run() -> tuple[list[int], float, float]:
        async with aiohttp.ClientSession() as session:
            opened = []
            for _ in range(per_client + 1):
                response = await session.get(url, params={"speaker": "person:never-speaks"})
                if response.status == 200:
                    async for line in response.content:
                        if line.startswith(b": connected"):
                            break
                opened.append(response)
            statuses = [r.status for r in opened]
            held = _metric(kafka, "streams_event_streams")
            for response in opened:
                response.close()
            started = time.monotonic()
            while _metric(kafka, "streams_event_streams") > 0:
                assert time.monotonic() - started < 10, "closed streams still held"
                await asyncio.sleep(0.2)
            return statuses, held, time.monotonic() - started

    pusher = threading.Thread(target=traffic)
    pusher.start()
    try:
        statuses, held, noticed = asyncio.run(run())
    finally:
        stop.set()
        pusher.join()
    assert statuses == [200] * per_client + [429]
    assert held == per_client
    assert noticed < 6


def test_a_resume_position_past_the_end_resumes_at_the_end(kafka: Settings, worker: Worker) -> None:
    huge = ".".join(f"{p}-{(1 << 63) - 2}" for p in range(kafka.partitions))
    body = orjson.dumps({"text": "“The ferry runs again,” Lucia Ferreira said on Sunday."})

    def push() -> None:
        assert post(kafka, "/articles", body, **AUTH)[0] == 202

    events = asyncio.run(
        _events(kafka, 1, speaker="person:lucia-ferreira", last_id=huge, after=push)
    )
    assert events and "ferry" in events[0][1]["content"]

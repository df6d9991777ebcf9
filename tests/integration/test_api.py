"""The worker's HTTP API against a worker on the real broker, after a replay of the seed."""

from __future__ import annotations

import asyncio
import urllib.error
import urllib.request
from typing import Any

import aiohttp
import jsonschema
import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families

from streams.demo import demo_flow
from streams.records import SpeakerSummary
from streams.settings import Settings
from tests.conftest import SEED
from tests.integration.conftest import PUSH_TOKEN, Worker

pytestmark = pytest.mark.integration

SEED_SPEAKERS = {
    "person:abbas-araghchi",
    "person:donald-trump",
    "person:vladimir-putin",
    "org:kremlin",
    "place:turkey",
    "org:turkish-presidential-palace",
}


def get(settings: Settings, path: str, **headers: str) -> tuple[int, bytes, str]:
    request = urllib.request.Request(f"http://127.0.0.1:{settings.web_port}{path}", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return response.status, response.read(), response.headers.get("Content-Type", "")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), exc.headers.get("Content-Type", "")


def post(settings: Settings, path: str, body: bytes, **headers: str) -> tuple[int, Any]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{settings.web_port}{path}", data=body, method="POST", headers=headers
    )
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return response.status, orjson.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, orjson.loads(exc.read())


@pytest.fixture(scope="module")
def replayed(kafka: Settings, worker: Worker) -> list[SpeakerSummary]:
    return asyncio.run(demo_flow(kafka, SEED, timeout=240))


def test_speakers_lists_the_seed_speakers(kafka: Settings, replayed: Any) -> None:
    status, body, content_type = get(kafka, "/speakers?limit=1000")
    assert status == 200 and content_type.startswith("application/json")
    page = orjson.loads(body)
    ids = {item["id"] for item in page["items"]}
    assert ids >= SEED_SPEAKERS
    assert page["total"] == len(page["items"])
    counts = [item["statements"] for item in page["items"]]
    assert counts == sorted(counts, reverse=True)
    araghchi = next(i for i in page["items"] if i["id"] == "person:abbas-araghchi")
    assert araghchi["statements"] >= 5 and "recent" not in araghchi
    assert all(
        {"target", "favor", "against", "neutral", "net"} <= set(r) for r in araghchi["top_stances"]
    )


def test_speakers_sort_page_and_filter(kafka: Settings, replayed: Any) -> None:
    everyone = orjson.loads(get(kafka, "/speakers?sort=name&limit=1000")[1])["items"]
    names = [s["name"] for s in everyone]
    assert names == sorted(names)
    page = orjson.loads(get(kafka, "/speakers?sort=name&limit=2&offset=2")[1])
    assert [s["name"] for s in page["items"]] == names[2:4]
    people = orjson.loads(get(kafka, "/speakers?type=person&limit=1000")[1])["items"]
    assert people and all(s["type"] == "person" for s in people)
    found = orjson.loads(get(kafka, "/speakers?q=araguchi")[1])["items"]  # an alias
    assert [s["id"] for s in found] == ["person:abbas-araghchi"]
    for bad in ("sort=shoe", "limit=-1", "limit=x", "order=up"):
        status, body, _ = get(kafka, f"/speakers?{bad}")
        assert status == 400 and orjson.loads(body)["error"], bad


def test_one_speaker_has_stances_and_recent_statements(kafka: Settings, replayed: Any) -> None:
    status, body, _ = get(kafka, "/speakers/person:abbas-araghchi")
    assert status == 200
    speaker = orjson.loads(body)
    assert speaker["name"] == "Abbas Araghchi"
    assert {"Araghçi", "Araguchi"} <= set(speaker["aliases"])
    assert speaker["recent"] and all(r["content"] for r in speaker["recent"])
    assert speaker["stances"] and {"target", "net", "total"} <= set(speaker["stances"][0])
    status, body, _ = get(kafka, "/speakers/person:nobody-at-all")
    assert status == 404 and "nobody" in orjson.loads(body)["error"]


def test_health_and_metrics(kafka: Settings, replayed: Any) -> None:
    status, body, _ = get(kafka, "/health")
    assert status == 200 and orjson.loads(body)["status"] == "ok"
    status, body, content_type = get(kafka, "/metrics")
    assert status == 200 and content_type.startswith("text/plain")
    families = {f.name: f for f in text_string_to_metric_families(body.decode())}
    enriched = families["streams_articles_enriched"].samples[0].value
    batches = families["streams_batches_enriched"].samples[0].value
    assert enriched >= 1 and 1 <= batches <= enriched
    latency = families["streams_processing_latency_seconds"]
    assert latency.type == "histogram"
    assert any(s.name.endswith("_count") and s.value >= 1 for s in latency.samples)
    assert "streams_consumer_lag" in families
    assert "streams_dead_letters" in families


def test_openapi_describes_every_route_and_record(kafka: Settings, replayed: Any) -> None:
    status, body, _ = get(kafka, "/openapi.json")
    spec = orjson.loads(body)
    assert status == 200 and spec["openapi"].startswith("3.1")
    for path in spec["paths"]:
        if "get" in spec["paths"][path]:
            url = path.replace("{speaker_id}", "person:abbas-araghchi")
            if url == "/statements/stream":
                continue  # never ends; tested below
            if url == "/quotations":
                url += "?speaker=person:abbas-araghchi"  # required
            assert get(kafka, url)[0] == 200, path
    article = spec["components"]["schemas"]["Article"]
    jsonschema.validate({"article_id": "a", "text": "t"}, article)


def test_dashboard_page_is_served(kafka: Settings, replayed: Any) -> None:
    status, body, content_type = get(kafka, "/")
    assert status == 200 and content_type.startswith("text/html")
    assert b"EventSource" in body and b'lang="en"' in body


async def _events(
    settings: Settings, until: int, *, speaker: str | None = None, last_id: str | None = None,
    after: Any = None,
) -> list[tuple[str, dict[str, Any]]]:  # fmt: skip
    """Open the stream, run ``after()`` once connected, collect ``until`` statement events."""
    url = f"http://127.0.0.1:{settings.web_port}/statements/stream"
    params = {"speaker": speaker} if speaker else {}
    headers = {"Last-Event-ID": last_id} if last_id else {}
    events: list[tuple[str, dict[str, Any]]] = []
    timeout = aiohttp.ClientTimeout(total=120)
    async with (
        aiohttp.ClientSession(timeout=timeout) as session,
        session.get(url, params=params, headers=headers) as response,
    ):
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/event-stream")
        event_id, data = "", b""
        async for raw in response.content:
            line = raw.rstrip(b"\n")
            if line == b": connected" and after is not None:
                await asyncio.to_thread(after)
            elif line.startswith(b"id: "):
                event_id = line[4:].decode()
            elif line.startswith(b"data: "):
                data = line[6:]
            elif not line and data:
                events.append((event_id, orjson.loads(data)))
                data = b""
                if len(events) >= until:
                    break
    return events


ARTICLE = (
    'Harbour master Ines Calder said on Tuesday that the dredging would start in March. "We '
    'have waited long enough," she told reporters. Calder also said the work would take a year.'
)


def test_push_then_stream_then_resume(kafka: Settings, replayed: Any) -> None:
    auth = {"Authorization": f"Bearer {PUSH_TOKEN}", "Content-Type": "application/json"}
    body = orjson.dumps({"text": ARTICLE, "url": "https://example.org/harbour-dredging"})

    def push() -> None:
        status, answer = post(kafka, "/articles", body, **auth)
        assert status == 202, answer
        assert answer["topic"] == kafka.topic("articles.raw")

    events = asyncio.run(_events(kafka, 3, speaker="person:ines-calder", after=push))
    assert [e["speaker"]["id"] for _, e in events] == ["person:ines-calder"] * 3
    assert all(e["url"] == "https://example.org/harbour-dredging" for _, e in events)
    # resuming after the first event delivers the second and third again, nothing before
    resumed = asyncio.run(_events(kafka, 2, speaker="person:ines-calder", last_id=events[0][0]))
    assert [e["statement_id"] for _, e in resumed] == [e["statement_id"] for _, e in events[1:]]


def test_push_is_guarded(kafka: Settings, replayed: Any) -> None:
    good = {"Authorization": f"Bearer {PUSH_TOKEN}", "Content-Type": "application/json"}
    article = orjson.dumps({"text": ARTICLE})
    assert post(kafka, "/articles", article)[0] == 401
    assert post(kafka, "/articles", article, Authorization="Bearer wrong")[0] == 401
    assert post(kafka, "/articles", b"{not json", **good)[0] == 400
    assert post(kafka, "/articles", b"[1, 2]", **good)[0] == 422
    status, answer = post(kafka, "/articles", orjson.dumps({"text": 5}), **good)
    assert status == 422 and answer["fields"]
    assert post(kafka, "/articles", orjson.dumps({"text": " \n "}), **good)[0] == 422
    huge = orjson.dumps({"text": "x" * (kafka.push_max_bytes + 1)})
    assert post(kafka, "/articles", huge, **good)[0] == 413

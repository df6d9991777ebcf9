"""A corpus of bad input on the real broker: each message ends in `deadletter` with a reason,
or is processed where processing it is right; the worker never stops; valid articles after
them are enriched."""

from __future__ import annotations

import asyncio
import time
import unicodedata
import urllib.request
from typing import Any

import orjson
import pytest

from streams.kafka.clients import producer
from streams.settings import Settings
from tests.integration.conftest import Worker
from tests.integration.test_pipeline import read_topic

pytestmark = pytest.mark.integration


def _article(article_id: str, text: Any, **extra: Any) -> bytes:
    return orjson.dumps({"article_id": article_id, "text": text, **extra})


ERDOGAN = "President Recep Tayyip Erdoğan said the talks would resume in May."

#: key → (payload, expected outcome: "dead" with a stage, or "enriched")
CORPUS: dict[str, tuple[bytes | None, str]] = {
    "invalid-json": (b"{not json", "dead:decode"),
    "json-list": (b"[1, 2, 3]", "dead:validate"),
    "json-string": (b'"just a string"', "dead:validate"),
    "json-null": (b"null", "dead:validate"),
    "missing-text": (orjson.dumps({"article_id": "m"}), "dead:validate"),
    "empty-text": (_article("e", ""), "dead:validate"),
    "blank-text": (_article("b", "  \n\t  "), "dead:validate"),
    "text-not-string": (_article("n", 42), "dead:validate"),
    "unknown-field": (_article("u", "Officials said it works.", colour="red"), "dead:validate"),
    "bad-timestamp": (_article("t", "Officials said so.", fetched_at="yesterday"), "dead:validate"),
    "too-long": (_article("l", "word " * 50_000), "dead:validate"),
    "binary-garbage": (bytes(range(256)) * 4, "dead:decode"),
    "invalid-utf8": (b'{"article_id": "x", "text": "\xff\xfe bad"}', "dead:decode"),
    "deep-nesting": (b"[" * 100_000, "dead:decode"),
    "no-value": (None, "dead:decode"),
    "k" * 5000: (_article("big-key", "Officials said it works."), "dead:validate"),
    "html": (
        _article(
            "html", "<html><body><p>“We will rebuild,” Mayor Ana Lopez said.</p></body></html>"
        ),
        "enriched",
    ),
    "german": (
        _article("de", "Der Minister sagte am Montag, die Gespräche würden fortgesetzt."),
        "enriched",
    ),
    "long-sentence": (_article("ls", "and then " * 5_600), "enriched"),
    "many-quotes": (_article("mq", '"' * 3_000 + " said nobody"), "enriched"),
    "unbalanced-quotes": (_article("uq", "“He said “this and that, Ana Lopez said."), "enriched"),
    "nul-bytes": (_article("nul", "Officials said\u0000 the plan failed."), "enriched"),
    # one article id, two texts: whichever comes first is processed, the other refused
    "duplicate-1": (_article("dup", "Ana Lopez said the bridge would open."), "one-of:dup"),
    "duplicate-2": (_article("dup", "Ana Lopez said the bridge would close."), "one-of:dup"),
    "name-nfc": (_article("nfc", unicodedata.normalize("NFC", ERDOGAN)), "enriched"),
    "name-nfd": (_article("nfd", unicodedata.normalize("NFD", ERDOGAN)), "enriched"),
}


def test_bad_input_corpus_never_stops_the_worker(
    kafka: Settings, worker: Worker, validate_wire: Any
) -> None:
    assert len(CORPUS) >= 20
    good = _article("after-bad", "“The pipeline is still running,” engineer Maya Ito said.")

    async def produce() -> None:
        client = producer(kafka, compression_type=None)
        await client.start()
        try:
            for key, (payload, _) in CORPUS.items():
                await client.send_and_wait(kafka.topic("articles.raw"), payload, key=key.encode())
            await client.send_and_wait(kafka.topic("articles.raw"), good, key=b"after-bad")
        finally:
            await client.stop()

    asyncio.run(produce())
    deadline = time.monotonic() + 240
    while True:
        dead = {r["key"]: r["value"] for r in read_topic(kafka, "deadletter")}
        enriched: dict[str, list[Any]] = {}
        for record in read_topic(kafka, "articles.enriched"):
            enriched.setdefault(record["key"], []).append(record["value"])
        done = all(key in dead or _article_id(key) in enriched for key in CORPUS)
        done = done and any(key in dead for key in ("duplicate-1", "duplicate-2"))
        if done and "after-bad" in enriched:
            break
        assert time.monotonic() < deadline, (set(CORPUS) - set(dead)) - set(enriched)
        time.sleep(1)
    assert worker.proc is not None and worker.proc.poll() is None, "the worker stopped"
    for key, (_, expected) in CORPUS.items():
        if expected.startswith("one-of:"):
            continue
        if expected.startswith("dead:"):
            letter = dead[key]
            validate_wire("dead_letter", letter)
            assert letter["stage"] == expected.split(":")[1], (key, letter["error"])
            assert letter["error"] and letter["offset"] is not None
            assert len(letter["payload"].encode()) <= 4 * kafka.deadletter_payload_bytes
        else:
            assert _article_id(key) in enriched, key
    by_id = {v["article_id"]: v for values in enriched.values() for v in values}
    speakers = {s["speaker"]["id"] for name in ("nfc", "nfd") for s in by_id[name]["statements"]}
    assert speakers == {"person:recep-tayyip-erdogan"}
    # the reused id: one version processed, the other a dead letter saying why
    (refused,) = [key for key in ("duplicate-1", "duplicate-2") if key in dead]
    (kept,) = {"duplicate-1", "duplicate-2"} - {refused}
    assert dead[refused]["stage"] == "conflict"
    assert "'dup' was already used for another text" in dead[refused]["error"]
    kept_word = "open" if kept == "duplicate-1" else "close"
    contents = {s["content"] for v in enriched["dup"] for s in v["statements"]}
    assert contents and all(kept_word in c for c in contents), contents
    with urllib.request.urlopen(
        f"http://127.0.0.1:{kafka.web_port}/metrics/", timeout=10
    ) as response:
        text = response.read().decode()
    counted = {
        line.split()[0]: float(line.split()[1])
        for line in text.splitlines()
        if line and not line.startswith("#")
    }
    assert counted['streams_dead_letters_total{stage="validate"}'] >= 9
    assert counted['streams_dead_letters_total{stage="decode"}'] >= 5


def _article_id(key: str) -> str:
    payload, _ = CORPUS[key]
    if payload is None:
        return key
    try:
        value = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return key
    return value.get("article_id", key) if isinstance(value, dict) else key

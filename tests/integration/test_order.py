"""The same articles give the same table in any order, with one worker or two (issue #17).

The corpus names its speakers the ways news does: a full name in one article, the bare
surname in another, two spellings of one name, a surname the tagger takes for a place. In
one order the full names come first; in the other, last, so that the bare surnames and the
second spelling are published on their own and merged when the registry learns who they are.
"""

from __future__ import annotations

import asyncio
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from streams.kafka.lag import group_lag
from streams.kafka.tail import tail
from streams.readback import Table, collect, result_offsets
from streams.settings import Settings
from streams.sources.replay import replay
from tests.integration.conftest import Worker, free_port
from tests.integration.test_crash import Snapshot, counted_once, snapshot

pytestmark = pytest.mark.integration

ARTICLES = [
    ("order-1", "Recep Tayyip Erdoğan said on Monday that Turkey would keep its border open."),
    ("order-2", "Speaking in Ankara, Erdogan said the country would not accept new sanctions."),
    (
        "order-3",
        'Volodymyr Zelensky said on Thursday: "The talks in Geneva have to continue until '
        'there is a just peace."',
    ),
    ("order-4", "Volodymyr Zelenskyy told reporters that more air defence was needed."),
    (
        "order-5",
        '"The talks in Geneva have to continue until there is a just peace," Zelensky said '
        "on Friday.",
    ),
    ("order-6", "Abbas Araghchi said Iran was ready to resume talks with Europe."),
    ("order-7", "Araghchi said the proposal was unacceptable."),
    ("order-8", "Anna Berg, the mayor of Uppsala, said the bridge would reopen in May."),
]


def idle(settings: Settings, timeout: float = 120) -> None:
    """Wait until the group has nothing left to read on any partition, twice in a row
    three seconds apart (a merge found late is sent after the statements it concerns)."""
    topics = [
        settings.topic("articles.raw"),
        settings.internal_topic("statements-unidentified"),
        settings.internal_topic("statements-by-article"),
        settings.internal_topic("speaker-tallies"),
    ]
    deadline = time.monotonic() + timeout
    quiet = 0
    while quiet < 2:
        assert time.monotonic() < deadline, "the workers did not go idle"
        time.sleep(3)
        lag = asyncio.run(group_lag(settings, settings.app_id, topics))
        quiet = quiet + 1 if not any(lag.values()) else 0


#: Per speaker, what ``/quotations`` and the day timeline say: the occurrences and
#: articles of each quotation, and the statements counted in the day buckets.
Quoted = dict[str, tuple[list[tuple[int, int]], int]]


def run(
    kafka: Settings, tmp_path: Path, name: str, order: list[tuple[str, str]], workers: int
) -> tuple[Snapshot, Table, Quoted]:
    settings = kafka.model_copy(update={"topic_prefix": f"{name}.", "app_id": f"streams-{name}"})
    running = [
        Worker(
            settings.model_copy(
                update={"web_port": free_port(), "data_dir": tmp_path / name / str(n)}
            ),
            tmp_path / f"{name}-{n}.log",
        ).start()
        for n in range(workers)
    ]
    try:
        starts = asyncio.run(result_offsets(settings))
        # one article at a time, each once the one before is counted: the order is the
        # order they are enriched in, whichever partition (and worker) each one lands on
        for article_id, text in order:
            path = tmp_path / f"{name}-{article_id}.jsonl"
            path.write_bytes(orjson.dumps({"article_id": article_id, "text": text}) + b"\n")
            asyncio.run(replay(settings, [path], progress=False))
            asyncio.run(collect(settings, [article_id], starts, timeout=240))
        idle(settings)
        table = asyncio.run(collect(settings, [a for a, _ in order], starts, timeout=240))
        redirect = redirect_of(running[0].settings.web_port, table)
        quoted = quoted_of(running[-1].settings.web_port, table)
    finally:
        for worker in running:
            worker.stop()
    assert counted_once(table)
    return snapshot(table), redirect, quoted


def quoted_of(port: int, table: Table) -> Quoted:
    """Each speaker's quotations and day buckets, from one worker (which forwards to the
    partition's owner); a merged id's are a 308 to the speaker it is."""
    out: Quoted = {}
    for speaker, state in table.states.items():
        if state.merged_into is not None:
            for path, location in [
                (
                    f"/quotations?speaker={speaker}",
                    f"/quotations?speaker={table.canonical(speaker)}",
                ),
                (
                    f"/speakers/{speaker}/timeline?bucket=day",
                    f"/speakers/{table.canonical(speaker)}/timeline?bucket=day",
                ),
            ]:
                # 308 to the speaker it is (through the ids it merged into on the way)
                status, headers, _ = _get(port, path)
                hops = 0
                while status == 308 and headers["Location"] != location and hops < 4:
                    status, headers, _ = _get(port, headers["Location"])
                    hops += 1
                assert (status, headers["Location"]) == (308, location), path
            continue
        status, _, body = _get(port, f"/quotations?speaker={speaker}&limit=100")
        assert status == 200
        items = orjson.loads(body)["items"]
        status, _, body = _get(port, f"/speakers/{speaker}/timeline?bucket=day")
        assert status == 200
        days = sum(d["statements"] for d in orjson.loads(body)["items"])
        out[speaker] = (sorted((q["occurrences"], q["articles"]) for q in items), days)
    return out


def _get(port: int, path: str) -> tuple[int, Any, bytes]:
    opener = urllib.request.build_opener(_NoRedirect())
    try:
        with opener.open(f"http://127.0.0.1:{port}{path}", timeout=15) as answer:
            return answer.status, answer.headers, answer.read()
    except urllib.error.HTTPError as answer:
        return answer.code, answer.headers, answer.read()


def redirect_of(port: int, table: Table) -> Table:
    """Each merged id's ``GET /speakers/{id}``: a 308 to the speaker it is now."""
    for merged, state in table.states.items():
        if state.merged_into is None:
            continue
        request = urllib.request.Request(f"http://127.0.0.1:{port}/speakers/{merged}")
        opener = urllib.request.build_opener(_NoRedirect())
        with pytest.raises(urllib.error.HTTPError) as answer:
            opener.open(request, timeout=15)
        assert answer.value.code == 308
        assert answer.value.headers["Location"] == f"/speakers/{table.canonical(merged)}"
    return table


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def test_two_orders_and_one_or_two_workers_give_the_same_table(
    kafka: Settings, tmp_path: Path, validate_wire: Callable[[str, Any], None]
) -> None:
    forward, backward = ARTICLES, ARTICLES[::-1]
    one_forward, _, quoted = run(kafka, tmp_path, "order-f1", forward, workers=1)
    one_backward, merged, quoted_b1 = run(kafka, tmp_path, "order-b1", backward, workers=1)
    two_forward, _, quoted_f2 = run(kafka, tmp_path, "order-f2", forward, workers=2)
    two_backward, _, quoted_b2 = run(kafka, tmp_path, "order-b2", backward, workers=2)
    counts, _ = one_forward
    assert counts["person:recep-tayyip-erdogan"] == (2, 2)
    assert counts["person:volodymyr-zelensky"] == (3, 3)
    assert counts["person:abbas-araghchi"] == (2, 2)
    assert one_backward == one_forward
    assert two_forward == one_forward
    assert two_backward == one_forward
    # the quote of two articles is one quotation, and each speaker's timeline counts all its
    # statements, however the articles came: backwards, the bare surname's quotation and
    # buckets moved to the full name when the two merged
    assert quoted["person:volodymyr-zelensky"] == ([(2, 2)], 3)
    assert {s: days for s, (_, days) in quoted.items()} == {s: n for s, (n, _) in counts.items()}
    assert quoted_b1 == quoted_f2 == quoted_b2 == quoted
    # backwards, the bare surnames (one tagged as a body), and the second spelling of a
    # full name, were published on their own first, then merged
    merged_ids = {k for k, s in merged.states.items() if s.merged_into}
    assert merged_ids == {
        "person:erdogan",
        "org:araghchi",
        "person:zelensky",
        "person:volodymyr-zelenskyy",
    }
    # subscribers see each merge on speaker.merges
    events: list[dict[str, Any]] = []
    backward_settings = kafka.model_copy(update={"topic_prefix": "order-b1."})
    asyncio.run(
        tail(
            backward_settings, "speaker.merges", events.append, from_beginning=True, idle_timeout=2
        )
    )
    for event in events:
        validate_wire("speaker_merge", event["value"])
    assert {e["key"] for e in events} == merged_ids

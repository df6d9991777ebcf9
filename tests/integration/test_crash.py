"""`kill -9` the worker in the middle of a stream of a few hundred articles and restart it:
the `speakers` table ends equal to a clean run's, statement for statement, and so do the
speakers' quotations; each speaker's day buckets count its statements.

This failed in some runs until two Faust fixes (``streams/app/faust_fixes.py``): a producer
flush that returned with table writes still buffered, and partitions never committed resumed
where the fetcher got to instead of their first offset.
"""

from __future__ import annotations

import asyncio
import json
import signal
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest

from streams.bench import child_pids
from streams.kafka.tail import end_offsets
from streams.readback import Table, collect, result_offsets
from streams.settings import Settings
from streams.sources.replay import replay
from tests.conftest import ROOT
from tests.integration.conftest import Worker, isolated
from tests.integration.test_pipeline import read_topic

pytestmark = [pytest.mark.integration, pytest.mark.failover]
ARTICLES = 240


def corpus(path: Path) -> list[str]:
    """A JSON-lines corpus of the project's own texts under distinct ids; articles whose
    speakers depend on another article (bare surnames resolved across articles) are left
    out, so that a clean run's table does not depend on processing order."""
    texts = [(ROOT / "seeds" / "000_c2d9b50d470d0567.txt").read_text(encoding="utf-8")]
    for annotated in sorted((ROOT / "tests" / "annotated").glob("*.json")):
        data = json.loads(annotated.read_text(encoding="utf-8"))
        if "text" in data and annotated.stem not in ("03_ukraine_b", "05_turkey_b"):
            texts.append(data["text"])
    ids = [f"crash-{i:04d}" for i in range(ARTICLES)]
    with path.open("wb") as out:
        for i, article_id in enumerate(ids):
            out.write(orjson.dumps({"article_id": article_id, "text": texts[i % len(texts)]}))
            out.write(b"\n")
    return ids


Snapshot = tuple[dict[str, tuple[int, int]], dict[str, str]]


def snapshot(table: Table) -> Snapshot:
    """Each speaker's counts, and which speaker each statement is counted for (merged ids
    followed to the speaker they are)."""
    counts = {k: (s.summary.statements, s.summary.articles) for k, s in table.speakers().items()}
    return counts, {sid: table.canonical(speaker) for sid, speaker in table.counted.items()}


def counted_once(table: Table) -> bool:
    """Every speaker counts exactly the statements the ledger counts for it."""
    per_speaker = Counter(table.canonical(speaker) for speaker in table.counted.values())
    return bool(table.counted) and all(
        s.summary.statements == per_speaker[key] for key, s in table.speakers().items()
    )


def enriched_count(settings: Settings) -> int:
    return sum(asyncio.run(end_offsets(settings, "articles.enriched")).values())


def replay_in_background(settings: Settings, path: Path, rate: float = 20) -> threading.Thread:
    """Replay ``path`` at ``rate`` articles/s in a thread (started), for a stream to cut into."""
    thread = threading.Thread(
        target=lambda: asyncio.run(replay(settings, [path], rate=rate, progress=False))
    )
    thread.start()
    return thread


def alive(pid: int) -> bool:
    """Running, not a zombie (an orphan's zombie is reaped by init)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def wait_for_progress(settings: Settings, enriched: int, timeout: float = 120) -> int:
    """Wait until at least ``enriched`` articles came out; returns how many had."""
    deadline = time.monotonic() + timeout
    while (done := enriched_count(settings)) < enriched:
        assert time.monotonic() < deadline, f"no progress: {done} of {enriched} enriched"
        time.sleep(0.3)
    return done


#: Per speaker, the occurrences of each of its quotations, from the quotations changelog.
Quoted = dict[str, list[int]]


def quoted(settings: Settings, table: Table, timeout: float = 60) -> Quoted:
    """The quotations changelog, last value per key, per speaker; read until every speaker's
    distinct quotations in the table are those the changelog holds (the speaker's write comes
    after its quotation's, whose changelog record may still be on its way)."""
    deadline = time.monotonic() + timeout
    while True:
        latest: dict[str, Any] = {}
        for record in read_topic(settings, settings.changelog_topic("quotations")):
            latest[record["key"]] = record["value"]
        out: Quoted = {}
        for key, value in latest.items():
            if value and value["occurrences"] > 0:
                out.setdefault(key.split("|")[0], []).append(value["occurrences"])
        distinct = {k: s.summary.quotations for k, s in table.speakers().items()}
        if {k: len(v) for k, v in out.items()} == {k: n for k, n in distinct.items() if n}:
            return {k: sorted(v) for k, v in out.items()}
        assert time.monotonic() < deadline, f"quotations {out} against the table's {distinct}"
        time.sleep(2)


def bucketed(settings: Settings, table: Table, timeout: float = 60) -> None:
    """Wait until each speaker's day buckets, as the timeline changelog has them (last value
    per key), count its statements: every statement in its bucket once, none lost to the
    crash (the buckets' changelog records are sent at commits)."""
    want = {k: s.summary.statements for k, s in table.speakers().items()}
    deadline = time.monotonic() + timeout
    while True:
        latest: dict[str, Any] = {}
        for record in read_topic(settings, settings.changelog_topic("timeline-day")):
            latest[record["key"]] = record["value"]
        found: Counter[str] = Counter()
        for key, value in latest.items():
            if value:
                found[orjson.loads(key)[0]] += value["statements"]
        counted = {k: found[k] for k in want}
        if counted == want:
            return
        assert time.monotonic() < deadline, f"day buckets {counted} against the table's {want}"
        time.sleep(2)


def run(
    settings: Settings, path: Path, ids: list[str], log: Path, crash: bool
) -> tuple[Snapshot, Quoted]:
    worker = Worker(settings, log).start()
    try:
        starts = asyncio.run(result_offsets(settings))
        replaying = replay_in_background(settings, path)
        if crash:
            done_at_kill = wait_for_progress(settings, ARTICLES // 4)
            killed = time.monotonic()
            assert worker.proc is not None
            nlp = child_pids(worker.proc.pid)
            assert nlp, "the worker runs spaCy in a process of its own"
            worker.stop(signal.SIGKILL)
            worker.start()
            deadline = time.monotonic() + 10
            while any(alive(pid) for pid in nlp):  # orphans exit, not hold their model
                assert time.monotonic() < deadline, f"NLP processes {nlp} outlived the worker"
                time.sleep(0.2)
            print(
                f"killed at {done_at_kill}/{ARTICLES} enriched; worker back and "
                f"answering after {time.monotonic() - killed:.1f}s"
            )
            assert done_at_kill < ARTICLES, "the stream had ended before the crash"
        replaying.join()
        table = asyncio.run(collect(settings, ids, starts, timeout=300))
    finally:
        worker.stop()
    assert counted_once(table)
    bucketed(settings, table)
    return snapshot(table), quoted(settings, table)


def test_kill_9_mid_stream_leaves_the_table_of_a_clean_run(kafka: Settings, tmp_path: Path) -> None:
    path = tmp_path / "corpus.jsonl"
    ids = corpus(path)
    clean = run(
        isolated(kafka, "clean", tmp_path / "clean"), path, ids, tmp_path / "clean.log", crash=False
    )
    crashed = run(
        isolated(kafka, "crash", tmp_path / "crash"), path, ids, tmp_path / "crash.log", crash=True
    )
    (counts, counted), occurrences = clean
    assert counts and sum(v[0] for v in counts.values()) == len(counted) > ARTICLES
    assert crashed == clean
    # the corpus repeats its texts: their quotes are quotations of many occurrences
    assert max(n for found in occurrences.values() for n in found) > 1

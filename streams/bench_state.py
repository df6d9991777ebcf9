"""``streams bench --state``: what one statement costs as the state grows, without spaCy.

A population of speakers with realistic multilingual names (Faker, many locales, other
scripts transliterated), each with spelling variants of its surname; synthetic
:class:`~streams.records.Statement` records over them, the speaker of each drawn with a Zipf
distribution (a few speakers are quoted all the time, most rarely), grouped into articles,
with stances, one in a hundred sent twice (a redelivery). A real worker folds them (route →
statement ledger → tallies → ``speakers`` table) through the real broker. After a warm-up of
1,000 statements, the stream goes to ``statements`` in ten slices, each produced once the
one before is counted, so that every tenth holds the same mix of speakers: per tenth, its
rate (statements counted ÷ seconds from its first produce to its last count), the worker's
memory at its end (its own process: its NLP process idles here), how many speakers had been
seen, and the bytes per update of the ``speakers`` changelog records written in it.

Registry lookups are timed apart, at 1,000 / 10,000 / 100,000 / 1,000,000 known speakers:
names drawn as a stream of statements names them (Zipf; the full name, a spelling variant or
the bare surname), with the registry's memory warmed by as many lookups first; and names
asked for the first time (a variant of a known speaker, or a new person).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import statistics
import time
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import orjson
from aiokafka import TopicPartition
from anyascii import anyascii
from tqdm import tqdm

from streams.bench import bench_worker
from streams.errors import BrokerError, ConfigError
from streams.ids import speaker_id, statement_id
from streams.kafka.clients import (
    consumer,
    ensure_topics,
    producer,
    stop_consumer,
    topic_partitions,
)
from streams.nlp.names import name_words
from streams.nlp.registry import SpeakerRegistry
from streams.records import KnownSpeaker
from streams.settings import Settings
from streams.workers import stop_process, wait_healthy

#: Faker locales whose names the population mixes.
LOCALES = (
    "en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "pt_BR", "nl_NL", "sv_SE", "pl_PL",
    "cs_CZ", "hu_HU", "ro_RO", "ru_RU", "uk_UA", "el_GR", "tr_TR", "en_IN", "vi_VN", "id_ID",
    "fi_FI", "da_DK", "hr_HR", "lt_LT", "sk_SK", "bg_BG", "ka_GE", "az_AZ",
)  # fmt: skip
#: Alternations that transliterations and misspellings of one surname differ by.
_SPELLINGS = (
    ("sky", "skyy"), ("sky", "ski"), ("skiy", "sky"), ("y", "i"), ("i", "y"), ("ks", "x"),
    ("x", "ks"), ("v", "w"), ("w", "v"), ("ph", "f"), ("f", "ph"), ("k", "c"), ("c", "k"),
    ("sch", "sh"), ("sh", "sch"), ("j", "y"), ("ou", "u"), ("ie", "i"), ("kh", "h"),
    ("ei", "ai"), ("ov", "off"), ("tz", "ts"), ("ss", "s"), ("ll", "l"), ("tt", "t"),
)  # fmt: skip
LOOKUP_SIZES = (1_000, 10_000, 100_000, 1_000_000)
TARGETS = 300  # stance targets in the synthetic stream
REDELIVERED = 0.01


def spelling_variant(name: str, rng: random.Random) -> str:
    """``name`` with its surname spelled another way ("Zelensky" → "Zelenskyy")."""
    *given, surname = name.split()
    lower = surname.lower()
    rules = [(a, b) for a, b in _SPELLINGS if a in lower[1:]]
    if rules:
        old, new = rng.choice(rules)
        at = lower.rindex(old)
        changed = surname[:at] + new + surname[at + len(old) :]
    else:
        at = rng.randrange(1, len(surname)) if len(surname) > 1 else 0
        changed = surname[: at + 1] + surname[at:]  # a letter doubled
    return " ".join([*given, changed])


@dataclass
class Population:
    """Speakers with canonical names, their surnames and spelling variants."""

    names: list[str] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)

    @classmethod
    def build(cls, size: int, seed: int) -> Population:
        fake = _faker(list(LOCALES))
        fake.seed_instance(seed)
        out = cls()
        seen: set[str] = set()
        while len(out.names) < size:
            name = _latin(fake.name())
            words = name.split()
            if len(name_words(name)) < 2 or len(words) < 2:
                continue  # a name with no separate surname (Korean, Chinese in their script)
            ident = speaker_id("person", name)
            if ident in seen:
                continue
            seen.add(ident)
            out.names.append(name)
            out.ids.append(ident)
        return out


def _faker(locales: list[str]) -> Any:
    try:
        from faker import Faker
    except ImportError as exc:
        raise ConfigError(
            "streams bench --state needs Faker, a development dependency: "
            "pip install -e '.[dev]' (or make install)"
        ) from exc
    return Faker(locales)


def _latin(name: str) -> str:
    """A name as English-language news writes it: Latin letters kept with their accents,
    other scripts transliterated ("Ганна Колесниченко" → "Ganna Kolesnichenko")."""
    if all(not c.isalpha() or unicodedata.name(c, "").startswith("LATIN") for c in name):
        return name
    return " ".join(word[:1].upper() + word[1:] for word in anyascii(name).split())


def zipf_ranks(count: int, size: int, rng: np.random.Generator, s: float = 1.0) -> np.ndarray:
    """``count`` draws of ranks 0..size-1 with probability ∝ 1 / (rank + 1) ** s."""
    weights = 1.0 / np.arange(1, size + 1) ** s
    return rng.choice(size, size=count, p=weights / weights.sum())


def synthetic_statements(
    population: Population, count: int, seed: int, prefix: str = "state"
) -> Iterator[tuple[bytes, bytes, bool]]:
    """``(key, value, sent before)`` of ``count`` Statement records (JSON), in articles of one
    to eight statements (ids ``<prefix>-<n>``); about one in a hundred is one sent before
    (the same statement id), as a redelivery would be."""
    rng = random.Random(seed)
    ranks = zipf_ranks(count, len(population.names), np.random.default_rng(seed))
    targets = [f"target {i}" for i in range(TARGETS)]
    target_ranks = zipf_ranks(count, TARGETS, np.random.default_rng(seed + 1))
    fake = _faker(["en_US"])
    fake.seed_instance(seed)
    sentences = [fake.sentence(nb_words=rng.randint(8, 30)) for _ in range(2000)]
    again: list[tuple[bytes, bytes]] = []
    article, left_in_article, start = "", 0, 0
    produced = 0
    while produced < count:
        if again and rng.random() < REDELIVERED:
            yield (*again.pop(rng.randrange(len(again))), True)
            produced += 1
            continue
        if left_in_article == 0:
            article, left_in_article, start = f"{prefix}-{produced:08d}", rng.randint(1, 8), 0
        left_in_article -= 1
        rank = int(ranks[produced])
        name = population.names[rank]
        mention = rng.choices(
            [name, name.split()[-1], spelling_variant(name, rng), "he"], [50, 25, 20, 5]
        )[0]
        content = rng.choice(sentences)
        end = start + len(content)
        stances = []
        if rng.random() < 0.5:
            stances.append(
                {
                    "target": targets[int(target_ranks[produced])],
                    "polarity": rng.choice(("favor", "against", "neutral")),
                    "score": round(rng.uniform(-1, 1), 3),
                }
            )
        value = orjson.dumps(
            {
                "schema_version": 1,
                "statement_id": statement_id(article, start, end, content),
                "article_id": article,
                "speaker": {
                    "schema_version": 1,
                    "id": population.ids[rank],
                    "name": name,
                    "type": "person",
                    "mention": mention,
                    "start": start,
                    "end": start + len(mention),
                },
                "cue": "said",
                "content": content,
                "start": start,
                "end": end,
                "kind": rng.choice(("direct", "indirect", "mixed")),
                "stances": stances,
                "url": f"https://news.example/{article}",
            }
        )
        start = end + 1
        record = (population.ids[rank].encode(), value)
        if rng.random() < REDELIVERED * 2 and len(again) < 10_000:
            again.append(record)
        yield (*record, False)
        produced += 1


@dataclass
class Mark:
    """Where the run stood after a slice: statements counted, clock, worker memory, and the
    end offsets of the speakers changelog's partitions."""

    counted: int
    seconds: float
    rss_mib: float
    offsets: dict[int, int]


class Run:
    """One worker folding the statements the bench produces, slice after slice."""

    def __init__(self, settings: Settings, pid: int, alive: Any, total: int) -> None:
        self.settings, self.pid, self.alive = settings, pid, alive
        self.producer = producer(settings, linger_ms=20, max_batch_size=256 * 1024)
        self.reader = consumer(settings)
        self.partitions = [
            TopicPartition(settings.changelog_topic("speakers"), p)
            for p in range(settings.partitions)
        ]
        self.bar = tqdm(total=total, desc="statements counted", unit=" st")
        self.base: dict[int, int] = {}

    async def __aenter__(self) -> Run:
        await self.producer.start()
        await self.reader.start()
        self.base = await self.offsets()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.bar.close()
        await self.producer.stop()
        await stop_consumer(self.reader)

    async def offsets(self) -> dict[int, int]:
        ends = await self.reader.end_offsets(self.partitions)
        return {tp.partition: offset for tp, offset in ends.items()}

    async def produce(self, records: Iterable[tuple[bytes, bytes, bool]]) -> tuple[int, int]:
        """Produce ``records`` to ``statements``: ``(how many, how many were sent before)``."""
        topic = self.settings.topic("statements")
        sent = repeats = 0
        pending = []
        for key, value, repeat in records:
            repeats += repeat
            sent += 1
            pending.append(await self.producer.send(topic, value, key=key))
            if len(pending) >= 5000:
                await asyncio.gather(*pending)
                pending = []
        await asyncio.gather(*pending)
        return sent, repeats

    async def counted(self, target: int, timeout: float = 3 * 3600) -> Mark:
        """Wait until ``target`` statements in all are counted (one changelog record each)."""
        deadline = time.monotonic() + timeout
        while True:
            now = await self.offsets()
            counted = sum(now[p] - self.base[p] for p in now)
            self.bar.update(counted - self.bar.n)
            if counted >= target:
                return Mark(counted, time.monotonic(), _rss(self.pid), now)
            if not self.alive():
                raise BrokerError("the bench worker exited")
            if time.monotonic() > deadline:
                raise BrokerError(f"only {counted} of {target} statements counted")
            await asyncio.sleep(0.25)


async def run_slices(
    settings: Settings, pid: int, alive: Any, population: Population, count: int, seed: int
) -> tuple[list[dict[str, Any]], int]:
    """A warm-up, then the statements in ten slices, each produced once the one before is
    counted; per slice its rate (statements counted ÷ seconds from its first produce to its
    last count), the worker's memory and the changelog's bytes per update. Returns the
    slices and how many statements were sent twice."""
    stream = synthetic_statements(population, count, seed)
    warm = synthetic_statements(population, 1000, seed + 1, prefix="warm")
    async with Run(settings, pid, alive, total=count) as run:
        sent, repeats = await run.produce(warm)
        mark = await run.counted(sent - repeats)
        run.bar.reset()
        run.base = mark.offsets
        slices: list[dict[str, Any]] = []
        total = redelivered = 0
        for k in range(10):
            size = count * (k + 1) // 10 - count * k // 10
            started = time.monotonic()
            sent, repeats = await run.produce(itertools.islice(stream, size))
            total += sent - repeats
            redelivered += repeats
            before, mark = mark, await run.counted(total)
            slices.append(
                {
                    "counted": total,
                    "seconds": round(mark.seconds - started, 1),
                    "rate": round((sent - repeats) / (mark.seconds - started)),
                    "rss_mib": mark.rss_mib,
                    "changelog_bytes_per_update": round(
                        await changelog_bytes(settings, before.offsets, mark.offsets)
                    ),
                }
            )
    return slices, redelivered


async def _until_exists(settings: Settings, topic: str, timeout: float = 120.0) -> None:
    """Wait until the worker has created ``topic`` (its table's changelog)."""
    deadline = time.monotonic() + timeout
    while not await topic_partitions(settings, topic):
        if time.monotonic() > deadline:
            raise BrokerError(f"the bench worker did not create {topic} in {timeout:.0f}s")
        await asyncio.sleep(0.5)


def _rss(pid: int) -> float:
    """The worker's own resident memory (its NLP process, idle here, left out), in MiB."""
    return round(_own_kib(pid, "VmRSS") / 1024, 1)


def _own_kib(pid: int, field_name: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{field_name}:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


async def changelog_bytes(
    settings: Settings, start: dict[int, int], end: dict[int, int], sample: int = 500
) -> float:
    """Mean bytes (key and value) of the speakers changelog records written between
    ``start`` and ``end``: the last ``sample`` records of each partition, weighted by the
    records each partition received."""
    topic = settings.changelog_topic("speakers")
    client = consumer(settings)
    await client.start()
    weighted, written = 0.0, 0
    try:
        for partition, stop in end.items():
            count = stop - start.get(partition, 0)
            if count <= 0:
                continue
            tp = TopicPartition(topic, partition)
            client.assign([tp])
            client.seek(tp, max(start.get(partition, 0), stop - sample))
            sizes: list[int] = []
            while True:
                batch = await client.getmany(tp, timeout_ms=2000, max_records=sample)
                records = [r for r in batch.get(tp, []) if r.offset < stop]
                sizes += [len(r.key or b"") + len(r.value or b"") for r in records]
                if not records or records[-1].offset >= stop - 1:
                    break
            if sizes:
                weighted += statistics.fmean(sizes) * count
                written += count
    finally:
        await stop_consumer(client)
    return weighted / written if written else float("nan")


def registry_lookups(
    sizes: Sequence[int], seed: int, lookups: int = 20_000, first: int = 2_000
) -> tuple[dict[str, float], dict[str, float]]:
    """Mean ms per lookup at each registry size: ``(stream of names, names asked first)``."""
    population = Population.build(max(sizes) + first, seed)
    newcomers = population.names[max(sizes) :]
    rng = random.Random(seed)
    registry = SpeakerRegistry()
    stream_ms: dict[str, float] = {}
    first_ms: dict[str, float] = {}
    known = 0
    for size in tqdm(sizes, desc="registry lookups", unit=" size"):
        while known < size:
            registry.put(
                KnownSpeaker(id=population.ids[known], name=population.names[known], type="person")
            )
            known += 1
        ranks = zipf_ranks(2 * lookups, size, np.random.default_rng(seed + size))
        queries = []
        for rank in ranks:
            name = population.names[int(rank)]
            form = rng.random()
            if form < 0.15:
                name = spelling_variant(name, rng)
            elif form < 0.3:
                name = name.split()[-1]
            queries.append(name)
        for query in queries[:lookups]:  # the registry's memory, warm as in a running worker
            registry.match(query, "person")
        stream_ms[str(size)] = _time_lookups(registry, queries[lookups:])
        fresh = [
            spelling_variant(population.names[rng.randrange(size)], rng) if i % 2 else newcomers[i]
            for i in range(first)
        ]
        first_ms[str(size)] = _time_lookups(registry, fresh)
    return stream_ms, first_ms


def _time_lookups(registry: SpeakerRegistry, names: Sequence[str]) -> float:
    started = time.perf_counter()
    for name in names:
        registry.match(name, "person")
    return round((time.perf_counter() - started) / len(names) * 1000, 4)


def run_state_bench(
    settings: Settings,
    statements: int,
    speakers: int,
    out: Path,
    *,
    lookup_sizes: Sequence[int] = LOOKUP_SIZES,
    seed: int = 16,
) -> dict[str, Any]:
    """The whole state benchmark; returns (and writes to ``out``) its report."""
    run_id = int(time.time())
    bench = settings.model_copy(
        update={"topic_prefix": f"state{run_id}.", "app_id": f"state{run_id}"}
    )
    workdir = settings.data_dir / "bench"
    workdir.mkdir(parents=True, exist_ok=True)
    population = Population.build(speakers, seed)
    asyncio.run(ensure_topics(bench))
    proc = bench_worker(bench, workdir)
    try:
        wait_healthy(proc, bench.web_port + 1)
        asyncio.run(_until_exists(bench, bench.changelog_topic("speakers")))
        tenths, repeats = asyncio.run(
            run_slices(bench, proc.pid, lambda: proc.poll() is None, population, statements, seed)
        )
        peak = round(_own_kib(proc.pid, "VmHWM") / 1024, 1)
    finally:
        stop_process(proc)
    for tenth, seen in zip(tenths, _speakers_seen(population, statements, seed), strict=True):
        tenth["speakers_seen"] = seen
    stream_ms, first_ms = registry_lookups(lookup_sizes, seed)
    first, last = tenths[0], tenths[-1]
    report = {
        "state": {
            "statements": statements,
            "speakers": speakers,
            "redelivered": repeats,
            "counted": statements - repeats,
            "seconds": round(sum(t["seconds"] for t in tenths), 1),
            "rate_first_tenth": first["rate"],
            "rate_last_tenth": last["rate"],
            "rate_ratio_last_to_first": round(last["rate"] / first["rate"], 3),
            "changelog_bytes_per_update_first_tenth": first["changelog_bytes_per_update"],
            "changelog_bytes_per_update_last_tenth": last["changelog_bytes_per_update"],
            "registry_lookup_ms": stream_ms,
            "registry_first_lookup_ms": first_ms,
            "peak_rss_mib": peak,
            "tenths": tenths,
        }
    }
    out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return report


def _speakers_seen(population: Population, statements: int, seed: int) -> list[int]:
    """Distinct speakers among the first k tenths of the drawn statements, k = 1..10."""
    ranks = zipf_ranks(statements, len(population.names), np.random.default_rng(seed))
    return [len(np.unique(ranks[: statements * k // 10])) for k in range(1, 11)]


def format_state(report: dict[str, Any]) -> str:
    state = report["state"]
    lines = [
        f"{state['statements']:,} statements ({state['redelivered']:,} of them sent again) over "
        f"{state['speakers']:,} speakers, counted in {state['seconds']} s",
        "",
        f"{'tenth':>5}{'statements/s':>14}{'speakers seen':>15}{'worker RSS MiB':>16}"
        f"{'changelog B/update':>20}",
    ]
    for n, tenth in enumerate(state["tenths"], 1):
        lines.append(
            f"{n:>5}{tenth['rate']:>14,}{tenth['speakers_seen']:>15,}{tenth['rss_mib']:>16}"
            f"{tenth['changelog_bytes_per_update']:>20,}"
        )
    lines += [
        "",
        f"rate: last tenth / first tenth = {state['rate_ratio_last_to_first']}; changelog "
        f"bytes per update {state['changelog_bytes_per_update_first_tenth']} → "
        f"{state['changelog_bytes_per_update_last_tenth']}; worker peak RSS "
        f"{state['peak_rss_mib']} MiB",
        "registry lookup, ms (a stream of names / names asked first):",
    ]
    for size, ms in state["registry_lookup_ms"].items():
        lines.append(
            f"  {int(size):>9,} known: {ms:.4f} / {state['registry_first_lookup_ms'][size]:.4f}"
        )
    return "\n".join(lines)

"""``streams bench``: throughput and latency, measured against bare spaCy.

In one run, over a corpus of N articles (distinct ids) built from the project's own texts:

(a) bare ``nlp.pipe`` with the full model as spaCy loads it — the reference;
(b) the enrichment without Kafka (the ``streams extract`` path: the project's pipeline, whose
    attribute ruler does the same work through an index, then the extraction);
(c) end to end through Kafka — replay → enrich → statements → table — from the first
    produce to the last table update, with the worker(s) as subprocesses; and the seconds the
    workers spent on the quotation step (quotations and timeline), with their share of it;
(a) and (b) take the best of two interleaved runs, and (a) runs once more at the end to show
how far the machine's speed drifted meanwhile. Before (c), an unmeasured end-to-end pass over
150 articles warms the broker's JVM up; after (c), a second end-to-end pass at half of (c)'s
rate for latency: per statement, from the produce of its article (the raw record's
timestamp) to the table update that counted it (the changelog record's timestamp). Words/s,
articles/s, the ratios to (a), latency p50/p95/p99, the workers' peak memory (VmHWM, NLP
processes included) and the CPU each process used go to the terminal and a JSON file.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

import orjson

from streams.broker.local import LocalKafka
from streams.checkout import CHECKOUT
from streams.errors import BrokerError, ConfigError
from streams.kafka.tail import end_offsets, tail
from streams.nlp.enrich import Enricher
from streams.nlp.pipeline import load_stock
from streams.readback import collect, result_offsets
from streams.records import Article
from streams.settings import Settings
from streams.sources.replay import replay
from streams.workers import start_worker, stop_process, wait_healthy


def corpus_texts(root: Path = CHECKOUT) -> list[str]:
    """The project's own texts: the seeds and the annotated articles of the checkout at
    ``root`` (the one the package runs from by default); :class:`ConfigError` if it has
    none."""
    texts = [p.read_text(encoding="utf-8") for p in sorted((root / "seeds").glob("*.txt"))]
    for path in sorted((root / "tests" / "annotated").glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if "text" in data:
            texts.append(data["text"])
    if not texts:
        raise ConfigError(
            f"no texts for the benchmark in {root / 'seeds'} or {root / 'tests' / 'annotated'}: "
            "give a checkout of the project with --root"
        )
    return texts


def build_corpus(texts: Sequence[str], n: int, prefix: str) -> list[Article]:
    return [Article(article_id=f"{prefix}-{i:05d}", text=texts[i % len(texts)]) for i in range(n)]


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0–100) by linear interpolation."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * q / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def statement_latencies(
    raw: Sequence[dict[str, Any]],
    enriched: Sequence[dict[str, Any]],
    changelog: Sequence[dict[str, Any]],
) -> list[float]:
    """Seconds from an article's produce to the table update that counted each statement.

    ``raw``/``enriched``/``changelog`` are records as :func:`streams.kafka.tail.as_json`
    gives them, with a ``timestamp`` (ms) added.
    """
    produced = {r["key"]: r["timestamp"] for r in raw}
    article_of = {
        s["statement_id"]: r["value"]["article_id"]
        for r in enriched
        for s in r["value"]["statements"]
    }
    counted_at: dict[str, int] = {}
    for record in changelog:
        # the table update that counts a statement puts it first among the recent ones
        recent = record["value"]["summary"]["recent"] if record["value"] else []
        if recent and recent[0]["statement_id"] not in counted_at:
            counted_at[recent[0]["statement_id"]] = record["timestamp"]
    out = []
    for sid, at in counted_at.items():
        article = article_of.get(sid)
        if article in produced:
            out.append((at - produced[article]) / 1000)
    return out


def _words(articles: Sequence[Article]) -> int:
    return sum(len(a.text.split()) for a in articles)


def child_pids(pid: int) -> list[int]:
    """The process's children (a worker's NLP processes), started from any of its threads;
    empty when it is gone."""
    children: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            children.extend(int(c) for c in (task / "children").read_text().split())
    return children


def descendants(pid: int) -> list[int]:
    """The process's children, their children, and so on (a demo's broker, worker and the
    worker's NLP processes)."""
    found: list[int] = []
    todo = child_pids(pid)
    while todo:
        child = todo.pop()
        found.append(child)
        todo.extend(child_pids(child))
    return found


def _proc_kib(pid: int, field: str) -> int:
    """A /proc status field (``VmHWM``, ``VmRSS``) of a process and its children (the NLP
    processes), summed, in KiB."""
    total = 0
    for p in [pid, *child_pids(pid)]:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith(f"{field}:"):
                    total += int(line.split()[1])
    return total


def _peak_kib(pid: int) -> int:
    return _proc_kib(pid, "VmHWM")


_TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of one process so far (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime


def _waiting_seconds(pid: int) -> float:
    """Seconds one process has spent runnable but waiting for a CPU (0 when unknown)."""
    try:
        return int(Path(f"/proc/{pid}/schedstat").read_text().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return 0.0


def cpu_sample(workers: Sequence[int], broker: int | None) -> dict[str, float]:
    """CPU seconds so far of the workers' event loops, their NLP processes, the broker (when
    it runs here) and this process (the replay and the collector); ``nlp_waiting``: seconds
    the NLP processes were ready to run but had no CPU."""
    nlp = [c for p in workers for c in child_pids(p)]
    return {
        "worker": sum(_cpu_seconds(p) for p in workers),
        "nlp": sum(_cpu_seconds(c) for c in nlp),
        "nlp_waiting": sum(_waiting_seconds(c) for c in nlp),
        "broker": _cpu_seconds(broker) if broker else 0.0,
        "bench": _cpu_seconds(os.getpid()),
    }


async def _read(settings: Settings, topic: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    await tail(settings, topic, out.append, from_beginning=True, idle_timeout=2.0)
    return out


def end_to_end(
    settings: Settings,
    articles: Sequence[Article],
    workdir: Path,
    workers: int,
    rate: float | None,
) -> dict[str, Any]:
    """One pass through Kafka on fresh topics (``settings`` carries the prefix)."""
    path = workdir / f"{settings.topic_prefix}corpus.jsonl"
    path.write_bytes(b"".join(orjson.dumps(a.model_dump(mode="json")) + b"\n" for a in articles))
    procs = []
    try:
        starts = asyncio.run(result_offsets(settings))
        for i in range(workers):
            procs.append(bench_worker(settings, workdir, i))
        for i, proc in enumerate(procs):  # spaCy loaded: the web server is up
            wait_healthy(proc, settings.web_port + 1 + i)
        time.sleep(4)  # let the workers join the group before the clock starts
        broker = LocalKafka(settings).status().pid
        pids = [p.pid for p in procs]
        cpu_before = cpu_sample(pids, broker)
        started = time.monotonic()
        asyncio.run(replay(settings, [path], rate=rate, progress=False))
        asyncio.run(collect(settings, [a.article_id for a in articles], starts, timeout=1800))
        seconds = time.monotonic() - started
        cpu = {k: round(v - cpu_before[k], 1) for k, v in cpu_sample(pids, broker).items()}
        metrics = [_health(settings.web_port + 1 + i)["metrics"] for i in range(workers)]
        quotation = sum(m.get("quotation_seconds", 0.0) for m in metrics)
        quotation_cpu = sum(m.get("quotation_cpu_seconds", 0.0) for m in metrics)
        peak = sum(_peak_kib(p.pid) for p in procs)
    finally:
        for proc in procs:
            stop_process(proc)
    raw = asyncio.run(_read(settings, "articles.raw"))
    enriched = asyncio.run(_read(settings, "articles.enriched"))
    changelog = asyncio.run(_read(settings, settings.changelog_topic("speakers")))
    latencies = statement_latencies(raw, enriched, changelog)
    return {
        "seconds": seconds,
        "quotation_seconds": round(quotation, 3),
        "quotation_cpu_seconds": round(quotation_cpu, 3),
        "peak_rss_mib": round(peak / 1024, 1),
        "latencies": latencies,
        "cpu_seconds": cpu,
    }


def bench_worker(settings: Settings, workdir: Path, n: int = 0) -> subprocess.Popen[bytes]:
    """Worker ``n`` of a benchmark run on the run's own topics (``settings`` carries the
    prefix and app id): web port ``STREAMS_WEB_PORT + 1 + n``, data and log in ``workdir``."""
    name = f"{settings.app_id}-{n}"
    overrides = {
        "STREAMS_TOPIC_PREFIX": settings.topic_prefix,
        "STREAMS_APP_ID": settings.app_id,
        "STREAMS_WEB_PORT": str(settings.web_port + 1 + n),
        "STREAMS_DATA_DIR": str(workdir / name),
    }
    return start_worker(settings, workdir / f"{name}.log", overrides)


def _health(port: int) -> dict[str, Any]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=10) as response:
        return cast(dict[str, Any], orjson.loads(response.read()))


def run_bench(
    settings: Settings,
    root: Path,
    n: int,
    workers: Sequence[int],
    out: Path,
    rounds: int = 2,
    warmup_articles: int = 150,
) -> dict[str, Any]:
    """The whole benchmark; returns (and writes to ``out``) its report."""
    articles = build_corpus(corpus_texts(root), n, "bench")
    words = _words(articles)
    enricher = Enricher.from_settings(settings)
    stock = load_stock(settings.model, settings.model_fallback)  # the reference, unchanged
    texts = [a.text for a in articles]
    for pipeline in (stock, enricher.nlp):  # warm up
        list(pipeline.pipe(texts[:8], batch_size=settings.batch_size))

    def bare_run() -> float:
        started = time.perf_counter()
        list(stock.pipe(texts, batch_size=settings.batch_size))
        return time.perf_counter() - started

    def extract_run() -> float:
        started = time.perf_counter()
        enricher.enrich(articles)
        return time.perf_counter() - started

    bare = extract = float("inf")
    for _ in range(rounds):  # best of ``rounds``, interleaved: this machine's speed drifts
        bare = min(bare, bare_run())
        extract = min(extract, extract_run())
    report: dict[str, Any] = {
        "articles": n,
        "words": words,
        "cores": os.cpu_count(),
        "bare_pipe": {
            "seconds": round(bare, 2),
            "words_per_s": round(words / bare),
            "articles_per_s": round(n / bare, 1),
        },
        "extract": {
            "seconds": round(extract, 2),
            "words_per_s": round(words / extract),
            "articles_per_s": round(n / extract, 1),
            "ratio_to_bare": round(bare / extract, 3),
        },
        "end_to_end": {},
    }
    run_id = int(time.time())
    workdir = settings.data_dir / "bench"
    workdir.mkdir(parents=True, exist_ok=True)
    # one unmeasured pass first: a broker just started spends seconds of CPU compiling its
    # hot paths (JIT) in its first minute, on the cores the measured run needs
    warm = settings.model_copy(
        update={"topic_prefix": f"bench{run_id}warm.", "app_id": f"bench{run_id}warm"}
    )
    warmup = end_to_end(warm, articles[: min(n, warmup_articles)], workdir, 1, rate=None)
    report["warmup"] = {
        "articles": min(n, warmup_articles),
        "seconds": round(warmup["seconds"], 2),
        "cpu_seconds": warmup["cpu_seconds"],
    }
    for count in workers:
        fast = settings.model_copy(
            update={"topic_prefix": f"bench{run_id}w{count}.", "app_id": f"bench{run_id}w{count}"}
        )
        full = end_to_end(fast, articles, workdir, count, rate=None)
        throughput = n / full["seconds"]
        slow = settings.model_copy(
            update={
                "topic_prefix": f"bench{run_id}w{count}half.",
                "app_id": f"bench{run_id}w{count}half",
            }
        )
        half = end_to_end(slow, articles, workdir, count, rate=throughput / 2)
        lat = half["latencies"]
        report["end_to_end"][str(count)] = {
            "workers": count,
            "seconds": round(full["seconds"], 2),
            "words_per_s": round(words / full["seconds"]),
            "articles_per_s": round(throughput, 1),
            "ratio_to_bare": round(bare / full["seconds"], 3),
            "latency_rate_articles_per_s": round(throughput / 2, 1),
            "latency_p50_s": round(percentile(lat, 50), 3),
            "latency_p95_s": round(percentile(lat, 95), 3),
            "latency_p99_s": round(percentile(lat, 99), 3),
            "latency_mean_s": round(statistics.fmean(lat), 3) if lat else None,
            "peak_rss_mib": max(full["peak_rss_mib"], half["peak_rss_mib"]),
            # the quotation step (identifying quotations, counting them and the timeline): its
            # seconds, and their share of the run's seconds times its workers (each has one
            # event loop); wall-clock (with the time the loop waited for a CPU mid-step), and
            # CPU of the loop's thread
            "quotation_seconds": full["quotation_seconds"],
            "quotation_share": round(full["quotation_seconds"] / (count * full["seconds"]), 4),
            "quotation_cpu_seconds": full["quotation_cpu_seconds"],
            "quotation_cpu_share": round(
                full["quotation_cpu_seconds"] / (count * full["seconds"]), 4
            ),
            "cpu_seconds": full["cpu_seconds"],
        }
    report["scaling"] = scaling(report["end_to_end"])
    again = bare_run()  # how far the machine's speed drifted while (c) ran
    report["bare_pipe_after"] = {"seconds": round(again, 2), "words_per_s": round(words / again)}
    out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return report


def scaling(runs: dict[str, dict[str, Any]]) -> dict[str, float]:
    """Scaling efficiency of each worker count against one worker: throughput(k) divided by
    k times throughput(1) (1.0 is linear); empty without a one-worker run."""
    one = runs.get("1")
    if not one:
        return {}
    return {
        count: round(run["articles_per_s"] / (int(count) * one["articles_per_s"]), 3)
        for count, run in runs.items()
        if count != "1"
    }


def format_report(report: dict[str, Any]) -> str:
    lines = [
        f"{report['articles']} articles, {report['words']} words, {report['cores']} cores",
        "",
        f"{'run':<26}{'words/s':>10}{'articles/s':>12}{'vs bare':>9}",
    ]
    bare = report["bare_pipe"]
    lines.append(
        f"{'(a) bare nlp.pipe':<26}{bare['words_per_s']:>10}{bare['articles_per_s']:>12}{1.0:>9.2f}"
    )
    ext = report["extract"]
    lines.append(
        f"{'(b) extract (no Kafka)':<26}{ext['words_per_s']:>10}{ext['articles_per_s']:>12}"
        f"{ext['ratio_to_bare']:>9.2f}"
    )
    for count, e2e in report["end_to_end"].items():
        label = f"(c) Kafka, {count} worker(s)"
        lines.append(
            f"{label:<26}{e2e['words_per_s']:>10}{e2e['articles_per_s']:>12}"
            f"{e2e['ratio_to_bare']:>9.2f}"
        )
    after = report.get("bare_pipe_after")
    if after:
        lines.append(
            f"{'(a) again, after (c)':<26}{after['words_per_s']:>10}{'':>12}"
            f"{bare['seconds'] / after['seconds']:>9.2f}"
        )
    if report.get("scaling"):
        lines.append(
            "scaling efficiency against 1 worker: "
            + ", ".join(
                f"{count} workers {value:.2f}" for count, value in report["scaling"].items()
            )
        )
    lines.append("")
    for count, e2e in report["end_to_end"].items():
        lines.append(
            f"latency at {e2e['latency_rate_articles_per_s']} articles/s, {count} worker(s): "
            f"p50 {e2e['latency_p50_s']} s, p95 {e2e['latency_p95_s']} s, "
            f"p99 {e2e['latency_p99_s']} s; peak memory {e2e['peak_rss_mib']} MiB"
        )
    for count, e2e in report["end_to_end"].items():
        if "quotation_seconds" in e2e:
            lines.append(
                f"quotation step, {count} worker(s): {e2e['quotation_seconds']} s of "
                f"{e2e['seconds']} s, {100 * e2e['quotation_share']:.2f} % of the run"
                + (
                    f"; CPU {e2e['quotation_cpu_seconds']} s, "
                    f"{100 * e2e['quotation_cpu_share']:.2f} %"
                    if "quotation_cpu_share" in e2e
                    else ""
                )
            )
    warmup = report.get("warmup")
    if warmup:
        lines.append(
            f"warm-up pass (not in the table), {warmup['articles']} articles, "
            f"{warmup['seconds']} s: {_cpu_text(warmup['cpu_seconds'])}"
        )
    for count, e2e in report["end_to_end"].items():
        lines.append(
            f"CPU seconds at full rate, {count} worker(s), {e2e['seconds']} s: "
            f"{_cpu_text(e2e.get('cpu_seconds') or {})}"
        )
    return "\n".join(lines)


def _cpu_text(cpu: dict[str, float]) -> str:
    return ", ".join(f"{name} {value}" for name, value in cpu.items())


def run_soak(
    settings: Settings, root: Path, n: int, out: Path, *, sample_every: float = 10.0
) -> dict[str, Any]:
    """One worker enriching ``n`` articles produced at full speed; samples its memory and its
    rate every ``sample_every`` seconds while the table grows."""
    articles = build_corpus(corpus_texts(root), n, "soak")
    run_id = int(time.time())
    soak = settings.model_copy(update={"topic_prefix": f"soak{run_id}.", "app_id": f"soak{run_id}"})
    workdir = settings.data_dir / "bench"
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / f"{soak.topic_prefix}corpus.jsonl"
    path.write_bytes(b"".join(orjson.dumps(a.model_dump(mode="json")) + b"\n" for a in articles))
    enriched_topic = soak.topic("articles.enriched")
    starts = asyncio.run(result_offsets(soak))[enriched_topic]
    proc = bench_worker(soak, workdir)
    samples: list[dict[str, Any]] = []
    try:
        wait_healthy(proc, soak.web_port + 1)
        time.sleep(4)
        statements_topic, table_topic = soak.topic("statements"), soak.changelog_topic("speakers")
        # before the replay: measured after it, the worker has already counted some
        # statements between the two reads, and "counted" never catches up with "published"
        base = {
            t: sum(asyncio.run(end_offsets(soak, t)).values())
            for t in (statements_topic, table_topic)
        }
        asyncio.run(replay(soak, [path], progress=False))
        started = time.monotonic()
        while True:
            time.sleep(sample_every)
            if proc.poll() is not None:
                raise BrokerError(f"the soak worker exited with status {proc.returncode}")
            enriched = sum(asyncio.run(end_offsets(soak, enriched_topic)).values())
            enriched -= sum(starts.values())
            published, counted = (
                sum(asyncio.run(end_offsets(soak, t)).values()) - base[t]
                for t in (statements_topic, table_topic)
            )
            elapsed = time.monotonic() - started
            previous = samples[-1] if samples else {"seconds": 0.0, "enriched": 0, "counted": 0}
            window = elapsed - previous["seconds"]
            samples.append(
                {
                    "seconds": round(elapsed, 1),
                    "enriched": enriched,
                    "articles_per_s": round((enriched - previous["enriched"]) / window, 1),
                    "published": published,
                    "counted": counted,
                    "counted_per_s": round((counted - previous["counted"]) / window, 1),
                    "rss_mib": round(_proc_kib(proc.pid, "VmRSS") / 1024, 1),
                }
            )
            if enriched >= n and counted >= published:
                break
            if elapsed > 3600:
                raise BrokerError(f"soak: only {enriched} of {n} articles enriched after an hour")
    finally:
        stop_process(proc)
    # windows while articles were still arriving in full: the last ones are partial
    full = [s for s in samples if s["enriched"] < n] or samples
    quarter = max(1, len(full) // 4)
    first, last = full[:quarter], full[-quarter:]

    def rate(rows: list[dict[str, Any]]) -> float:
        return statistics.fmean(r["articles_per_s"] for r in rows)

    report = {
        "articles": n,
        "seconds": samples[-1]["seconds"],
        "samples": samples,
        "rate_first_quarter": round(rate(first), 1),
        "rate_last_quarter": round(rate(last), 1),
        "rate_ratio_last_to_first": round(rate(last) / rate(first), 3) if rate(first) else None,
        "rss_mib_after_first_quarter": first[-1]["rss_mib"],
        "rss_mib_at_end": samples[-1]["rss_mib"],
        "rss_growth_mib": round(samples[-1]["rss_mib"] - first[-1]["rss_mib"], 1),
    }
    out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return report


def format_soak(report: dict[str, Any]) -> str:
    lines = [
        f"soak: {report['articles']} articles through one worker in {report['seconds']} s",
        "",
        f"{'seconds':>8}{'enriched':>10}{'articles/s':>12}{'counted':>10}{'counted/s':>11}"
        f"{'RSS MiB':>10}",
    ]
    lines += [
        f"{s['seconds']:>8}{s['enriched']:>10}{s['articles_per_s']:>12}{s['counted']:>10}"
        f"{s['counted_per_s']:>11}{s['rss_mib']:>10}"
        for s in report["samples"]
    ]
    lines += [
        "",
        f"rate: first quarter {report['rate_first_quarter']}/s, last quarter "
        f"{report['rate_last_quarter']}/s (ratio {report['rate_ratio_last_to_first']})",
        f"memory: {report['rss_mib_after_first_quarter']} MiB after the first quarter, "
        f"{report['rss_mib_at_end']} MiB at the end ({report['rss_growth_mib']:+} MiB)",
    ]
    return "\n".join(lines)

"""``streams``: the one command-line entry point (``streams --help``)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click
import orjson

from streams.errors import ConfigError, StreamsError
from streams.settings import Settings

if TYPE_CHECKING:
    from aiohttp import web

    from streams.ingest.ingester import Ingester


def _settings() -> Settings:
    return Settings()


def _setup_logging(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # aiokafka narrates every subscription change at INFO; keep the terminal for our messages
    logging.getLogger("aiokafka").setLevel(max(logging.WARNING, logging.getLogger().level))


class _Group(click.Group):
    """Turns an expected failure into one line on stderr and exit status 1.

    Expected: a :class:`StreamsError` (a user mistake, a missing tool, a bad input) or a
    Kafka client that cannot connect. ``streams --debug ...`` or ``STREAMS_LOG_LEVEL=debug``
    shows the traceback instead.
    """

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except Exception as exc:
            message = _expected(exc)
            if message is None or _debug(ctx):
                raise
            click.echo(f"error: {message}", err=True)
            ctx.exit(1)


def _expected(exc: Exception) -> str | None:
    """The one-line message for an expected failure; None for a bug (traceback)."""
    if isinstance(exc, StreamsError):
        return str(exc)
    kafka_errors = sys.modules.get("aiokafka.errors")  # imported only by commands that use it
    if kafka_errors is not None and isinstance(exc, kafka_errors.KafkaConnectionError):
        from streams.kafka.clients import no_broker

        return str(no_broker(_settings(), exc))
    return None


def _debug(ctx: click.Context) -> bool:
    if ctx.params.get("debug"):
        return True
    try:
        return _settings().log_level.lower() == "debug"
    except Exception:  # the settings themselves are what failed
        return False


@click.group(cls=_Group)
@click.version_option(package_name="streams")
@click.option("--debug", is_flag=True, help="Show the traceback of an error, not one line.")
def cli(debug: bool) -> None:
    """Turn a live stream of news into attributed statements, on Kafka.

    Settings come from STREAMS_* environment variables (see the README).
    """


def _require_broker(settings: Settings) -> None:
    """One line and exit 1, before any Kafka client starts, when nothing answers."""
    from streams.kafka.clients import require_broker

    asyncio.run(require_broker(settings))


# --- broker --------------------------------------------------------------------------------


@cli.group()
def broker() -> None:
    """The local Apache Kafka broker (KRaft, one node, jars from Maven Central)."""


@broker.command("fetch")
def broker_fetch() -> None:
    """Fetch the broker's jars with Maven (cached; later starts need no network)."""
    from streams.broker import LocalKafka

    settings = _settings()
    _setup_logging(settings)
    click.echo(f"Kafka {settings.kafka_version} jars in {LocalKafka(settings).fetch()}")


@broker.command("start")
def broker_start() -> None:
    """Start the local broker and wait until it answers."""
    from streams.broker import LocalKafka

    settings = _settings()
    _setup_logging(settings)
    click.echo(f"broker: {LocalKafka(settings).start().describe()}")


@broker.command("stop")
def broker_stop() -> None:
    """Stop the local broker started from this folder."""
    from streams.broker import LocalKafka

    stopped = LocalKafka(_settings()).stop()
    click.echo("broker: stopped" if stopped else "broker: was not running")


@broker.command("status")
def broker_status() -> None:
    """Say whether the local broker runs and answers; exit 1 when it does not answer."""
    from streams.broker import LocalKafka

    status = LocalKafka(_settings()).status()
    click.echo(f"broker: {status.describe()}")
    sys.exit(0 if status.reachable else 1)


# --- worker, replay, tail ------------------------------------------------------------------


@cli.command()
def worker() -> None:
    """Run the Faust worker: the enrich and aggregate agents, the table and the web views."""
    import faust

    from streams.app.factory import create_app
    from streams.kafka.clients import changelog_specs, ensure_topics, topic_specs
    from streams.ports import check_free

    settings = _settings()
    _setup_logging(settings)
    # what can fail in a second fails before spaCy takes its seconds to load
    check_free(settings.web_host, settings.web_port, "STREAMS_WEB_PORT")
    _require_broker(settings)
    settings.data_dir.mkdir(parents=True, exist_ok=True)  # Faust's datadir goes inside
    parts = create_app(settings)
    internal = [
        *topic_specs(settings, internal=True),
        *changelog_specs(settings, parts.app.tables.values()),
    ]
    asyncio.run(ensure_topics(settings, extra=internal))
    parts.runner.warm()  # load spaCy before consuming: the first batch must not wait for it
    # what is loaded by now lives as long as the worker: out of the collector's sight, a
    # full collection walks the objects made since (~15,000, not ~110,000); the worker's
    # full collections took ~0.9 s per benchmark run before, ~0.1 s after
    gc.freeze()
    try:
        faust.Worker(
            parts.app, loglevel=settings.log_level, quiet=True, redirect_stdouts=False
        ).execute_from_commandline()
    finally:
        parts.runner.stop()


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--rate", type=float, default=None, help="At most N articles per second.")
@click.option("--loop", is_flag=True, help="Replay again and again until interrupted.")
def replay(paths: tuple[Path, ...], rate: float | None, loop: bool) -> None:
    """Produce articles from files and folders (.txt, .json, .jsonl) to articles.raw.

    Unreadable inputs are reported and skipped; the exit status is 1 when no article could be
    read at all."""
    from streams.errors import InputError
    from streams.sources.replay import replay as run_replay

    settings = _settings()
    _setup_logging(settings)
    report = asyncio.run(run_replay(settings, paths, rate=rate, loop=loop))
    for error in report.errors:
        click.echo(f"  skipped: {error}", err=True)
    if not report.produced:
        raise InputError(f"no article to replay in {', '.join(map(str, paths))}")
    click.echo(
        f"produced {report.produced} articles to {settings.topic('articles.raw')} "
        f"in {report.seconds:.1f}s; {len(report.errors)} inputs skipped"
    )


@cli.command()
@click.argument("urls", nargs=-1)
@click.option(
    "--feeds",
    "feeds_files",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A TOML feeds file ([[feed]] url, name, interval, language); repeatable.",
)
@click.option("--interval", type=float, default=None, help="Seconds between polls of a feed.")
@click.option("--once", is_flag=True, help="Poll every feed once, print a summary, exit.")
@click.option(
    "--metrics-port",
    type=int,
    default=None,
    help="Serve the ingester's counters as Prometheus text on 127.0.0.1:PORT/metrics.",
)
def ingest(
    urls: tuple[str, ...],
    feeds_files: tuple[Path, ...],
    interval: float | None,
    once: bool,
    metrics_port: int | None,
) -> None:
    """Poll RSS, Atom and JSON feeds; produce each new item once to articles.raw.

    With --once, prints one line per feed (new, duplicate, skipped, errors) and exits with
    status 1 only when every feed failed.
    """
    from streams.errors import ConfigError
    from streams.ingest.feeds import merge
    from streams.ingest.ingester import Ingester

    settings = _settings()
    _setup_logging(settings)
    feeds = merge(urls, feeds_files, interval=interval or settings.ingest_interval)
    if not feeds:
        raise ConfigError("give at least one feed URL or --feeds FILE")

    async def run() -> bool:
        async with Ingester(settings) as ingester:
            server = await _metrics_server(ingester, metrics_port) if metrics_port else None
            try:
                if not once:
                    await ingester.run_forever(feeds)
                    return True
                summaries = await ingester.run_once(feeds)
            finally:
                if server is not None:
                    await server.cleanup()
        for summary in summaries:
            click.echo(summary.line())
        return not all(s.failed for s in summaries)

    with contextlib.suppress(KeyboardInterrupt):
        if not asyncio.run(run()):
            sys.exit(1)


async def _metrics_server(ingester: Ingester, port: int) -> web.AppRunner:
    from aiohttp import web

    from streams.prometheus import CONTENT_TYPE

    async def metrics(request: web.Request) -> web.Response:
        text = ingester.metrics.prometheus()
        return web.Response(text=text, content_type=CONTENT_TYPE, charset="utf-8")

    app = web.Application()
    app.router.add_get("/metrics", metrics)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner


@cli.command()
@click.argument("topic")
@click.option(
    "--limit",
    "-n",
    type=int,
    default=None,
    help="How many records: the last N (default 10), or with --from-beginning the first N "
    "(default all).",
)
@click.option("--from-beginning", is_flag=True, help="Start at the oldest record.")
@click.option("-f", "--follow", is_flag=True, help="Then keep printing new records.")
@click.option(
    "--timeout",
    type=float,
    default=None,
    help="With --follow: stop after S seconds with no record.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["auto", "json", "readable"]),
    default="auto",
    show_default=True,
    help="json: one JSON object per line; readable: one line per record for people; "
    "auto: readable on a terminal, json otherwise.",
)
def tail(
    topic: str,
    limit: int | None,
    from_beginning: bool,
    follow: bool,
    timeout: float | None,
    fmt: str,
) -> None:
    """Print a topic's last records and exit, or keep following it with -f: JSON lines
    ({topic, partition, offset, timestamp, key, value}) or readable lines (statements as
    speaker, cue and quote; dead letters with their reason)."""
    from streams.cli.render import readable
    from streams.kafka.tail import end_offsets, latest
    from streams.kafka.tail import tail as run_tail

    settings = _settings()
    _setup_logging(settings)
    _require_broker(settings)
    human = fmt == "readable" or (fmt == "auto" and sys.stdout.isatty())

    def emit(record: dict[str, object]) -> None:
        if human:
            sys.stdout.write(readable(record) + "\n")
        else:
            sys.stdout.buffer.write(orjson.dumps(record) + b"\n")
        sys.stdout.flush()

    async def run() -> None:
        if from_beginning:
            ends = await end_offsets(settings, topic)
            await run_tail(settings, topic, emit, from_beginning=True, limit=limit, until=ends)
        else:
            records, ends = await latest(settings, topic, 10 if limit is None else limit)
            for record in records:
                emit(record)
        if follow:
            if sys.stderr.isatty():
                click.echo("waiting for new records… (Ctrl-C stops)", err=True)
            await run_tail(settings, topic, emit, start_offsets=ends, idle_timeout=timeout)

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())


@cli.command()
@click.option("--top", type=int, default=20, show_default=True, help="How many speakers.")
@click.option(
    "--sort",
    type=click.Choice(["statements", "articles", "name", "last_seen", "first_seen"]),
    default="statements",
    show_default=True,
)
@click.option("--json", "as_json", is_flag=True, help="Print the API's JSON page instead.")
@click.option(
    "--url",
    default=None,
    help="A worker's web address (default STREAMS_WEB_URL, else http://WEB_HOST:WEB_PORT).",
)
def speakers(top: int, sort: str, as_json: bool, url: str | None) -> None:
    """Print the speakers aggregate from a running worker (GET /speakers)."""
    import urllib.error
    import urllib.parse
    import urllib.request

    from streams.cli.render import speakers_table
    from streams.errors import ConfigError

    settings = _settings()
    base = (url or settings.web_url or f"http://{settings.web_host}:{settings.web_port}").rstrip(
        "/"
    )
    query = urllib.parse.urlencode({"limit": top, "sort": sort})
    try:
        with urllib.request.urlopen(f"{base}/speakers?{query}", timeout=30) as response:
            page = orjson.loads(response.read())
    except (urllib.error.URLError, OSError) as exc:
        raise ConfigError(
            f"no worker answers at {base} ({exc}); start one with `streams worker` or "
            "`streams demo`, or give --url"
        ) from exc
    if as_json:
        click.echo(orjson.dumps(page, option=orjson.OPT_INDENT_2).decode())
        return
    click.echo(speakers_table(page["items"]))
    shown = len(page["items"])
    note = " (some workers did not answer)" if page.get("partial") else ""
    click.echo(f"\n{shown} of {page['total']} speakers{note}")


# --- without Kafka -------------------------------------------------------------------------


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
def extract(files: tuple[Path, ...]) -> None:
    """Enrich files without Kafka: one EnrichedArticle JSON line per file, in input order."""
    from streams.codec import dumps
    from streams.nlp.enrich import Enricher
    from streams.nlp.registry import SpeakerRegistry
    from streams.sources.files import expand, read_articles

    settings = _settings()
    _setup_logging(settings)
    paths = expand(files)  # a missing path fails here, before the model loads
    enricher = Enricher.from_settings(settings)
    registry = SpeakerRegistry()  # speaker identities shared by every file of this call
    failed = 0
    for item in read_articles(paths):
        if isinstance(item, StreamsError):
            click.echo(f"error: {item}", err=True)
            failed += 1
            continue
        result = enricher.enrich([item])[0]
        if isinstance(result, StreamsError):
            click.echo(f"error: {item.article_id}: {result}", err=True)
            failed += 1
            continue
        result, _ = registry.apply(result)
        sys.stdout.buffer.write(dumps(result) + b"\n")
    sys.stdout.flush()
    sys.exit(1 if failed else 0)


@cli.command()
@click.option("--write", is_flag=True, help="Write the schema files instead of checking them.")
@click.option(
    "--dir",
    "directory",
    type=click.Path(path_type=Path),
    default=None,
    help="The schema files [default: schemas/ of the checkout this package runs from].",
)
def schemas(write: bool, directory: Path | None) -> None:
    """Check (or --write) the JSON Schemas in schemas/ against the record models."""
    from streams import schemas as schema_files
    from streams.checkout import CHECKOUT

    directory = directory or CHECKOUT / "schemas"
    if write:
        for path in schema_files.write(directory):
            click.echo(f"wrote {path}")
        return
    stale = schema_files.stale(directory)
    if stale:
        click.echo(f"stale schemas (run `streams schemas --write`): {', '.join(stale)}", err=True)
        sys.exit(1)
    click.echo(f"schemas in {directory} match the records")


@cli.command("eval")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option(
    "--annotated",
    type=click.Path(path_type=Path),
    default=None,
    help="The project's annotated set [default: tests/annotated of this checkout].",
)
@click.option(
    "--newsdev",
    type=click.Path(path_type=Path),
    default=None,
    help="newsdev, annotated independently to ANNOTATION.md "
    "[default: shared/data/newsdev beside this checkout; skipped when absent].",
)
@click.option(
    "--polnear",
    type=click.Path(path_type=Path),
    default=None,
    help="PolNeAR dev split "
    "[default: shared/data/polnear-dev beside this checkout; skipped when absent].",
)
@click.option(
    "--set",
    "only",
    type=click.Choice(["annotated", "newsdev", "polnear"]),
    multiple=True,
    help="Score only this set (repeat for several); all by default.",
)
@click.option("--limit", type=int, default=None, help="Score only the first N PolNeAR articles.")
@click.option("--problems", is_flag=True, help="List every set's misses and errors.")
@click.option("--no-cost", is_flag=True, help="Skip timing the extraction against bare nlp.pipe.")
def eval_command(
    as_json: bool,
    annotated: Path | None,
    newsdev: Path | None,
    polnear: Path | None,
    only: tuple[str, ...],
    limit: int | None,
    problems: bool,
    no_cost: bool,
) -> None:
    """Score the extraction on every evaluation set, side by side (table, or --json)."""
    from streams.evaluation.report import choose_sets, format_problems, format_report, run
    from streams.nlp.enrich import Enricher

    settings = _settings()
    _setup_logging(settings)
    given = {"annotated": annotated, "newsdev": newsdev, "polnear": polnear}
    sets = choose_sets(given, only)
    report = run(Enricher.from_settings(settings), sets, limit=limit, measure_cost=not no_cost)
    listing = format_problems(report, sets) if problems else ""
    if not problems:
        for entry in sets:
            report.get(entry.name, {}).pop("problems", None)
    if as_json:
        sys.stdout.buffer.write(orjson.dumps(report, option=orjson.OPT_INDENT_2) + b"\n")
        return
    click.echo(format_report(report, sets))
    if listing:
        click.echo(listing)


@cli.command()
@click.option(
    "--articles",
    "n",
    type=int,
    default=500,
    show_default=True,
    help="Corpus size (distinct ids, built from seeds/ and tests/annotated/).",
)
@click.option(
    "--workers",
    "workers",
    type=int,
    multiple=True,
    default=(1,),
    show_default=True,
    help="Worker processes for the end-to-end runs (repeat: --workers 1 --workers 2).",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="Where the JSON report goes [default: bench-report.json; bench-state.json with --state].",
)
@click.option(
    "--soak",
    is_flag=True,
    help="Instead: one worker through 10x the articles, sampling its memory and rate "
    "every 10 s as the table grows.",
)
@click.option(
    "--state",
    is_flag=True,
    help="Instead: statements only, no spaCy: synthetic statements over many speakers "
    "through the ledger and the aggregate, and registry lookups at 1,000 to 1,000,000 "
    "known speakers.",
)
@click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="A checkout of the project: its seeds/ and tests/annotated/ make the corpus "
    "[default: the checkout this package runs from].",
)
@click.option(
    "--statements",
    type=int,
    default=1_000_000,
    show_default=True,
    help="With --state: statements to produce.",
)
@click.option(
    "--speakers",
    type=int,
    default=100_000,
    show_default=True,
    help="With --state: speakers they are drawn from (Zipf).",
)
def bench(
    n: int,
    workers: tuple[int, ...],
    out: Path | None,
    soak: bool,
    state: bool,
    root: Path | None,
    statements: int,
    speakers: int,
) -> None:
    """Throughput and latency: bare nlp.pipe, extraction, and end to end through Kafka."""
    from streams.bench import corpus_texts, format_report, format_soak, run_bench, run_soak
    from streams.checkout import CHECKOUT
    from streams.demo import broker_for

    settings = _settings()
    _setup_logging(settings)
    out = out or Path("bench-state.json" if state else "bench-report.json")
    root = root or CHECKOUT
    if not state:
        corpus_texts(root)  # its data, before a broker is started for nothing
    with broker_for(settings):
        if state:
            from streams.bench_state import format_state, run_state_bench

            report = run_state_bench(settings, statements, speakers, out)
            click.echo(format_state(report))
        elif soak:
            report = run_soak(settings, root, n * 10, out)
            click.echo(format_soak(report))
        else:
            report = run_bench(settings, root, n, workers, out)
            click.echo(format_report(report))
    click.echo(f"\nreport written to {out}")


# --- demo ----------------------------------------------------------------------------------


@cli.command()
@click.option(
    "--once", is_flag=True, help="Exit after printing the table, stopping what it started."
)
@click.option(
    "--seeds",
    type=click.Path(exists=True, path_type=Path),
    default=None,
    help="Files or folder to replay [default: seeds/ of the checkout this package runs from].",
)
@click.option(
    "--timeout",
    type=float,
    default=300.0,
    show_default=True,
    help="Seconds to wait for the replayed articles to be processed.",
)
def demo(once: bool, seeds: Path | None, timeout: float) -> None:
    """Start the broker if none answers, a worker, replay the seeds, print the speakers table."""
    from streams.checkout import SEEDS
    from streams.demo import run_demo

    if seeds is None:
        if not SEEDS.is_dir():
            raise ConfigError(f"no seeds in {SEEDS}: give the articles to replay with --seeds")
        seeds = SEEDS
    settings = _settings()
    _setup_logging(settings)
    sys.exit(run_demo(settings, seeds, once=once, timeout=timeout))


def main() -> None:
    cli(prog_name="streams")


if __name__ == "__main__":
    main()

"""``streams replay``: produce articles from files to ``articles.raw``, keyed by article id."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from streams.codec import dumps
from streams.errors import InputError
from streams.kafka.clients import ensure_topics, producer, require_broker
from streams.limits import check_article
from streams.records import Article
from streams.settings import Settings
from streams.sources.files import read_articles

log = logging.getLogger(__name__)


@dataclass
class ReplayReport:
    """What one replay produced."""

    produced: int = 0
    errors: list[str] = field(default_factory=list)
    article_ids: list[str] = field(default_factory=list)
    seconds: float = 0.0


async def replay(
    settings: Settings,
    paths: Sequence[Path],
    *,
    rate: float | None = None,
    loop: bool = False,
    progress: bool = True,
    max_rounds: int | None = None,
) -> ReplayReport:
    """Produce every article in ``paths``; with ``loop``, again and again (until cancelled).

    ``rate`` caps articles per second. Unreadable inputs are listed in the report's
    ``errors`` (for the caller to show), not produced; with no readable article at all,
    nothing is sent and the report says so.
    """
    report = ReplayReport()
    articles: list[Article] = []
    for item in read_articles(paths):
        if isinstance(item, Article):
            try:
                articles.append(check_article(item, max_chars=settings.max_article_chars))
            except InputError as exc:  # the worker would only make it a dead letter
                report.errors.append(f"article {item.article_id}: {exc}")
        else:
            report.errors.append(str(item))
    if not articles:
        return report
    await require_broker(settings)  # one line, not a client's page of connection errors
    await ensure_topics(settings)
    topic = settings.topic("articles.raw")
    started = time.monotonic()
    client = producer(settings)
    await client.start()
    try:
        rounds = 0
        while True:
            bar = tqdm(articles, desc="replay", unit="article", disable=not progress)
            pending = []
            for n, article in enumerate(bar):
                if rate:
                    delay = started + (report.produced + 1) / rate - time.monotonic()
                    if delay > 0:
                        await asyncio.sleep(delay)
                pending.append(
                    await client.send(topic, dumps(article), key=article.article_id.encode("utf-8"))
                )
                report.produced += 1
                if rounds == 0:
                    report.article_ids.append(article.article_id)
                if n % 256 == 255:
                    await asyncio.gather(*pending)
                    pending.clear()
            await asyncio.gather(*pending)
            bar.close()
            rounds += 1
            if not loop or (max_rounds is not None and rounds >= max_rounds):
                break
    finally:
        await client.stop()
    report.seconds = time.monotonic() - started
    return report

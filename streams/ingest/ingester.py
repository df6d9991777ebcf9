"""``streams ingest``: poll feeds, produce each new item once to ``articles.raw``.

Per feed and poll: a conditional GET of the feed (304: nothing to do), the items parsed, and
for each item not seen before (by canonical URL or GUID, see :mod:`streams.ingest.seen`):
its text from the feed when the feed carries the full content, else the main text of its page
(trafilatura); its language (py3langid); an :class:`~streams.records.Article` produced to
``articles.raw``; its keys recorded as seen. Items without usable text, or in a language not in
``ingest_languages``, are skipped with a reason and recorded as seen (they are not fetched
again); items whose page could not be fetched count as errors and are tried again next poll.
One broken feed never stops the others.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from aiokafka import AIOKafkaProducer

from streams.codec import dumps
from streams.ids import article_id, canonical_url, digest
from streams.ingest.feeds import FeedConfig
from streams.ingest.http import Disallowed, Fetcher, FetchError
from streams.ingest.parse import FeedError, FeedItem, parse_feed
from streams.ingest.seen import SeenLog
from streams.ingest.text import fragment_text, language, page_text
from streams.kafka.clients import ensure_topics, producer
from streams.prometheus import exposition
from streams.records import Article, utcnow
from streams.settings import Settings

log = logging.getLogger(__name__)

_FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/json;q=0.9, "
    "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.1"
)
_PAGE_TYPES = ("text/html", "application/xhtml+xml")
#: Texts shorter than this are not given to the language detector; the feed's language is used.
_DETECT_MIN_CHARS = 40


@dataclass
class FeedSummary:
    """What one poll of one feed did."""

    name: str
    url: str
    new: int = 0
    duplicate: int = 0
    skipped: int = 0
    errors: int = 0
    not_modified: bool = False
    error: str | None = None  # the feed itself failed
    reasons: Counter[str] = field(default_factory=Counter)

    @property
    def failed(self) -> bool:
        return self.error is not None

    def line(self) -> str:
        text = (
            f"{self.name}: {self.new} new, {self.duplicate} duplicate, {self.skipped} skipped, "
            f"{self.errors} errors"
        )
        if self.not_modified:
            text += " (not modified)"
        if self.reasons:
            text += " [" + "; ".join(f"{r}: {n}" for r, n in sorted(self.reasons.items())) + "]"
        if self.error:
            text += f" — failed: {self.error}"
        return text


@dataclass
class IngestMetrics:
    """Counters over the ingester's life, as Prometheus text."""

    polls: int = 0
    feed_errors: int = 0
    new: int = 0
    duplicate: int = 0
    item_errors: int = 0
    skipped: Counter[str] = field(default_factory=Counter)

    def add(self, summary: FeedSummary) -> None:
        self.polls += 1
        self.feed_errors += summary.failed
        self.new += summary.new
        self.duplicate += summary.duplicate
        self.item_errors += summary.errors
        self.skipped.update(summary.reasons)

    def prometheus(self) -> str:
        rows = [
            ("ingest_polls_total", "counter", "Feed polls.", [("", self.polls)]),
            (
                "ingest_feed_errors_total",
                "counter",
                "Polls whose feed failed.",
                [("", self.feed_errors)],
            ),
            (
                "ingest_items_new_total",
                "counter",
                "Items produced to articles.raw.",
                [("", self.new)],
            ),
            (
                "ingest_items_duplicate_total",
                "counter",
                "Items seen before.",
                [("", self.duplicate)],
            ),
            (
                "ingest_item_errors_total",
                "counter",
                "Items whose page failed.",
                [("", self.item_errors)],
            ),
            (
                "ingest_items_skipped_total",
                "counter",
                "Items skipped, by reason.",
                [(f'{{reason="{r}"}}', n) for r, n in sorted(self.skipped.items())]
                or [('{reason="no text"}', 0)],
            ),
        ]
        lines = [line for row in rows for line in exposition(*row)]
        return "\n".join(lines) + "\n"


class _Skip(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def item_keys(item: FeedItem) -> list[str]:
    """The dedupe keys of an item: its canonical URL and its GUID, whichever it has."""
    keys = []
    if item.link:
        keys.append("url:" + digest("url", canonical_url(item.link)))
    if item.guid:
        keys.append("guid:" + digest("guid", item.guid.strip()))
    if not keys:
        keys.append("item:" + digest("item", item.title or "", item.summary_html or ""))
    return keys


class Ingester:
    """Polls feeds and produces new items; ``async with Ingester(settings) as ingester``."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.languages = {
            code.strip().lower() for code in settings.ingest_languages.split(",") if code.strip()
        }
        self.metrics = IngestMetrics()
        self.fetcher = Fetcher(settings)
        self._producer: AIOKafkaProducer | None = None
        self.seen: SeenLog | None = None
        self._claimed: set[str] = set()

    async def __aenter__(self) -> Ingester:
        await ensure_topics(self.settings)
        self._producer = producer(self.settings)
        await self._producer.start()
        try:
            self.seen = SeenLog(self.settings, self._producer)
            await self.seen.start()
            await self.fetcher.__aenter__()
        except BaseException:
            await self.__aexit__(None, None, None)
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.fetcher.__aexit__(*exc)
        if self.seen is not None:
            await self.seen.stop()
        if self._producer is not None:
            await self._producer.stop()

    async def run_once(self, feeds: Sequence[FeedConfig]) -> list[FeedSummary]:
        """Poll every feed once, concurrently; a feed that fails is reported, not raised."""
        return list(await asyncio.gather(*(self.poll(feed) for feed in feeds)))

    async def run_forever(self, feeds: Sequence[FeedConfig]) -> None:
        """Poll each feed every ``interval`` seconds (with jitter) until cancelled."""

        async def loop(feed: FeedConfig) -> None:
            while True:
                summary = await self.poll(feed)
                log.info("%s", summary.line())
                await asyncio.sleep(feed.interval * random.uniform(0.9, 1.1))

        await asyncio.gather(*(loop(feed) for feed in feeds))

    async def poll(self, feed: FeedConfig) -> FeedSummary:
        summary = FeedSummary(feed.name, feed.url)
        try:
            await self._poll(feed, summary)
        except (FetchError, FeedError) as exc:
            summary.error = str(exc)
            log.warning("feed %s failed: %s", feed.name, exc)
        except Exception as exc:  # one feed's bug must not stop the other feeds
            summary.error = f"unexpected {type(exc).__name__}: {exc}"
            log.exception("feed %s failed unexpectedly", feed.name)
        self.metrics.add(summary)
        return summary

    async def _poll(self, feed: FeedConfig, summary: FeedSummary) -> None:
        response = await self.fetcher.get(feed.url, conditional=True, accept=_FEED_ACCEPT)
        if response.not_modified:
            summary.not_modified = True
            return
        parsed = parse_feed(response.body, response.content_type, response.url)
        if parsed.warning:
            log.info("feed %s read despite: %s", feed.name, parsed.warning)
        lang = feed.language or parsed.lang
        results = await asyncio.gather(
            *(self._item(feed, item, lang, summary) for item in parsed.items)
        )
        del results

    async def _item(
        self, feed: FeedConfig, item: FeedItem, lang: str | None, summary: FeedSummary
    ) -> None:
        assert self.seen is not None and self._producer is not None
        keys = item_keys(item)
        if any(k in self.seen or k in self._claimed for k in keys):
            summary.duplicate += 1
            return
        self._claimed.update(keys)
        try:
            await self._claimed_item(feed, item, keys, lang, summary)
        finally:
            self._claimed.difference_update(keys)

    async def _claimed_item(
        self,
        feed: FeedConfig,
        item: FeedItem,
        keys: list[str],
        lang: str | None,
        summary: FeedSummary,
    ) -> None:
        assert self.seen is not None and self._producer is not None
        try:
            article = await self._article(feed, item, lang)
        except _Skip as skip:
            summary.skipped += 1
            summary.reasons[skip.reason] += 1
            log.info("skipped %s: %s", item.link or item.guid, skip.reason)
            await self.seen.add(keys, skipped=skip.reason, url=item.link)
            return
        except FetchError as exc:
            summary.errors += 1
            summary.reasons["page failed"] += 1
            log.warning("item %s of %s: %s", item.link, feed.name, exc)
            return
        await self._producer.send_and_wait(
            self.settings.topic("articles.raw"),
            dumps(article),
            key=article.article_id.encode("utf-8"),
        )
        await self.seen.add(keys, article_id=article.article_id, url=article.url)
        summary.new += 1

    async def _article(self, feed: FeedConfig, item: FeedItem, lang: str | None) -> Article:
        text = fragment_text(item.content_html) if item.content_html else ""
        summary_text = fragment_text(item.summary_html) if item.summary_html else ""
        title, author, published = item.title, item.author, item.published
        if len(text) < self.settings.ingest_min_chars and item.link:
            try:
                page = await self.fetcher.get(item.link, accept="text/html,application/xhtml+xml")
            except Disallowed as exc:
                raise _Skip("disallowed by robots.txt") from exc
            if page.content_type not in _PAGE_TYPES:
                raise _Skip(f"not an HTML page ({page.content_type or 'no content type'})")
            extracted = page_text(page.body, page.url)  # trafilatura finds the encoding
            if extracted is not None:
                text = extracted.text
                title = title or extracted.title
                author = author or extracted.author
                published = published or extracted.published
        if len(summary_text) > len(text):
            text = summary_text
        if len(text) < self.settings.ingest_min_chars:
            raise _Skip("no usable text")
        detected = language(text) if len(text) >= _DETECT_MIN_CHARS else lang
        if detected and self.languages and detected not in self.languages:
            raise _Skip(f"language {detected}")
        url = canonical_url(item.link) if item.link else None
        return Article(
            article_id=article_id(url=url, given=None if url else _guid_id(item), text=text),
            url=url,
            source=feed.name,
            title=_clip(title),
            text=text,
            published_at=published,
            fetched_at=utcnow(),
            lang=detected,
        )


def _guid_id(item: FeedItem) -> str | None:
    return digest("guid", item.guid.strip()) if item.guid else None


def _clip(value: str | None, limit: int = 1000) -> str | None:
    return value[:limit] if value else value

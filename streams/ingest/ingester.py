"""``streams ingest``: poll feeds, produce each new item once to ``articles.raw``.

Per feed and poll: a conditional GET of the feed (304: the items of the last poll are looked at
again only when some of them failed), the items parsed, and each item settled on its own (see
:mod:`streams.ingest.summary` for the four counts): not done with before (by canonical URL,
GUID or content hash, see :mod:`streams.ingest.seen`), its text from the feed when the feed
carries the full content, else the main text of its page (trafilatura); its language
(py3langid); an :class:`~streams.records.Article` produced to ``articles.raw`` in the same
transaction as its keys' record. Items without usable text, or in a language not in
``ingest_languages``, are skipped with a reason and recorded (they are not fetched again);
items whose page could not be fetched count as errors and are tried again at a later poll,
with backoff, until ``ingest_item_attempts`` failures make them given up. Nothing an item does
can fail its feed, and one broken feed never stops the others.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Sequence
from datetime import timedelta

from pydantic import ValidationError

from streams.codec import dumps
from streams.errors import RecordError
from streams.ids import article_id, canonical_url, digest
from streams.ingest.charset import decode
from streams.ingest.feeds import FeedConfig
from streams.ingest.http import Disallowed, Fetcher, FetchError
from streams.ingest.items import Feed, FeedError, FeedItem
from streams.ingest.parse import parse_feed
from streams.ingest.seen import ERROR, GIVEN_UP, NEW, SKIPPED, Failure, SeenLog
from streams.ingest.summary import FeedSummary, IngestMetrics
from streams.ingest.text import fragment_text, language, page_text
from streams.kafka.clients import ensure_topics
from streams.limits import TooLong, check_article
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
#: How an outcome recorded in ``ingest.seen`` counts in a summary.
_COUNTED_AS = {NEW: "new", SKIPPED: "skipped", GIVEN_UP: "skipped", ERROR: "error"}
WAITING = "waiting to retry"

#: What became of one item at one poll: new, duplicate, skipped or error, and why.
Outcome = tuple[str, str]


class _Skip(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def item_keys(item: FeedItem) -> list[str]:
    """The dedupe keys of an item: its canonical URL and its GUID, else its content's hash."""
    keys = []
    if item.link:
        keys.append("url:" + digest("url", canonical_url(item.link)))
    if item.guid:
        keys.append("guid:" + digest("guid", item.guid.strip()))
    if not keys:
        parts = (item.title, item.summary_html, item.content_html)
        keys.append("item:" + digest("item", *(part or "" for part in parts)))
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
        self.seen: SeenLog | None = None
        self._claimed: set[str] = set()
        self._titles: dict[str, str] = {}  # feed URL → title at its last successful read
        self._retry: dict[str, Feed] = {}  # feed URL → its last read, while items failed

    async def __aenter__(self) -> Ingester:
        await ensure_topics(self.settings)
        try:
            self.seen = SeenLog(self.settings)
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
        summary = FeedSummary(feed.label(self._titles.get(feed.url)), feed.url)
        try:
            await self._poll(feed, summary)
        except (FetchError, FeedError) as exc:
            summary.error = str(exc)
            log.warning("feed %s failed: %s", summary.name, exc)
        except Exception as exc:  # one feed's bug must not stop the other feeds
            summary.error = f"unexpected {type(exc).__name__}: {exc}"
            log.exception("feed %s failed unexpectedly", summary.name)
        if not summary.accounted:
            log.error("feed %s: items not all accounted for: %s", summary.name, summary.line())
        self.metrics.add(summary)
        return summary

    async def _poll(self, feed: FeedConfig, summary: FeedSummary) -> None:
        response = await self.fetcher.get(feed.url, conditional=True, accept=_FEED_ACCEPT)
        if response.not_modified:
            summary.not_modified = True
            parsed = self._retry.get(feed.url)
            if parsed is None:
                return
        else:
            parsed = parse_feed(response.body, response.declared_type, response.url)
        if parsed.title:
            self._titles[feed.url] = parsed.title
            summary.name = feed.label(parsed.title)
        if parsed.warning:
            summary.warning = parsed.warning
            log.info("feed %s read despite: %s", summary.name, parsed.warning)
        summary.items = parsed.entries
        summary.skip_reasons.update(parsed.rejected)
        for item in parsed.items:
            summary.ignored.update(item.ignored)
        lang = feed.language or parsed.lang
        outcomes = await asyncio.gather(
            *(self._item(feed, summary.name, item, lang) for item in parsed.items)
        )
        for kind, reason in outcomes:
            if kind == "new":
                summary.new += 1
            elif kind == "duplicate":
                summary.duplicate += 1
            elif kind == "skipped":
                summary.skip_reasons[reason] += 1
            else:
                summary.error_reasons[reason] += 1
        if summary.errors:  # a 304 at the next poll must not hide the items to retry
            self._retry[feed.url] = parsed
        else:
            self._retry.pop(feed.url, None)

    async def _item(
        self, feed: FeedConfig, label: str, item: FeedItem, lang: str | None
    ) -> Outcome:
        assert self.seen is not None
        keys = item_keys(item)
        if self.seen.state.known(keys) or any(k in self._claimed for k in keys):
            return "duplicate", ""
        failure = self.seen.state.failure(keys)
        if failure is not None and failure.retry_at > utcnow():
            return "error", f"{WAITING}: {failure.reason}"
        self._claimed.update(keys)
        try:
            return await self._settle(feed, label, item, keys, lang, failure)
        finally:
            self._claimed.difference_update(keys)

    async def _settle(
        self,
        feed: FeedConfig,
        label: str,
        item: FeedItem,
        keys: list[str],
        lang: str | None,
        failure: Failure | None,
    ) -> Outcome:
        name = item.link or item.guid or item.title or "an item without link, id or title"
        try:
            article = await self._article(feed, item, lang)
        except _Skip as skip:
            log.info("skipped %s of %s: %s", name, label, skip.reason)
            return await self._record(name, keys, SKIPPED, reason=skip.reason, url=item.link)
        except FetchError as exc:
            reason = exc.reason if exc.reason.startswith("robots.txt") else f"page {exc.reason}"
            log.warning("item %s of %s: %s", name, label, exc)
        except Exception as exc:  # one item's bug must not cost its feed or its neighbours
            reason = f"unexpected {type(exc).__name__}"
            log.exception("item %s of %s failed unexpectedly", name, label)
        else:
            return await self._record(
                name, keys, NEW, article=article, article_id=article.article_id, url=article.url
            )
        attempts = (failure.attempts if failure else 0) + 1
        if attempts >= self.settings.ingest_item_attempts:
            log.warning("giving up %s of %s after %d attempts: %s", name, label, attempts, reason)
            return await self._record(
                name, keys, GIVEN_UP, reason=reason, attempts=attempts, url=item.link
            )
        wait = self.settings.ingest_item_backoff * 2 ** (attempts - 1)
        retry_at = (utcnow() + timedelta(seconds=wait)).isoformat()
        return await self._record(
            name, keys, ERROR, reason=reason, attempts=attempts, retry_at=retry_at, url=item.link
        )

    async def _record(
        self,
        name: str,
        keys: list[str],
        outcome: str,
        *,
        article: Article | None = None,
        **about: object,
    ) -> Outcome:
        """Record the item's outcome (with its article, in one transaction); how it counts."""
        assert self.seen is not None
        produced = (article.article_id, dumps(article)) if article is not None else None
        try:
            await self.seen.record(keys, outcome, article=produced, **about)
        except Exception as exc:  # nothing was produced: the item is tried again next poll
            log.warning("item %s not recorded, so not produced: %r", name, exc)
            return "error", f"not recorded ({type(exc).__name__})"
        reason = str(about.get("reason", ""))
        return _COUNTED_AS[outcome], f"given up: {reason}" if outcome == GIVEN_UP else reason

    async def _article(self, feed: FeedConfig, item: FeedItem, lang: str | None) -> Article:
        text = fragment_text(item.content_html) if item.content_html else ""
        summary_text = fragment_text(item.summary_html) if item.summary_html else ""
        title, author, published = item.title, item.author, item.published
        unusable = "no usable text"  # why the item is skipped when no text is long enough
        if len(text) < self.settings.ingest_min_chars and item.link:
            try:
                page = await self.fetcher.get(item.link, accept="text/html,application/xhtml+xml")
            except Disallowed:
                unusable = "disallowed by robots.txt"
            else:
                if page.content_type not in _PAGE_TYPES:
                    unusable = f"not an HTML page ({page.content_type or 'no content type'})"
                elif extracted := page_text(decode(page.body, page.declared_type), page.url):
                    text = extracted.text
                    title = title or extracted.title
                    author = author or extracted.author
                    published = published or extracted.published
        if len(summary_text) > len(text):
            text = summary_text
        if len(text) < self.settings.ingest_min_chars:
            raise _Skip(unusable)
        detected = language(text) if len(text) >= _DETECT_MIN_CHARS else lang
        if detected and self.languages and detected not in self.languages:
            raise _Skip(f"language {detected}")
        url = canonical_url(item.link) if item.link else None
        try:
            article = Article(
                article_id=article_id(url=url, given=None if url else _guid_id(item), text=text),
                url=url,
                source=feed.source,
                title=_clip(title),
                text=text,
                published_at=published,
                fetched_at=utcnow(),
                lang=detected,
            )
            return check_article(article, max_chars=self.settings.max_article_chars)
        except TooLong as exc:
            raise _Skip("text over STREAMS_MAX_ARTICLE_CHARS") from exc
        except (ValidationError, RecordError) as exc:
            raise _Skip("over the article limits") from exc


def _guid_id(item: FeedItem) -> str | None:
    return digest("guid", item.guid.strip()) if item.guid else None


def _clip(value: str | None, limit: int = 1000) -> str | None:
    return value[:limit] if value else value

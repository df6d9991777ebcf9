"""Feeds to items: RSS 0.9x/1.0/2.0 and Atom through feedparser, JSON Feed in :mod:`jsonfeed`.

Each entry is read on its own: a field that cannot be read (a date no calendar holds) is left
out and noted on the item, an entry with nothing in it is rejected with its reason, and
neither costs the feed its other items. A feed feedparser flags as faulty ("bozo") but still
reads is returned with the fault as its ``warning``; only a document from which nothing at
all could be read is a :class:`FeedError`.
"""

from __future__ import annotations

import calendar
from datetime import UTC, datetime
from typing import Any

import feedparser

from streams.ingest.charset import utf8
from streams.ingest.items import NO_DATE, Feed, FeedError, FeedItem, lang_code
from streams.ingest.jsonfeed import json_feed

_DATE_KEYS = ("published", "updated", "created")


def parse_feed(body: bytes, content_type: str = "", url: str = "") -> Feed:
    """Parse a feed body; raises :class:`FeedError` for anything that is no feed."""
    head = body.lstrip()[:1]
    if "json" in content_type or head in (b"{", b"["):
        return json_feed(body, content_type)
    media = content_type.split(";")[0].strip() or "application/xml"
    body, declared = utf8(body, content_type)
    parsed = feedparser.parse(
        body,
        response_headers={
            "content-location": url,
            "content-type": content_type if declared else f"{media}; charset=utf-8",
        },
        sanitize_html=True,
        resolve_relative_uris=True,
    )
    items: list[FeedItem] = []
    rejected: list[str] = []
    for entry in parsed.entries:
        item = _rss_item(entry)
        if isinstance(item, str):
            rejected.append(item)
        else:
            items.append(item)
    problem = str(parsed.get("bozo_exception", "")) if parsed.bozo else None
    version = parsed.get("version") or ""
    title = _text(parsed.feed.get("title"))
    if not version and not items:
        shown = content_type or "no content type"
        raise FeedError(f"not a feed ({shown}){': ' + problem if problem else ''}")
    if problem and not items and not title:
        raise FeedError(f"malformed feed: {problem}")
    return Feed(
        format=version or "unknown",
        title=title,
        lang=lang_code(parsed.feed.get("language")),
        items=items,
        rejected=rejected,
        warning=problem,
    )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _when(entry: Any) -> tuple[datetime | None, bool]:
    """The entry's date, and whether it had one that could not be read."""
    unreadable = False
    for key in _DATE_KEYS:
        value = entry.get(f"{key}_parsed")
        if value:
            try:
                return datetime.fromtimestamp(calendar.timegm(value), UTC), False
            except (ValueError, OverflowError, OSError):  # year 0, year 10000…
                unreadable = True
        elif entry.get(key):  # a date feedparser could not parse
            unreadable = True
    return None, unreadable


def _rss_item(entry: Any) -> FeedItem | str:
    """The item, or the reason the entry cannot be one."""
    content = None
    for part in entry.get("content") or ():
        if isinstance(part, dict) and _text(part.get("value")):
            content = part["value"]
            break
    link, guid, title = _text(entry.get("link")), _text(entry.get("id")), _text(entry.get("title"))
    summary = _text(entry.get("summary"))
    if not (link or guid or title or content or summary):
        return "empty item"
    published, unreadable = _when(entry)
    return FeedItem(
        guid=guid,
        link=link,
        title=title,
        author=_text(entry.get("author")),
        published=published,
        content_html=content,
        summary_html=summary,
        ignored=(NO_DATE,) if unreadable else (),
    )

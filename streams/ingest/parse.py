"""Feeds to items: RSS 0.9x/1.0/2.0 and Atom through feedparser, JSON Feed 1.x by hand.

feedparser 6.0 does not read JSON Feed, which is a small JSON document
(https://www.jsonfeed.org/version/1.1/): it is mapped onto the same :class:`FeedItem`.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import feedparser
import orjson

from streams.errors import StreamsError


class FeedError(StreamsError):
    """A body that is not a feed this module can read; the message says what it looked like."""


@dataclass(frozen=True)
class FeedItem:
    """One entry of a feed, before its text is settled."""

    guid: str | None
    link: str | None
    title: str | None
    author: str | None
    published: datetime | None
    content_html: str | None  # the full content when the feed carries it
    summary_html: str | None


@dataclass(frozen=True)
class Feed:
    """A parsed feed: its format, title, declared language and items, in feed order."""

    format: str
    title: str | None
    lang: str | None
    items: list[FeedItem]
    warning: str | None = None  # the parser's complaint about a feed it could still read


def parse_feed(body: bytes, content_type: str = "", url: str = "") -> Feed:
    """Parse a feed body; raises :class:`FeedError` for anything that is no feed."""
    head = body.lstrip()[:1]
    if "json" in content_type or head in (b"{", b"["):
        return _json_feed(body)
    parsed = feedparser.parse(
        body,
        response_headers={"content-location": url, "content-type": content_type or "text/xml"},
        sanitize_html=True,
        resolve_relative_uris=True,
    )
    items = [item for entry in parsed.entries if (item := _rss_item(entry)) is not None]
    problem = str(parsed.get("bozo_exception", "")) if parsed.bozo else None
    version = parsed.get("version") or ""
    if not version and not items:
        shown = content_type or "no content type"
        raise FeedError(f"not a feed ({shown}){': ' + problem if problem else ''}")
    if problem and not items:
        raise FeedError(f"malformed feed: {problem}")
    feed = parsed.feed
    return Feed(
        format=version or "unknown",
        title=feed.get("title"),
        lang=_lang(feed.get("language")),
        items=items,
        warning=problem,
    )


def _lang(value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip().split("-")[0].split("_")[0].lower()


def _when(entry: Any) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if value:
            return datetime.fromtimestamp(calendar.timegm(value), UTC)
    return None


def _rss_item(entry: Any) -> FeedItem | None:
    link = entry.get("link") or None
    guid = entry.get("id") or None
    title = entry.get("title") or None
    if not (link or guid or title):
        return None
    content = None
    for part in entry.get("content") or ():
        if part.get("value"):
            content = part["value"]
            break
    return FeedItem(
        guid=guid,
        link=link,
        title=title,
        author=entry.get("author") or None,
        published=_when(entry),
        content_html=content,
        summary_html=entry.get("summary") or None,
    )


def _json_feed(body: bytes) -> Feed:
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise FeedError(f"malformed JSON feed: {exc}") from exc
    version = doc.get("version") if isinstance(doc, dict) else None
    if not isinstance(version, str) or not version.startswith("https://jsonfeed.org/version/"):
        raise FeedError("not a feed (JSON without a jsonfeed.org version)")
    items: list[FeedItem] = []
    for raw in doc.get("items") or ():
        if not isinstance(raw, dict):
            continue
        authors = raw.get("authors") or ([raw["author"]] if raw.get("author") else [])
        names = [str(a["name"]) for a in authors if isinstance(a, dict) and a.get("name")]
        text = raw.get("content_text")
        html = raw.get("content_html")
        if html is None and isinstance(text, str):
            html = "".join(f"<p>{_escape(p)}</p>" for p in text.split("\n") if p.strip())
        items.append(
            FeedItem(
                guid=str(raw["id"]) if raw.get("id") is not None else None,
                link=raw.get("url") or raw.get("external_url"),
                title=raw.get("title"),
                author=", ".join(names) or None,
                published=_iso(raw.get("date_published") or raw.get("date_modified")),
                content_html=html if isinstance(html, str) else None,
                summary_html=raw.get("summary"),
            )
        )
    return Feed(
        format=version.rsplit("/", 1)[-1] and f"json{version.rsplit('/', 1)[-1]}",
        title=doc.get("title"),
        lang=_lang(doc.get("language")),
        items=items,
    )


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _iso(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)

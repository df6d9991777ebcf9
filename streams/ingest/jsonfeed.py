"""JSON Feed 1.x (https://www.jsonfeed.org/version/1.1/) to items.

feedparser 6.0 does not read JSON Feed. Each item is validated on its own against a strict
model: an item whose fields have the wrong JSON types (a number for a URL, a list for a title)
is rejected with the names of those fields, and its neighbours are read as usual.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, ValidationError

from streams.ingest.charset import decode
from streams.ingest.items import NO_DATE, Feed, FeedError, FeedItem, aware, lang_code

VERSION_PREFIX = "https://jsonfeed.org/version/"


class _Author(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)

    name: str | None = None


class _Item(BaseModel):
    """The fields of a JSON Feed item that become a :class:`FeedItem`, with their types."""

    model_config = ConfigDict(extra="ignore", strict=True)

    id: str | int | None = None  # a string in 1.1; numbers are common and kept
    url: str | None = None
    external_url: str | None = None
    title: str | None = None
    summary: str | None = None
    content_html: str | None = None
    content_text: str | None = None
    date_published: str | None = None
    date_modified: str | None = None
    authors: list[_Author] | None = None
    author: _Author | str | None = None  # 1.0: an object; a bare name is common


def json_feed(body: bytes, content_type: str = "") -> Feed:
    """Parse a JSON Feed; raises :class:`FeedError` for a document that is none."""
    try:
        doc = orjson.loads(decode(body, content_type))
    except orjson.JSONDecodeError as exc:
        raise FeedError(f"malformed JSON feed: {exc}") from exc
    version = doc.get("version") if isinstance(doc, dict) else None
    if not isinstance(version, str) or not version.startswith(VERSION_PREFIX):
        raise FeedError("not a feed (JSON without a jsonfeed.org version)")
    entries = doc.get("items")
    if entries is None:
        entries = []
    if not isinstance(entries, list):
        raise FeedError(f"malformed JSON feed: items is {_json_type(entries)}, not an array")
    items: list[FeedItem] = []
    rejected: list[str] = []
    for entry in entries:
        item = _item(entry)
        if isinstance(item, str):
            rejected.append(item)
        else:
            items.append(item)
    title = doc.get("title")
    return Feed(
        format=f"json{version.removeprefix(VERSION_PREFIX)}",
        title=title if isinstance(title, str) and title.strip() else None,
        lang=lang_code(doc.get("language")),
        items=items,
        rejected=rejected,
    )


def _item(entry: object) -> FeedItem | str:
    """The item, or the reason it cannot be one."""
    if not isinstance(entry, dict):
        return f"invalid JSON item: {_json_type(entry)}, not an object"
    try:
        raw = _Item.model_validate(entry)
    except ValidationError as exc:
        fields = sorted({str(error["loc"][0]) for error in exc.errors() if error["loc"]})
        return f"invalid JSON item: {', '.join(fields) or 'fields'}"
    html = raw.content_html
    if html is None and raw.content_text is not None:
        html = "".join(f"<p>{_escape(p)}</p>" for p in raw.content_text.split("\n") if p.strip())
    link = raw.url or raw.external_url
    guid = str(raw.id) if raw.id is not None else None
    if not (guid or link or raw.title or html or raw.summary):
        return "empty item"
    authors: list[_Author | str] = list(raw.authors or [])
    if not authors and raw.author:
        authors.append(raw.author)
    names = [a if isinstance(a, str) else a.name for a in authors]
    stamp = raw.date_published or raw.date_modified
    published = _iso(stamp)
    return FeedItem(
        guid=guid,
        link=link,
        title=raw.title or None,
        author=", ".join(n for n in names if n) or None,
        published=published,
        content_html=html,
        summary_html=raw.summary or None,
        ignored=(NO_DATE,) if stamp and published is None else (),
    )


def _json_type(value: Any) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return "a number"
    return names.get(type(value), type(value).__name__)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _iso(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return aware(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        return None

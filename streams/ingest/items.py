"""What a parsed feed is made of, whatever its format: items, and entries that are not items.

Every entry of a feed document becomes either a :class:`FeedItem` or a reason in
``Feed.rejected``, so ``len(items) + len(rejected)`` is the number of entries the document has.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from streams.errors import StreamsError

#: The note of an item whose date could not be read: it is kept, without a date.
NO_DATE = "date unreadable"


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
    ignored: tuple[str, ...] = ()  # fields that could not be read and were left out


@dataclass(frozen=True)
class Feed:
    """A parsed feed: its format, title, declared language and items, in feed order."""

    format: str
    title: str | None
    lang: str | None
    items: list[FeedItem]
    rejected: list[str]  # one reason for each entry that could not be read as an item
    warning: str | None = None  # the parser's complaint about a feed it could still read

    @property
    def entries(self) -> int:
        """How many entries the document has: items and rejected ones."""
        return len(self.items) + len(self.rejected)


def lang_code(value: object) -> str | None:
    """``en-GB`` → ``en``; None for anything that is not a language tag."""
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip().split("-")[0].split("_")[0].lower()


def aware(when: datetime) -> datetime:
    """A datetime with a time zone: UTC when it had none."""
    return when if when.tzinfo else when.replace(tzinfo=UTC)

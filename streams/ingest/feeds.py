"""Which feeds to poll: URLs on the command line, or a TOML feeds file.

A feeds file lists ``[[feed]]`` tables::

    [[feed]]
    url = "https://example.org/world/rss.xml"
    name = "Example World"      # optional; names the feed in summaries and as articles' source
    interval = 600              # optional; seconds between polls (default: ingest_interval)
    language = "en"             # optional; used when an item's text is too short to detect
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from streams.errors import ConfigError


@dataclass(frozen=True)
class FeedConfig:
    url: str
    name: str | None  # as given; None: the feed's title names it, its host is the source
    interval: float
    language: str | None = None

    @property
    def source(self) -> str:
        """The ``source`` of the feed's articles: its name, else its host."""
        return self.name or urlsplit(self.url).hostname or self.url

    def label(self, title: str | None = None) -> str:
        """How summaries and logs name the feed: its name, else its title, else host and path."""
        if self.name:
            return self.name
        if title and title.strip():
            return " ".join(title.split())
        parts = urlsplit(self.url)
        return f"{parts.netloc}{parts.path}" + (f"?{parts.query}" if parts.query else "")


def feed(
    url: str, *, interval: float, name: str | None = None, language: str | None = None
) -> FeedConfig:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"feed URL must be http(s) with a host: {url!r}")
    return FeedConfig(url=url, name=name or None, interval=interval, language=language)


def load_feeds(path: Path, *, interval: float) -> list[FeedConfig]:
    """Read a feeds file; raises :class:`ConfigError` naming the entry that is wrong."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read feeds file {path}: {exc}") from exc
    entries = data.get("feed")
    if not isinstance(entries, list) or not entries:
        raise ConfigError(f"{path}: no [[feed]] entries")
    feeds = []
    for n, entry in enumerate(entries, 1):
        if not isinstance(entry, dict) or not isinstance(entry.get("url"), str):
            raise ConfigError(f"{path}: feed #{n} has no url")
        unknown = set(entry) - {"url", "name", "interval", "language"}
        if unknown:
            raise ConfigError(f"{path}: feed #{n} has unknown keys {sorted(unknown)}")
        every = entry.get("interval", interval)
        if not isinstance(every, int | float) or every <= 0:
            raise ConfigError(f"{path}: feed #{n} interval must be a positive number")
        feeds.append(
            feed(
                entry["url"],
                interval=float(every),
                name=entry.get("name"),
                language=entry.get("language"),
            )
        )
    return feeds


def merge(urls: Sequence[str], files: Sequence[Path], *, interval: float) -> list[FeedConfig]:
    """Feeds from URLs and files, each URL once (the first entry wins)."""
    out: dict[str, FeedConfig] = {}
    for path in files:
        for cfg in load_feeds(path, interval=interval):
            out.setdefault(cfg.url, cfg)
    for url in urls:
        out.setdefault(url, feed(url, interval=interval))
    return list(out.values())

"""Polite, bounded HTTP for feeds and article pages.

One :class:`Fetcher` per ingester: a shared connection pool (``ingest_connections``), one
request at a time per host with ``ingest_host_delay`` seconds between them (more when the
host's robots.txt asks for a Crawl-delay), robots.txt obeyed (RFC 9309: a 4xx robots.txt
allows everything; a 5xx or unreachable one allows nothing until it is asked again, which is
an error of the request, :class:`FetchError`, not a refusal, :class:`Disallowed`),
conditional GET with the ETag / Last-Modified of the last answer, a timeout per request, a cap
on the body read (after gzip), at most five redirects, and retries with exponential backoff
and jitter after timeouts, connection errors, 429 and 5xx answers.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import aiohttp
from protego import Protego

from streams.errors import StreamsError
from streams.settings import Settings

log = logging.getLogger(__name__)

MAX_REDIRECTS = 5
#: robots.txt answers are kept this long before they are asked again.
ROBOTS_TTL = 3600.0
#: A 5xx or unreachable robots.txt is asked again after this long.
ROBOTS_RETRY = 300.0


class FetchError(StreamsError):
    """A feed or page could not be fetched; the message says why (status, timeout, cap…).

    ``reason`` is the short, stable form of why (``HTTP 503``, ``timed out``, ``unreachable``,
    ``robots.txt HTTP 503``…), fit for a summary line and a metrics label.
    """

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class Disallowed(FetchError):
    """The host's robots.txt does not allow our User-Agent to fetch the URL."""


@dataclass(frozen=True)
class Response:
    """What a GET brought back: the final URL, the status, the headers that matter, the body."""

    url: str
    status: int
    content_type: str  # the media type alone
    body: bytes
    not_modified: bool = False
    etag: str | None = None
    last_modified: str | None = None
    charset: str | None = None  # as the Content-Type header declares it

    @property
    def declared_type(self) -> str:
        """The Content-Type with its charset, as the server sent them."""
        return f"{self.content_type}; charset={self.charset}" if self.charset else self.content_type


@dataclass
class _Robots:
    rules: Protego | None  # None: everything allowed
    failure: str | None  # why robots.txt could not be read: nothing is fetched there for now
    expires: float


@dataclass
class _Host:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    next_at: float = 0.0


class Fetcher:
    """The ingester's HTTP client; use as ``async with Fetcher(settings) as fetcher``."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._session: aiohttp.ClientSession | None = None
        self._hosts: dict[str, _Host] = {}
        self._robots: dict[str, _Robots] = {}
        self._robots_locks: dict[str, asyncio.Lock] = {}
        self._validators: dict[str, tuple[str | None, str | None]] = {}
        self.requests = 0

    async def __aenter__(self) -> Fetcher:
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=self.settings.ingest_connections),
            headers={"User-Agent": self.settings.ingest_user_agent},
            timeout=aiohttp.ClientTimeout(total=self.settings.ingest_timeout),
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def get(self, url: str, *, conditional: bool = False, accept: str = "*/*") -> Response:
        """GET ``url`` politely; raises :class:`FetchError` with the reason when it cannot."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise FetchError(f"not an http(s) URL: {url!r}", reason="not http(s)")
        if not await self._allowed(url):
            raise Disallowed(f"disallowed by robots.txt: {url}", reason="disallowed by robots.txt")
        headers = {"Accept": accept}
        if conditional and url in self._validators:
            etag, modified = self._validators[url]
            if etag:
                headers["If-None-Match"] = etag
            if modified:
                headers["If-Modified-Since"] = modified
        response = await self._with_retries(url, headers)
        if conditional and response.status == 200:
            self._validators[url] = (response.etag, response.last_modified)
        return response

    # -- internals -----------------------------------------------------------------------

    async def _with_retries(self, url: str, headers: dict[str, str]) -> Response:
        attempts = self.settings.ingest_retries + 1
        for attempt in range(attempts):
            try:
                response = await self._once(url, headers)
            except (TimeoutError, aiohttp.ClientConnectionError, aiohttp.ClientPayloadError) as exc:
                reason = _reason(exc)
                if attempt + 1 == attempts:
                    detail = "timed out" if isinstance(exc, TimeoutError) else f"{exc}"
                    raise FetchError(
                        f"{url}: {detail} (after {attempts} attempts)", reason=reason
                    ) from exc
                log.info("retrying %s: %s", url, reason)
            else:
                status = f"HTTP {response.status}"
                retryable = response.status == 429 or response.status >= 500
                if not retryable:
                    if response.status >= 400:
                        raise FetchError(f"{url}: {status}", reason=status)
                    return response
                if attempt + 1 == attempts:
                    raise FetchError(f"{url}: {status} (after {attempts} attempts)", reason=status)
                log.info("retrying %s: %s", url, status)
            delay = self.settings.ingest_backoff * 2**attempt
            await asyncio.sleep(delay * random.uniform(0.5, 1.5))
        raise AssertionError("unreachable")  # pragma: no cover

    async def _once(self, url: str, headers: dict[str, str]) -> Response:
        assert self._session is not None, "use Fetcher as an async context manager"
        host = urlsplit(url).netloc.lower()
        gate = self._hosts.setdefault(host, _Host())
        async with gate.lock:
            wait = gate.next_at - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            try:
                self.requests += 1
                async with self._session.get(
                    url, headers=headers, max_redirects=MAX_REDIRECTS
                ) as resp:
                    if resp.status == 304:
                        return Response(str(resp.url), 304, "", b"", not_modified=True)
                    body = await self._read_capped(url, resp) if resp.status < 400 else b""
                    return Response(
                        str(resp.url),
                        resp.status,
                        resp.content_type,
                        body,
                        etag=resp.headers.get("ETag"),
                        last_modified=resp.headers.get("Last-Modified"),
                        charset=resp.charset,
                    )
            except aiohttp.TooManyRedirects as exc:
                raise FetchError(
                    f"{url}: more than {MAX_REDIRECTS} redirects", reason="too many redirects"
                ) from exc
            finally:
                gate.next_at = time.monotonic() + self._delay(host)

    async def _read_capped(self, url: str, resp: aiohttp.ClientResponse) -> bytes:
        cap = self.settings.ingest_max_bytes
        if resp.content_length is not None and resp.content_length > cap:
            raise FetchError(
                f"{url}: body of {resp.content_length} bytes is over the cap of {cap}",
                reason="over the cap",
            )
        chunks: list[bytes] = []
        size = 0
        async for chunk in resp.content.iter_chunked(65_536):
            size += len(chunk)
            if size > cap:
                raise FetchError(f"{url}: body over the cap of {cap} bytes", reason="over the cap")
            chunks.append(chunk)
        return b"".join(chunks)

    def _delay(self, host: str) -> float:
        delay = self.settings.ingest_host_delay
        robots = self._robots.get(host)
        if robots is not None and robots.rules is not None:
            asked = robots.rules.crawl_delay(self.settings.ingest_user_agent)
            if asked:
                delay = max(delay, min(float(asked), 60.0))
        return delay

    async def _allowed(self, url: str) -> bool:
        """Whether robots.txt allows ``url``; raises :class:`FetchError` when it cannot be read."""
        parts = urlsplit(url)
        host = parts.netloc.lower()
        lock = self._robots_locks.setdefault(host, asyncio.Lock())
        async with lock:  # feeds and pages of one host ask for robots.txt once
            robots = self._robots.get(host)
            if robots is None or robots.expires < time.monotonic():
                robots = await self._fetch_robots(f"{parts.scheme}://{parts.netloc}/robots.txt")
                self._robots[host] = robots
        if robots.failure is not None:
            raise FetchError(
                f"{url}: {robots.failure}, so nothing is fetched from {host} for now",
                reason=robots.failure,
            )
        if robots.rules is None:
            return True
        return bool(robots.rules.can_fetch(url, self.settings.ingest_user_agent))

    async def _fetch_robots(self, url: str) -> _Robots:
        now = time.monotonic()
        try:
            response = await self._once(url, {"Accept": "text/plain"})
        except FetchError as exc:
            failure = f"robots.txt {exc.reason}"
        except (TimeoutError, aiohttp.ClientError) as exc:
            failure = f"robots.txt {_reason(exc)}"
        else:
            if response.status >= 500:
                failure = f"robots.txt HTTP {response.status}"
            elif response.status >= 400:
                return _Robots(None, None, now + ROBOTS_TTL)
            else:
                text = response.body.decode("utf-8", errors="replace")
                return _Robots(Protego.parse(text), None, now + ROBOTS_TTL)
        log.warning("%s at %s: fetching nothing there for now", failure, url)
        return _Robots(None, failure, now + ROBOTS_RETRY)


def _reason(exc: BaseException) -> str:
    """The short reason of a transport failure."""
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, aiohttp.ClientPayloadError):
        return "broken body"
    return "unreachable"

"""What every answer of the worker's web server carries, and what it refuses before routing.

- Every answer: ``X-Content-Type-Options: nosniff``, ``frame-ancestors 'none'`` (and
  ``X-Frame-Options: DENY`` for older browsers), ``Referrer-Policy: no-referrer``, and a
  ``Server`` header that names no versions. The dashboard's Content-Security-Policy lets the
  page run its own inline script and style (by hash) and talk to its own origin, nothing else.
- ``Host``: only names this worker is reached by (:func:`allowed_hosts`), else 421: a page
  on a name that resolves to 127.0.0.1 (DNS rebinding) gets nothing.
- ``Origin``: a request made by a page of another origin (a foreign page's ``fetch`` or
  ``EventSource``) is refused with 403 before any work is done, such as opening a stream's
  Kafka consumer. Same-origin requests and clients that are not browsers send none, or ours.
- A request aiohttp cannot parse is answered 400 without echoing the parser's message, and
  logged in one line without it: the message may quote a header, and a header may be a
  token.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestHandler

from streams.app.responses import problem
from streams.settings import Settings

log = logging.getLogger(__name__)

SERVER = "streams"
HEADERS = {
    "Server": SERVER,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
#: For everything but the dashboard: JSON and text load nothing and are never framed.
API_POLICY = "default-src 'none'; frame-ancestors 'none'"
_LOCAL_NAMES = ("localhost", "127.0.0.1", "::1")
_WILDCARDS = ("", "0.0.0.0", "::")
_INLINE = re.compile(rb"<(script|style)>(.*?)</\1>", re.DOTALL)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def page_policy(page: bytes) -> str:
    """A strict Content-Security-Policy for ``page``: its inline blocks by hash, our origin."""
    hashes: dict[bytes, list[str]] = {b"script": [], b"style": []}
    for match in _INLINE.finditer(page):
        digest = base64.b64encode(hashlib.sha256(match.group(2)).digest()).decode()
        hashes[match.group(1)].append(f"'sha256-{digest}'")
    return "; ".join(
        [
            "default-src 'none'",
            "script-src " + (" ".join(hashes[b"script"]) or "'none'"),
            "style-src " + (" ".join(hashes[b"style"]) or "'none'"),
            "img-src 'self' data:",
            "connect-src 'self'",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ]
    )


def host_name(value: str) -> str:
    """``"Example.org:6066"`` → ``"example.org"``; ``"[::1]:6066"`` → ``"::1"``."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1:].partition("]")[0]
    return value.rpartition(":")[0] if value.count(":") == 1 else value


def allowed_hosts(settings: Settings) -> frozenset[str] | None:
    """The Host names this worker answers to; None when ``STREAMS_WEB_ALLOWED_HOSTS`` is ``*``."""
    extra = [h.strip() for h in settings.web_allowed_hosts.split(",") if h.strip()]
    if "*" in extra:
        return None
    names = {*_LOCAL_NAMES, *(host_name(h) for h in extra)}
    if settings.web_host not in _WILDCARDS:
        names.add(host_name(settings.web_host))
    if settings.web_url:
        names.add((urlsplit(settings.web_url).hostname or "").lower())
    return frozenset(names - {""})


def middleware(settings: Settings, peers: Callable[[], set[str]] = set) -> Any:
    """The aiohttp middleware that refuses foreign hosts and cross-origin requests.

    ``peers`` gives the host names of the group's other workers: a request one of them
    routes here (``/speakers/{id}``) keeps the Host it was sent to.
    """
    allowed = allowed_hosts(settings)

    def unknown(host: str) -> bool:
        if allowed is None:
            return False
        name = host_name(host)
        return name not in allowed and name not in peers()

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        host = request.headers.get("Host")
        if host is not None and unknown(host):
            return problem(
                421,
                f"this worker does not answer to the host {host[:100]!r}; "
                "add it to STREAMS_WEB_ALLOWED_HOSTS",
            )
        origin = request.headers.get("Origin")
        if origin is not None and urlsplit(origin).netloc.lower() != (host or "").lower():
            return problem(403, "requests from pages of another origin are not answered")
        return await handler(request)

    return guard


async def _headers(request: web.Request, response: web.StreamResponse) -> None:
    for name, value in HEADERS.items():
        response.headers[name] = value
    response.headers.setdefault("Content-Security-Policy", API_POLICY)


def install(
    web_app: web.Application, settings: Settings, peers: Callable[[], set[str]] = set
) -> None:
    """Add the guard and the headers to the worker's aiohttp application (before it starts)."""
    web_app.middlewares.append(middleware(settings, peers))
    web_app.on_response_prepare.append(_headers)
    _quiet_parse_errors()


_original_handle_error = RequestHandler.handle_error


def _handle_error(
    self: RequestHandler,
    request: Any,
    status: int = 500,
    exc: BaseException | None = None,
    message: str | None = None,
) -> web.StreamResponse:
    if isinstance(exc, HttpProcessingError) and status < 500:
        log.info(
            "unparsable request from %s answered %d (%s)", request.remote, status,
            type(exc).__name__,
        )  # fmt: skip
        if request.writer.output_size > 0:
            raise ConnectionError("a response was already sent, cannot send an error")
        response: web.StreamResponse = web.Response(
            status=status, text=f"{status} {HTTPStatus(status).phrase}\n"
        )
        response.force_close()
    else:
        response = _original_handle_error(self, request, status, exc, message)
    response.headers.update(HEADERS)
    response.headers["Content-Security-Policy"] = API_POLICY
    return response


def _quiet_parse_errors() -> None:
    """aiohttp's own error answers, without the parser's message and with our headers."""
    RequestHandler.handle_error = _handle_error  # type: ignore[method-assign]

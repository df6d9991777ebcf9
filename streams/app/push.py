"""``POST /articles``: push ingestion, off unless ``STREAMS_PUSH_TOKEN`` is set.

The order of the checks is the order of their cost: the token (constant time, before any of
the body is read), the declared length, then the body read whole up to
``STREAMS_PUSH_MAX_BYTES`` however it arrives (in pieces, slowly, chunked; 413 as soon as it
passes the limit, 408 when it takes longer than ``STREAMS_PUSH_TIMEOUT``), JSON, the
``Article`` model with its field limits, the text's limit, the article id's text (409 when
this worker knows the id names another text), and last the produce, answered 202 once the
broker has the article.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from typing import TYPE_CHECKING, Any

import orjson
from aiohttp import web
from pydantic import ValidationError

from streams.app.responses import json_response, problem
from streams.app.versions import conflict
from streams.codec import dumps
from streams.errors import RecordError
from streams.ids import article_id
from streams.limits import TooLong, check_article
from streams.records import Article

if TYPE_CHECKING:
    from streams.app.parts import StreamsApp

log = logging.getLogger(__name__)

#: At most this many field errors are listed in a 422 answer, each location this long.
MAX_FIELD_ERRORS = 20
MAX_LOCATION_CHARS = 100


class BodyTooLarge(Exception):
    """The request body passed the limit."""


def authorized(header: str, token: str) -> bool:
    """Whether ``Authorization`` carries the bearer ``token``.

    The scheme is case-insensitive (RFC 9110); the token is compared in constant time, as
    bytes (a header that is not UTF-8 arrives with its bytes escaped, and simply differs).
    """
    scheme, _, given = header.strip().partition(" ")
    wanted = token.encode("utf-8")
    offered = given.strip().encode("utf-8", "surrogateescape")
    return hmac.compare_digest(offered, wanted) and scheme.lower() == "bearer"


async def read_body(request: web.Request, limit: int) -> bytes:
    """The whole body, however it arrives; BodyTooLarge as soon as it passes ``limit``."""
    if request.content_length is not None and request.content_length > limit:
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    while chunk := await request.content.readany():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def field_errors(exc: ValidationError) -> dict[str, Any]:
    """A bounded 422 body: the first field errors, and how many there were."""
    errors = exc.errors()
    listed = [
        {"loc": [str(p)[:MAX_LOCATION_CHARS] for p in e["loc"]], "msg": e["msg"]}
        for e in errors[:MAX_FIELD_ERRORS]
    ]
    return {"status": 422, "error": "not a valid Article", "fields": listed, "count": len(errors)}


async def push_article(parts: StreamsApp, request: web.Request) -> web.Response:
    settings = parts.settings
    if settings.push_token is None:
        return problem(403, "push ingestion is off; set STREAMS_PUSH_TOKEN to turn it on")
    if not authorized(
        request.headers.get("Authorization", ""), settings.push_token.get_secret_value()
    ):
        return problem(401, "a valid bearer token is required", {"WWW-Authenticate": "Bearer"})
    limit = settings.push_max_bytes
    too_large = f"the body is over {limit} bytes (STREAMS_PUSH_MAX_BYTES)"
    try:
        async with asyncio.timeout(settings.push_timeout):
            body = await read_body(request, limit)
    except BodyTooLarge:
        # aiohttp reads and drops what is left of the body for a few seconds, then closes:
        # a client still sending gets the answer instead of a reset connection
        return problem(413, too_large)
    except TimeoutError:
        seconds = f"{settings.push_timeout:g}"
        return problem(408, f"the body took over {seconds} s (STREAMS_PUSH_TIMEOUT)")
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        return problem(400, f"the body is not JSON: {exc}")
    if not isinstance(data, dict):
        return problem(422, "the body must be a JSON object with at least a text field")
    if not data.get("article_id") and isinstance(data.get("text"), str):
        url = data.get("url") if isinstance(data.get("url"), str) else None
        data["article_id"] = article_id(url=url, text=data["text"])
    try:
        article = check_article(Article.model_validate(data), max_chars=settings.max_article_chars)
    except ValidationError as exc:
        return json_response(field_errors(exc), 422)
    except TooLong as exc:
        return problem(413, str(exc))
    except RecordError as exc:
        return problem(422, str(exc))
    reason = conflict(parts.versions.get(article.article_id), article)
    if reason is not None:
        return problem(409, reason)
    try:
        await (await parts.raw.send(key=article.article_id.encode(), value=dumps(article)))
    except Exception as exc:  # any producer or broker error: the caller may try again
        log.warning("push of article %s not produced: %r", article.article_id, exc)
        return problem(503, f"the article could not be produced: {type(exc).__name__}")
    parts.metrics.articles_pushed += 1
    log.info("pushed article %s (%d bytes) from %s", article.article_id, len(body), request.remote)
    return json_response(
        {"article_id": article.article_id, "topic": parts.raw.get_topic_name()}, 202
    )

"""Publishing what the enrich agent made of a batch: every output on the broker, or a reason.

An article's outputs are its ``EnrichedArticle`` (on ``articles.enriched``) and one
``Statement`` per statement (on the worker's speaker-keyed ``statements-unidentified``, where
the quotation agent gives each its quotation id and publishes it on ``statements``). They
are published in two rounds per batch, each waiting until the broker has acknowledged it:
the enriched records first, then the statements of the articles whose enriched record
arrived. An article whose outputs cannot be
published (a record over the message limit, or any error of the producer or the broker) is
returned with the reason, for the caller to make it a dead letter; nothing else in the batch
is held up by it.

Waiting here is what keeps at-least-once true: Faust acknowledges a batch's events once the
agent moves on, and commits what is acknowledged, so an agent that moved on before the broker
had its results would commit past an article whose results are lost. A batch waits for one
round trip per round, not one per article.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiokafka.record.default_records import DefaultRecordBatchBuilder

from streams.codec import dumps
from streams.errors import ProcessingError
from streams.records import EnrichedArticle

if TYPE_CHECKING:
    import faust

    from streams.app.parts import StreamsApp


class PublishError(ProcessingError):
    """An article's outputs could not be published; the message says which and why."""


@dataclass
class Outputs:
    """One article's encoded outputs, ready to send."""

    event: faust.EventT[bytes]
    result: EnrichedArticle
    enriched: tuple[bytes, bytes]
    statements: list[tuple[bytes, bytes]] = field(default_factory=list)


def encode(event: faust.EventT[bytes], result: EnrichedArticle, *, limit: int) -> Outputs:
    """The article's records as (key, value) bytes; PublishError when one is over ``limit``.

    The check comes before anything is sent, so an article too large to publish leaves no
    partial trace downstream. ``limit`` is the producer's largest request; the estimate is
    the producer's own, so what passes here is not refused by the client.
    """
    outputs = Outputs(
        event=event,
        result=result,
        enriched=(result.article_id.encode(), dumps(result)),
        statements=[(s.speaker.id.encode(), dumps(s)) for s in result.statements],
    )
    for what, (key, value) in [("enriched record", outputs.enriched)] + [
        ("statement", kv) for kv in outputs.statements
    ]:
        size = DefaultRecordBatchBuilder.estimate_size_in_bytes(key, value, [])
        if size > limit:
            raise PublishError(
                f"the article's {what} is {size} bytes, over the message limit of {limit} "
                f"bytes; its URL, title or statements are too large to publish"
            )
    return outputs


async def _send_all(
    topic: faust.TopicT, records: Sequence[tuple[bytes, bytes]]
) -> list[BaseException | None]:
    """Send each (key, value); wait for the broker; one error or None per record."""
    pending: list[Awaitable[Any] | BaseException] = []
    for key, value in records:
        try:
            pending.append(await topic.send(key=key, value=value))
        except Exception as exc:  # the client refused it (size, serialisation, closed...)
            pending.append(exc)
    waiting = [p for p in pending if not isinstance(p, BaseException)]
    done = iter(await asyncio.gather(*waiting, return_exceptions=True))
    errors: list[BaseException | None] = []
    for item in pending:
        outcome = item if isinstance(item, BaseException) else next(done)
        errors.append(outcome if isinstance(outcome, BaseException) else None)
    return errors


def _reason(what: str, exc: BaseException) -> PublishError:
    cause = exc.__cause__ or exc
    return PublishError(f"{what} could not be published: {type(cause).__name__}: {cause}")


async def publish(
    parts: StreamsApp, batch: Sequence[Outputs]
) -> list[tuple[Outputs, PublishError | None]]:
    """Publish every article's outputs; each article with None, or the reason it failed."""
    failed: dict[int, PublishError] = {}
    errors = await _send_all(parts.enriched, [o.enriched for o in batch])
    for n, error in enumerate(errors):
        if error is not None:
            failed[n] = _reason("the enriched record", error)
    owners = [n for n, o in enumerate(batch) if n not in failed for _ in o.statements]
    records = [kv for n, o in enumerate(batch) if n not in failed for kv in o.statements]
    for n, error in zip(owners, await _send_all(parts.unidentified, records), strict=True):
        if error is not None and n not in failed:
            # the enriched record and some statements may be out: a subscriber sees them,
            # the dead letter says the rest are missing
            failed[n] = _reason("a statement", error)
    return [(o, failed.get(n)) for n, o in enumerate(batch)]

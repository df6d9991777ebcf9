"""Dead letters: a failed event becomes a record on ``deadletter``, never a crash."""

from __future__ import annotations

import logging
from typing import Any

from streams.records import DeadLetter

log = logging.getLogger(__name__)


def dead_letter(
    *,
    topic: str,
    partition: int | None,
    offset: int | None,
    key: bytes | str | None,
    payload: bytes | str | None,
    error: BaseException | str,
    stage: Any,
    limit: int,
) -> DeadLetter:
    """A bounded, printable record of what failed where; also logged with its coordinates."""
    raw = payload.encode("utf-8", "surrogateescape") if isinstance(payload, str) else payload
    raw = raw or b""
    text = raw[:limit].decode("utf-8", "backslashreplace")
    key_text = key.decode("utf-8", "backslashreplace") if isinstance(key, bytes) else key
    message = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
    log.warning(
        "dead letter: topic=%s partition=%s offset=%s key=%r stage=%s error=%s",
        topic,
        partition,
        offset,
        (key_text or "")[:80],
        stage,
        message,
    )
    return DeadLetter(
        topic=topic,
        partition=partition,
        offset=offset,
        key=key_text[:1024] if key_text else key_text,
        error=message,
        stage=stage,
        payload=text,
        payload_truncated=len(raw) > limit,
    )

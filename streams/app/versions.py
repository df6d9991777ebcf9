"""One ``article_id``, one text: the rule for an article id reused with another text.

The table ``article-versions`` maps each article id to a digest of the text first seen under
it. The same id with the same text again is a redelivery (processed again; its statement ids
are the same, so the aggregate counts nothing twice). The same id with another text is
refused with a reason: a dead letter at the enrich agent (stage ``conflict``), 409 at
``POST /articles`` when the answering worker holds the id's partition. It is never processed
as if it were the first version, nor dropped without a word.

The table is keyed like ``articles.raw`` (the article id), and its changelog partition is
the key's, computed as Kafka's default partitioner does: the agent writes it from batches,
which have no current event to take a partition from.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from aiokafka.partitioner import murmur2

from streams.ids import text_digest
from streams.records import Article


def key_partition(key: str, partitions: int) -> int:
    """The partition Kafka's default partitioner gives ``key`` (murmur2, positive)."""
    return int(murmur2(key.encode("utf-8")) & 0x7FFFFFFF) % partitions


def conflict(known: Any, article: Article) -> str | None:
    """Why ``article`` is refused given the entry ``known`` for its id; None if it is not."""
    if not isinstance(known, dict) or known.get("text") == text_digest(article.text):
        return None
    return (
        f"article_id {article.article_id!r} was already used for another text; an article id "
        "names one text: give the new version an id of its own"
    )


def claim(table: MutableMapping[str, Any], article: Article) -> str | None:
    """Record ``article``'s text under its id, or say why it is refused (see :func:`conflict`).

    Synchronous, with no await between the read and the write, so two actors of one worker
    cannot both claim an id for different texts.
    """
    known = table.get(article.article_id)
    if known is None:
        table[article.article_id] = {"text": text_digest(article.text)}
        return None
    return conflict(known, article)

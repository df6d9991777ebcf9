"""One page of a speaker's quotations, as ``GET /quotations?speaker=ID`` answers it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from streams.records import Quotation

QUOTATION_SORT_KEYS = ("occurrences", "articles", "sources", "last_seen", "first_seen")
MAX_LIMIT = 1000
MAX_OFFSET = 1 << 31


class BadQuery(ValueError):
    """A query parameter out of its range: the message says which."""


def row(quotation: Quotation) -> dict[str, Any]:
    """A quotation as the API shows it: ``sources`` are the outlets, most occurrences first."""
    out = quotation.model_dump(mode="json", exclude={"schema_version"})
    out["sources"] = sorted(quotation.sources, key=lambda s: (-quotation.sources[s], s))
    return out


def page(values: Iterable[bytes], query: Mapping[str, str]) -> dict[str, Any]:
    """Sorted (``sort``, ``order``) and cut (``limit``, ``offset``) like ``/speakers``."""
    sort = query.get("sort", "occurrences")
    if sort not in QUOTATION_SORT_KEYS:
        raise BadQuery(f"sort must be one of {', '.join(QUOTATION_SORT_KEYS)}")
    order = query.get("order", "desc")
    if order not in ("asc", "desc"):
        raise BadQuery("order must be asc or desc")
    try:
        limit = int(query.get("limit", 50))
        offset = int(query.get("offset", 0))
    except ValueError as exc:
        raise BadQuery("limit and offset must be integers") from exc
    if not (0 <= limit <= MAX_LIMIT and 0 <= offset <= MAX_OFFSET):
        raise BadQuery(f"limit must be 0..{MAX_LIMIT}, offset 0..{MAX_OFFSET}")
    items = [row(Quotation.model_validate_json(v)) for v in values]
    # ties broken by id, so pages are stable
    items.sort(key=lambda q: q["quotation_id"])
    items.sort(
        key=lambda q: len(q["sources"]) if sort == "sources" else q[sort], reverse=order == "desc"
    )
    return {
        "total": len(items),
        "offset": offset,
        "limit": limit,
        "sort": sort,
        "order": order,
        "items": items[offset : offset + limit],
    }

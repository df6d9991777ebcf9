"""Sorting and paging of the API's lists (``/speakers``, ``/quotations``): one reading of
``sort``, ``order``, ``limit`` and ``offset``, one shape of a page."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from streams.records import Quotation

MAX_LIMIT = 1000
#: ``offset`` beyond this is refused (a page that far is empty anyway, and the number must
#: fit the JSON answer)
MAX_OFFSET = 1 << 31
QUOTATION_SORT_KEYS = ("occurrences", "articles", "sources", "last_seen", "first_seen")


class BadQuery(ValueError):
    """A query parameter out of its range: the message says which."""


@dataclass(frozen=True)
class Paging:
    sort: str
    order: str
    limit: int
    offset: int

    def page(self, items: list[dict[str, Any]]) -> dict[str, Any]:
        """``items`` (sorted already) cut to the page, with how they were asked for."""
        return {
            "total": len(items),
            "offset": self.offset,
            "limit": self.limit,
            "sort": self.sort,
            "order": self.order,
            "items": items[self.offset : self.offset + self.limit],
        }


def paging(
    query: Mapping[str, str], keys: Collection[str], *, ascending: Collection[str] = ()
) -> Paging:
    """The query's paging; ``sort`` one of ``keys`` (the first by default), ``order`` asc
    by default for the keys in ``ascending``, desc otherwise."""
    sort = query.get("sort", next(iter(keys)))
    if sort not in keys:
        raise BadQuery(f"sort must be one of {', '.join(keys)}")
    order = query.get("order", "asc" if sort in ascending else "desc")
    if order not in ("asc", "desc"):
        raise BadQuery("order must be asc or desc")
    try:
        limit = int(query.get("limit", 50))
        offset = int(query.get("offset", 0))
    except ValueError as exc:
        raise BadQuery("limit and offset must be integers") from exc
    if not (0 <= limit <= MAX_LIMIT and 0 <= offset <= MAX_OFFSET):
        raise BadQuery(f"limit must be 0..{MAX_LIMIT}, offset 0..{MAX_OFFSET}")
    return Paging(sort, order, limit, offset)


#: A quotation's fields the API leaves out: what the aggregate keeps to count it right.
BOOKKEEPING = {
    "schema_version",
    "recent_articles",
    "absorbed",
    "applied",
    "hearings",
}


def row(quotation: Quotation) -> dict[str, Any]:
    """A quotation as the API shows it: ``sources`` are the outlets, most occurrences first."""
    out = quotation.model_dump(mode="json", exclude=BOOKKEEPING)
    out["sources"] = sorted(quotation.sources, key=lambda s: (-quotation.sources[s], s))
    return out


def quotation_page(values: Iterable[bytes], query: Mapping[str, str]) -> dict[str, Any]:
    """A page of quotations (their JSON ``values``), sorted and cut like ``/speakers``."""
    p = paging(query, QUOTATION_SORT_KEYS)
    quotations = (Quotation.model_validate_json(v) for v in values)
    items = [row(q) for q in quotations if q.occurrences > 0]
    # ties broken by id, so pages are stable
    items.sort(key=lambda q: q["quotation_id"])
    items.sort(
        key=lambda q: len(q["sources"]) if p.sort == "sources" else q[p.sort],
        reverse=p.order == "desc",
    )
    return p.page(items)

"""Counting statements as quotations, per speaker, next to the speaker's aggregate.

Run by the aggregate agent for each ``add`` or ``retract`` it applies to a speaker, on the
same key, so every entry here lives in the partition of the speaker it belongs to
(co-partitioned with the ``speakers`` table and the statements). Two tables:

- ``quotations`` (key ``<speaker>|<quotation id>``): a :class:`~streams.records.Quotation`.
- ``quotation-index`` (on disk): ``<speaker>|k|<shingle>`` → the quotation id the shingle
  belongs to (:mod:`streams.nlp.quotation`); ``<speaker>|s|<statement id>`` → the
  :class:`~streams.records.Occurrence` the statement was counted as; ``<speaker>|a|<quotation
  id>|<article id>`` → how many of the article's statements are that quotation.

The occurrence entry makes a step idempotent: a statement counted already keeps its
quotation and changes nothing, however often its tally comes; a retraction takes back
exactly what its add counted. Quotation ids depend on what the index held when a quote first
came, which the changelog keeps: a restart or a redelivery gives the same ids.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from streams.codec import dumps
from streams.nlp.quotation import identify, quoted
from streams.records import Occurrence, Quotation, SpeakerState, Stance, Statement, Tally

#: Outlets counted per quotation; past it a new outlet is not listed (its occurrences are).
MAX_SOURCES = 100

Store = MutableMapping[str, bytes]


@dataclass(frozen=True)
class Counted:
    """What one tally did to the speaker's quotations: the statement's quotation (None when
    there is none), the change in the speaker's distinct quotations, and, when the tally
    counted (``sign`` 1) or uncounted (-1) a statement, the statement's time and stances."""

    quotation_id: str | None
    delta: int = 0
    sign: int = 0
    at: datetime | None = None
    stances: tuple[Stance, ...] = ()


def outlet(source: str | None, url: str | None) -> str | None:
    """Who carried a statement: the article's source, else its URL's host (no ``www.``)."""
    if source and source.strip():
        return source.strip()
    if url:
        host = urlsplit(url).hostname or ""
        return host.removeprefix("www.") or None
    return None


def event_time(statement: Statement, fallback: datetime) -> datetime:
    """When a statement was made, as far as its article says: published, else fetched."""
    return statement.published_at or statement.fetched_at or fallback


def quotation_key(speaker: str, quotation_id: str) -> str:
    return f"{speaker}|{quotation_id}"


def count(index: Store, quotations: Store, speaker: str, tally: Tally, *, at: datetime) -> Counted:
    """Count ``tally`` (an add or a retract applied to ``speaker``) in the speaker's
    quotations. ``at``: the time of a statement whose article gives none."""
    if tally.op == "add" and tally.statement is not None:
        return _add(index, quotations, speaker, tally.statement, at)
    if tally.op == "retract" and tally.statement_id is not None:
        return _retract(index, quotations, speaker, tally.statement_id, tally.stances)
    return Counted(None)


def _add(
    index: Store, quotations: Store, speaker: str, statement: Statement, at: datetime
) -> Counted:
    mark = f"{speaker}|s|{statement.statement_id}"
    had = index.get(mark)
    if had is not None:  # counted already
        return Counted(Occurrence.model_validate_json(had).quotation_id)

    def lookup(shingle: str) -> str | None:
        found = index.get(f"{speaker}|k|{shingle}")
        return found.decode() if found is not None else None

    when = event_time(statement, at)
    words = quoted(statement.content, statement.kind)
    if words is None:  # a paraphrase: counted in time, not as a quotation
        index[mark] = dumps(Occurrence(quotation_id=None, article_id=statement.article_id, at=when))
        return Counted(None, 0, 1, when, statement.stances)
    qid, new = identify(speaker, words, lookup)
    for shingle in new:
        index[f"{speaker}|k|{shingle}"] = qid.encode()
    key = quotation_key(speaker, qid)
    value = quotations.get(key)
    quotation = (
        Quotation.model_validate_json(value)
        if value is not None
        else Quotation(
            quotation_id=qid,
            speaker_id=speaker,
            text=words,
            first_seen=when,
            last_seen=when,
        )
    )
    by = outlet(statement.source, statement.url)
    sources = dict(quotation.sources)
    if by is not None and (by in sources or len(sources) < MAX_SOURCES):
        sources[by] = sources.get(by, 0) + 1
    else:
        by = None  # not listed: nothing to take back on a retraction
    in_article = bump(index, f"{speaker}|a|{qid}|{statement.article_id}", 1)
    text = words if len(words) > len(quotation.text) else quotation.text
    quotations[key] = dumps(
        quotation.model_copy(
            update={
                "text": text,
                "occurrences": quotation.occurrences + 1,
                "articles": quotation.articles + (1 if in_article == 1 else 0),
                "sources": sources,
                "first_seen": min(quotation.first_seen, when),
                "last_seen": max(quotation.last_seen, when),
            }
        )
    )
    index[mark] = dumps(
        Occurrence(quotation_id=qid, article_id=statement.article_id, source=by, at=when)
    )
    return Counted(qid, 1 if quotation.occurrences == 0 else 0, 1, when, statement.stances)


def _retract(
    index: Store, quotations: Store, speaker: str, statement_id: str, stances: tuple[Stance, ...]
) -> Counted:
    mark = f"{speaker}|s|{statement_id}"
    had = index.get(mark)
    if had is None:
        return Counted(None)  # never counted here
    del index[mark]
    occurrence = Occurrence.model_validate_json(had)
    qid = occurrence.quotation_id
    if qid is None:
        return Counted(None, 0, -1, occurrence.at, stances)
    in_article = bump(index, f"{speaker}|a|{qid}|{occurrence.article_id}", -1)
    key = quotation_key(speaker, qid)
    value = quotations.get(key)
    gone = Counted(qid, 0, -1, occurrence.at, stances)
    if value is None:
        return gone
    quotation = Quotation.model_validate_json(value)
    if quotation.occurrences <= 1:
        del quotations[key]
        return Counted(qid, -1, -1, occurrence.at, stances)
    sources = dict(quotation.sources)
    if occurrence.source is not None and occurrence.source in sources:
        sources[occurrence.source] -= 1
        if sources[occurrence.source] <= 0:
            del sources[occurrence.source]
    quotations[key] = dumps(
        quotation.model_copy(
            update={
                "occurrences": quotation.occurrences - 1,
                "articles": max(0, quotation.articles - (1 if in_article == 0 else 0)),
                "sources": sources,
            }
        )
    )
    return gone


def bump(index: Store, key: str, step: int) -> int:
    """Add ``step`` to the count at ``key`` (absent: 0; 0 is deleted); the new count."""
    value = index.get(key)
    n = max(0, (int(value) if value is not None else 0) + step)
    if n:
        index[key] = str(n).encode()
    elif value is not None:
        del index[key]
    return n


def counted(state: SpeakerState, tally: Tally, result: Counted) -> SpeakerState:
    """The speaker's value with what counting ``tally`` as a quotation changed: its distinct
    quotations, and the quotation of the statement among its recent ones."""
    summary = state.summary
    update: dict[str, object] = {"quotations": max(0, summary.quotations + result.delta)}
    if tally.statement is not None and result.quotation_id is not None:
        sid = tally.statement.statement_id
        update["recent"] = tuple(
            r.model_copy(update={"quotation_id": result.quotation_id})
            if r.statement_id == sid
            else r
            for r in summary.recent
        )
    return state.model_copy(update={"summary": summary.model_copy(update=update)})

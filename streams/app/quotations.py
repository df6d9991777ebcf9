"""Counting statements as quotations, per speaker, next to the speaker's aggregate.

Run by the aggregate agent for each ``add`` or ``retract`` it applies to a speaker, on the
same key, so every entry here lives in the partition of the speaker it belongs to
(co-partitioned with the ``speakers`` table and the statements). Two tables:

- ``quotations`` (key ``<speaker>|<quotation id>``): a :class:`~streams.records.Quotation`.
- ``quotation-index`` (on disk): ``<speaker>|k|<shingle>`` → the quotation id the shingle
  belongs to (:mod:`streams.nlp.quotation`).

One write per statement (the quotation; the index only for words it did not know), as the
throughput target asks. A tally counted already never comes here: the aggregate applies
each once (its offsets). A retraction carries the statement, whose words find the
quotation its add counted (the index only ever gains keys). Quotation ids depend on what
the index held when a quote first came, which the changelog keeps: a restart or a
redelivery gives the same ids.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from streams.codec import dumps
from streams.nlp.quotation import identify, quoted
from streams.records import Quotation, SpeakerState, Stance, Statement, Tally

#: Outlets counted per quotation; past it a new outlet is not listed (its occurrences are).
MAX_SOURCES = 100
#: Article ids a quotation remembers, to count an article that quotes it twice once.
RECENT_ARTICLES = 16

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
    #: (time, ±1): where the quotation's first hearing (its ``first_seen``) came or went
    heard: tuple[tuple[datetime, int], ...] = ()


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
    """Count ``tally`` (an add or a retract applied to ``speaker``, which carries the
    statement) in the speaker's quotations. ``at``: the time of a statement whose article
    gives none."""
    statement = tally.statement
    if statement is None or tally.op not in ("add", "retract"):
        return Counted(None)
    sign = 1 if tally.op == "add" else -1
    when = event_time(statement, at)
    stances = statement.stances if sign > 0 else tally.stances
    words = quoted(statement.content, statement.kind)
    if words is None:  # a paraphrase: counted in time, not as a quotation
        return Counted(None, 0, sign, when, stances)

    def lookup(shingle: str) -> str | None:
        found = index.get(f"{speaker}|k|{shingle}")
        return found.decode() if found is not None else None

    # a retraction finds the quotation its add counted: the index only ever gains keys
    qid, new = identify(speaker, words, lookup)
    if sign > 0:
        for shingle in new:
            index[f"{speaker}|k|{shingle}"] = qid.encode()
    key = quotation_key(speaker, qid)
    value = quotations.get(key)
    if value is None and sign < 0:
        return Counted(qid, 0, sign, when, stances)
    quotation = (
        Quotation.model_validate_json(value)
        if value is not None
        else Quotation(
            quotation_id=qid, speaker_id=speaker, text=words, first_seen=when, last_seen=when
        )
    )
    if sign < 0 and quotation.occurrences <= 1:
        del quotations[key]
        return Counted(qid, -1, sign, when, stances, ((quotation.first_seen, -1),))
    quotations[key] = dumps(_counted(quotation, statement, words, when, sign))
    if sign > 0 and quotation.occurrences == 0:
        return Counted(qid, 1, sign, when, stances, ((when, 1),))
    if sign > 0 and when < quotation.first_seen:  # heard earlier than we knew
        return Counted(qid, 0, sign, when, stances, ((quotation.first_seen, -1), (when, 1)))
    return Counted(qid, 0, sign, when, stances)


def _counted(
    quotation: Quotation, statement: Statement, words: str, when: datetime, sign: int
) -> Quotation:
    """``quotation`` with ``statement`` counted (``sign`` 1) or uncounted (-1)."""
    by = outlet(statement.source, statement.url)
    sources = dict(quotation.sources)
    if by is not None and (by in sources or (sign > 0 and len(sources) < MAX_SOURCES)):
        sources[by] = sources.get(by, 0) + sign
        if sources[by] <= 0:
            del sources[by]
    # an article quoting it twice is one article: its id among the last ones counted
    recent = list(quotation.recent_articles)
    article = statement.article_id
    if sign > 0:
        articles = quotation.articles + (0 if article in recent else 1)
        recent = [*recent, article][-RECENT_ARTICLES:]
    else:
        if article in recent:
            recent.remove(article)
        articles = quotation.articles - (0 if article in recent else 1)
    update: dict[str, object] = {
        "occurrences": quotation.occurrences + sign,
        "articles": max(0, articles),
        "recent_articles": tuple(recent),
        "sources": sources,
    }
    if sign > 0:
        update["text"] = words if len(words) > len(quotation.text) else quotation.text
        update["first_seen"] = min(quotation.first_seen, when)
        update["last_seen"] = max(quotation.last_seen, when)
    return quotation.model_copy(update=update)


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

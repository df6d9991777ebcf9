"""Statements as quotations, per speaker: identified before ``statements``, counted next to
the speaker's aggregate.

Everything here is keyed by speaker, so it lives in the partition of the speaker it belongs
to (co-partitioned with the ``speakers`` table and the speaker-keyed topics). Two tables:

- ``quotation-index`` (on disk): ``<speaker>|k|<shingle>`` → the quotation id the shingle
  belongs to, and ``<speaker>|k|t<digest>`` for a quote's whole words
  (:mod:`streams.nlp.quotation`). The quotation agent identifies each statement
  in it (:func:`identified`) and sets its ``quotation_id`` before it goes out on
  ``statements``; the index learns a new quotation's words.
- ``quotations`` (key ``<speaker>|<quotation id>``): a :class:`~streams.records.Quotation`,
  counted by the aggregate for each ``add`` or ``retract`` it applies (:func:`count`), under
  the id the statement carries (a retraction: the id the ledger kept), or, for a tally
  passed on from a merged id, the id its words have in the speaker's own index. A merge
  moves the merged id's quotations (:func:`absorb`).

One write per statement in each stage (the index only for words it did not know), as the
throughput target asks. A quotation keeps the offsets of the tallies it counted, like the
speaker's value, so a tally read again after a crash counts once whichever of the two writes
the crash kept. Quotation ids depend on what the index held when a quote first came, which
the changelog keeps: a restart or a redelivery gives the same ids.
"""

from __future__ import annotations

from collections.abc import Iterable, MutableMapping
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from streams.codec import Remembered, dumps, loads_json
from streams.nlp.quotation import identify, quote, quoted, segments, words_key
from streams.records import Quotation, SpeakerState, Stance, Statement, Tally

#: Outlets counted per quotation; past it a new outlet is not listed (its occurrences are).
MAX_SOURCES = 100
#: Article ids a quotation remembers, to count an article that quotes it twice once.
RECENT_ARTICLES = 16
#: Merged speakers' quotations a quotation remembers having added up.
MAX_ABSORBED = 64
#: Tallies that moved a quotation's first hearing it remembers (for a tally read again after a
#: crash: those since the last commit, which come a few seconds apart at most).
MAX_HEARINGS = 8

Store = MutableMapping[str, bytes]

#: Quotations remembered decoded (by their bytes): one carried by several outlets in a row is
#: read back as it was written.
REMEMBERED = 2048
_quotations: Remembered[Quotation] = Remembered(Quotation.model_validate_json, dumps, REMEMBERED)


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
    #: False when the quotation had counted this tally already (read again after a crash),
    #: or had nothing to take back: ``delta`` is then unknown, the speaker's to recount
    fresh: bool = True


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


def tally_mark(tally: Tally) -> str:
    """What a tally's offset is remembered under where it was applied: the speaker id the
    ledger sent it to and the ledger's input partition (offsets grow along each)."""
    return f"{tally.speaker}@{tally.partition}"


def quotation_key(speaker: str, quotation_id: str) -> str:
    return f"{speaker}|{quotation_id}"


def identify_in(
    index: Store, speaker: str, words: str, *, learn: bool = True, new_id: str | None = None
) -> str:
    """The quotation ``words`` of ``speaker`` are, from the speaker's index: a known one, else
    a new one (``new_id`` if given), whose keys the index learns (with ``learn``; a
    retraction only reads). Words the index has whole cost one lookup; others one per
    shingle, and are then learned whole (after their shingles: the changelog keeps the
    order, so a restored index that has the whole words has their shingles too)."""

    def lookup(key: str) -> str | None:
        found = index.get(f"{speaker}|k|{key}")
        return found.decode() if found is not None else None

    runs = segments(words)
    whole = words_key(runs) if runs else None
    # the same words again (a remark carried by many outlets) cost one lookup and no
    # shingles: only a quote with two keys or more has its whole words indexed
    if whole is not None and (known := lookup(whole)) is not None:
        return known
    q = quote(runs)
    qid, new = identify(speaker, q, lookup, new_id=new_id)
    if learn:
        for key in [*new, *([whole] if whole is not None and len(q.keys) > 1 else [])]:
            index[f"{speaker}|k|{key}"] = qid.encode()
    return qid


def identified(index: Store, statement: Statement) -> Statement:
    """``statement`` with its ``quotation_id``, identified in its speaker's index (which
    learns the words of a new quotation); unchanged for a paraphrase. Run on the
    speaker-keyed topic before ``statements``, in the speaker's partition: the same words
    give the same id, in order, after a restart and on a redelivery."""
    words = quoted(statement.content, statement.kind)
    if words is None:
        return statement
    qid = identify_in(index, statement.speaker.id, words)
    return statement.model_copy(update={"quotation_id": qid})


def count(index: Store, quotations: Store, speaker: str, tally: Tally, *, at: datetime) -> Counted:
    """Count ``tally`` (an add or a retract applied to ``speaker``, which carries the
    statement) in the speaker's quotations. ``at``: the time of a statement whose article
    gives none.

    The quotation is the one the tally names (the statement's ``quotation_id`` for an add,
    the ledger's for a retract) where that id was given under ``speaker``; a tally passed on
    from a merged speaker id, or one without an id, has its words identified again in
    ``speaker``'s index, which learns them for an add.
    """
    statement = tally.statement
    if statement is None or tally.op not in ("add", "retract"):
        return Counted(None)
    sign = 1 if tally.op == "add" else -1
    when = event_time(statement, at)
    stances = statement.stances if sign > 0 else tally.stances
    words = quoted(statement.content, statement.kind)
    if words is None:  # a paraphrase: counted in time, not as a quotation
        return Counted(None, 0, sign, when, stances)
    given = statement.quotation_id if sign > 0 else tally.quotation_id
    if given is not None and tally.speaker == speaker:
        qid = given
    else:
        # a retraction finds the quotation its add counted: the index only ever gains keys
        qid = identify_in(index, speaker, words, learn=sign > 0)
    key = quotation_key(speaker, qid)
    value = quotations.get(key)
    if value is None and sign < 0:
        return Counted(qid, 0, sign, when, stances, fresh=False)  # nothing to take back
    have = _quotations(value) if value is not None else None
    mark = tally_mark(tally)
    done = f"{mark}:{tally.offset}"
    if have is not None and have.applied.get(mark, -1) >= tally.offset:
        # counted already (read again after a crash): where it moved the first hearing
        heard = have.hearings.get(done, ())
        return Counted(qid, 0, sign, when, stances, heard, fresh=False)
    if have is None or have.occurrences == 0:
        if sign < 0:
            return Counted(qid, 0, sign, when, stances, fresh=False)
        # new, or counted again after its last occurrence was taken back
        quotation = Quotation(
            quotation_id=qid,
            speaker_id=speaker,
            text=words,
            first_seen=when,
            last_seen=when,
            applied=have.applied if have is not None else {},
            hearings=have.hearings if have is not None else {},
        )
        result = Counted(qid, 1, sign, when, stances, ((when, 1),))
    else:
        quotation = have
        result = Counted(qid, 0, sign, when, stances)
        if sign < 0 and have.occurrences <= 1:
            # kept with no occurrence (hidden from readers), to remember what it counted
            result = Counted(qid, -1, sign, when, stances, ((have.first_seen, -1),))
        elif sign > 0 and when < have.first_seen:  # heard earlier than we knew
            result = Counted(qid, 0, sign, when, stances, ((have.first_seen, -1), (when, 1)))
    hearings = quotation.hearings
    if result.heard:
        hearings = dict(list({**hearings, done: result.heard}.items())[-MAX_HEARINGS:])
    counted_now = _counted(quotation, statement, words, when, sign)
    update = {"applied": {**quotation.applied, mark: tally.offset}, "hearings": hearings}
    quotations[key] = _quotations.written(counted_now.model_copy(update=update))
    return result


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
    quotations, and the quotation of the statement among its recent ones (where it is not
    the one the statement came with)."""
    summary = state.summary
    update: dict[str, object] = {}
    if result.delta:
        update["quotations"] = max(0, summary.quotations + result.delta)
    statement = tally.statement
    if (
        statement is not None
        and result.quotation_id is not None
        and result.quotation_id != statement.quotation_id
    ):
        sid = statement.statement_id
        update["recent"] = tuple(
            r.model_copy(update={"quotation_id": result.quotation_id})
            if r.statement_id == sid
            else r
            for r in summary.recent
        )
    if not update:
        return state
    return state.model_copy(update={"summary": summary.model_copy(update=update)})


@dataclass(frozen=True)
class Absorbed:
    """What adding a merged speaker's quotation did: the quotation it is now, the change in
    the speaker's distinct quotations, and where a first hearing went (``(time, -1)``: the
    later of two quotations that are one now is no longer first heard then)."""

    quotation_id: str
    delta: int = 0
    heard: tuple[tuple[datetime, int], ...] = ()


def absorb(index: Store, quotations: Store, speaker: str, merged: Quotation) -> Absorbed:
    """Add ``merged``, a quotation of a speaker id merged into ``speaker``, to ``speaker``'s
    quotations, once: its words are identified in ``speaker``'s index (which learns them); a
    quotation they match takes its counts, else it goes on under its own id, so the id
    statements carried keeps naming it."""
    mark = quotation_key(merged.speaker_id, merged.quotation_id)
    qid = identify_in(index, speaker, merged.text, new_id=merged.quotation_id)
    key = quotation_key(speaker, qid)
    value = quotations.get(key)
    have = Quotation.model_validate_json(value) if value is not None else None
    if have is not None and mark in have.absorbed:
        return Absorbed(qid)  # added up already (a merge read again)
    if have is None or have.occurrences == 0:
        moved = merged.model_copy(
            update={
                "quotation_id": qid,
                "speaker_id": speaker,
                "absorbed": joined(have.absorbed if have is not None else (), mark, merged),
                "applied": later(have.applied, merged.applied) if have else merged.applied,
                "hearings": {},
            }
        )
        quotations[key] = dumps(moved)
        # its first hearing is counted in the merged speaker's buckets, which move too
        return Absorbed(qid, 1)
    sources = dict(have.sources)
    for by, n in merged.sources.items():
        if by in sources or len(sources) < MAX_SOURCES:
            sources[by] = sources.get(by, 0) + n
    both = set(have.recent_articles) & set(merged.recent_articles)
    recent = tuple(dict.fromkeys((*have.recent_articles, *merged.recent_articles)))
    quotations[key] = dumps(
        have.model_copy(
            update={
                "text": merged.text if len(merged.text) > len(have.text) else have.text,
                "occurrences": have.occurrences + merged.occurrences,
                "articles": have.articles + merged.articles - len(both),
                "recent_articles": recent[-RECENT_ARTICLES:],
                "sources": sources,
                "first_seen": min(have.first_seen, merged.first_seen),
                "last_seen": max(have.last_seen, merged.last_seen),
                "absorbed": joined(have.absorbed, mark, merged),
                "applied": later(have.applied, merged.applied),
            }
        )
    )
    # two quotations first heard are one now: the later hearing is not a first one
    return Absorbed(qid, 0, ((max(have.first_seen, merged.first_seen), -1),))


def later(mine: dict[str, int], theirs: dict[str, int]) -> dict[str, int]:
    """Two sets of applied offsets as one: the later offset of each mark."""
    return {**theirs, **{mark: max(offset, theirs.get(mark, -1)) for mark, offset in mine.items()}}


def distinct(values: Iterable[bytes]) -> int:
    """How many of a speaker's quotations (their values) are counted at least once."""
    return sum(1 for value in values if loads_json(value).get("occurrences", 0) > 0)


def joined(absorbed: tuple[str, ...], mark: str, merged: Quotation) -> tuple[str, ...]:
    """What a quotation has added up, with ``merged`` (under ``mark``) and what ``merged``
    had added up itself (a merge of a merge, read again, adds none of them twice)."""
    return tuple(dict.fromkeys((*absorbed, mark, *merged.absorbed)))[-MAX_ABSORBED:]

"""The records that travel on the topics, typed and immutable.

Each model here is mirrored by a JSON Schema in ``schemas/`` (generated from the model by
``streams schemas --write``; a test keeps the two in step). On the wire they are JSON, encoded
with orjson (see :mod:`streams.codec`). Every record carries ``schema_version``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = 1

#: Longest value of each of an article's short fields (characters). The text's limit is a
#: setting (``STREAMS_MAX_ARTICLE_CHARS``), checked by :func:`streams.limits.check_article`.
#: The URL, source and title are copied into every statement of the article, so their bounds
#: also bound what an article's outputs can grow to.
MAX_ARTICLE_ID_CHARS = 256
MAX_URL_CHARS = 2048
MAX_SOURCE_CHARS = 256
MAX_TITLE_CHARS = 1000
MAX_LANG_CHARS = 35  # the longest BCP 47 tag in practical use

Polarity = Literal["favor", "against", "neutral"]
StatementKind = Literal["direct", "indirect", "mixed"]
SpeakerType = Literal["person", "org", "place", "group", "unknown"]


def utcnow() -> datetime:
    """Timezone-aware now, the only clock records use."""
    return datetime.now(UTC)


class Record(BaseModel):
    """Base of every wire record: frozen, unknown fields rejected, versioned."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", json_schema_serialization_defaults_required=True
    )

    schema_version: Literal[1] = 1


class Article(Record):
    """An article as produced to ``articles.raw`` (key: ``article_id``)."""

    article_id: str = Field(min_length=1, max_length=MAX_ARTICLE_ID_CHARS)
    url: str | None = Field(None, max_length=MAX_URL_CHARS)
    source: str | None = Field(None, max_length=MAX_SOURCE_CHARS)
    title: str | None = Field(None, max_length=MAX_TITLE_CHARS)
    text: str = Field(description="Bounded by STREAMS_MAX_ARTICLE_CHARS where it is checked.")
    published_at: datetime | None = None
    fetched_at: datetime = Field(default_factory=utcnow)
    lang: str | None = Field(None, max_length=MAX_LANG_CHARS)


class Entity(Record):
    """A named entity; ``start``/``end`` are character offsets into the article text."""

    text: str
    label: str
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    entity_id: str | None = None


class Speaker(Record):
    """Who made a statement: the resolved canonical speaker and the local mention."""

    id: str
    name: str
    type: SpeakerType
    mention: str
    start: int = Field(ge=0)
    end: int = Field(ge=0)


class Stance(Record):
    """The speaker's position toward one target named in the statement."""

    target: str
    polarity: Polarity
    score: float = Field(ge=-1.0, le=1.0)


class Statement(Record):
    """Who said what (key on ``statements``: ``speaker.id``)."""

    statement_id: str = Field(
        description="A hash of the article id, the statement's span and its content: the "
        "same words in the same place of the same article give the same id."
    )
    article_id: str
    speaker: Speaker
    cue: str
    content: str
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    kind: StatementKind
    stances: tuple[Stance, ...] = ()
    url: str | None = Field(None, description="The article's URL, when it has one.")
    source: str | None = Field(None, description="The article's outlet, when it names one.")
    title: str | None = Field(None, description="The article's headline, when it has one.")
    published_at: datetime | None = Field(
        None, description="When the article was published, when it says."
    )
    fetched_at: datetime | None = Field(
        None, description="When the article was fetched: the statement's time without published_at."
    )


class EnrichedArticle(Record):
    """An article with what it contains (key on ``articles.enriched``: ``article_id``)."""

    article_id: str
    url: str | None = None
    source: str | None = None
    title: str | None = None
    published_at: datetime | None = None
    fetched_at: datetime
    lang: str | None = None
    entities: tuple[Entity, ...] = ()
    statements: tuple[Statement, ...] = ()
    statements_truncated: bool = Field(
        False, description="More statements were found than STREAMS_MAX_STATEMENTS allows."
    )
    model: str
    processed_at: datetime = Field(default_factory=utcnow)


class StanceCounts(Record):
    """How often a speaker took each position toward one target."""

    favor: int = 0
    against: int = 0
    neutral: int = 0


class RecentStatement(Record):
    """A statement as kept in a speaker's bounded ``recent`` list."""

    statement_id: str
    article_id: str
    content: str
    kind: StatementKind
    url: str | None = None
    cue: str | None = None
    source: str | None = Field(None, description="The outlet: the article's source, else its host.")
    title: str | None = None
    at: datetime | None = Field(None, description="The article's published_at, else fetched_at.")
    quotation_id: str | None = None


class SpeakerSummary(Record):
    """The running aggregate of one speaker (value of the ``speakers`` table)."""

    id: str
    name: str
    type: SpeakerType
    aliases: tuple[str, ...] = ()
    statements: int = 0
    articles: int = 0
    quotations: int = Field(0, description="Distinct quotations among the statements counted.")
    stances: dict[str, StanceCounts] = Field(default_factory=dict)
    recent: tuple[RecentStatement, ...] = ()
    first_seen: datetime
    last_seen: datetime


class SpeakerState(Record):
    """What the ``speakers`` table stores: the summary, how far each source of tallies has
    been applied to it, and, once the speaker was merged into another, where it went.

    Every field is bounded: a speaker quoted a million times has a value the size of one
    quoted a hundred times. Which statements were counted lives in the statement ledger
    (:class:`ArticleLedger`), not here.
    """

    summary: SpeakerSummary
    applied: dict[str, int] = Field(
        default_factory=dict,
        description="``<speaker id>@<partition>`` (the id a tally was sent to, a partition of "
        "the article-keyed statement topic) → offset of the last record whose tally this "
        "value includes; a tally from an offset at or below it was applied already.",
    )
    merged_into: str | None = Field(
        None,
        description="This id turned out to be another speaker's: its counts moved there, and "
        "what comes for it is passed on.",
    )
    absorbed: tuple[str, ...] = Field((), description="Ids merged into this speaker.")


class Counted(Record):
    """How the ledger counts one statement: under which speaker, since which record of the
    article-keyed statement topic, and what that record moved it from."""

    speaker: str
    partition: int = Field(ge=0)
    offset: int = Field(ge=0)
    opened: bool = Field(
        False, description="The first statement of its article counted under this speaker."
    )
    stances: tuple[Stance, ...] = ()
    moved_from: str | None = Field(
        None, description="The speaker it was counted under before this record."
    )
    moved_stances: tuple[Stance, ...] = ()
    closed: bool = Field(
        False, description="The move took the last statement of its article from moved_from."
    )


class ArticleLedger(Record):
    """The statement ledger's value (key: ``article_id``): each statement of the article and
    how it is counted. Bounded by the statements of one article; kept for the dedupe
    retention after its last change."""

    statements: dict[str, Counted] = Field(default_factory=dict)
    updated_at: datetime


class Tally(Record):
    """One change to one speaker's aggregate (key on the tallies topic: the id it goes to).

    - ``add``: count ``statement``; ``article`` is 1 when it is the first of its article for
      this speaker.
    - ``retract``: uncount ``statement_id`` (it is counted under another speaker now) and its
      ``stances``; ``article`` is -1 when it was the last of its article for this speaker.
    - ``merge``: ``speaker`` is ``into`` (named ``name``, of ``type``): move its aggregate there.
    - ``absorb``: the aggregate ``state`` of ``speaker``, merged, for ``into`` to add up.

    ``partition``/``offset`` (add, retract) locate the ledger's input record that made it: a
    tally sent again for the same record carries the same coordinates, which the aggregate
    recognises. ``speaker`` stays the id the ledger sent it to when it is passed on to the
    speaker that id was merged into.
    """

    op: Literal["add", "retract", "merge", "absorb"]
    speaker: str
    partition: int = Field(0, ge=0)
    offset: int = Field(0, ge=0)
    statement: Statement | None = None
    statement_id: str | None = None
    stances: tuple[Stance, ...] = ()
    article: Literal[-1, 0, 1] = 0
    into: str | None = None
    name: str | None = None
    type: SpeakerType | None = None
    state: SpeakerState | None = None


class SpeakerMerge(Record):
    """Two speaker ids found to be one speaker (key on ``speaker.merges``: ``id``)."""

    id: str
    into: str
    name: str = Field(description="The name of the speaker ``into`` is.")
    type: SpeakerType
    reason: Literal["bare-name", "other-type", "spelling", "same-person"]
    at: datetime = Field(default_factory=utcnow)


class KnownSpeaker(Record):
    """A speaker the registry knows (value of the ``speaker-registry`` global table)."""

    id: str
    name: str
    type: SpeakerType
    aliases: tuple[str, ...] = ()
    spellings: tuple[str, ...] = Field(
        (),
        description='Other full names this speaker was met under ("Volodymyr Zelenskyy" for '
        '"Volodymyr Zelensky"): the speaker\'s id is the smallest of the ids they give.',
    )
    provisional: bool = Field(
        False,
        description="Published under this id without matching anyone (a bare surname): not a "
        "speaker to match others against, but merged into the one it turns out to be.",
    )


class Quotation(Record):
    """The same words of one speaker in any article (value of the ``quotations`` table, key
    ``<speaker id>|<quotation id>``)."""

    quotation_id: str
    speaker_id: str
    text: str = Field(description="The longest quote of it counted.")
    occurrences: int = Field(0, description="Statements counted as this quotation.")
    articles: int = Field(0, description="Articles with at least one of them.")
    recent_articles: tuple[str, ...] = Field(
        (),
        description="The articles of its last occurrences (an article quoting it twice "
        "counts once); bounded.",
    )
    sources: dict[str, int] = Field(
        default_factory=dict,
        description="Outlet (the article's source, else its host) → occurrences; bounded.",
    )
    first_seen: datetime
    last_seen: datetime


class Bucket(Record):
    """One speaker's statements in one hour or day (value of the windowed ``timeline-hour``
    and ``timeline-day`` tables, key ``[speaker id, [start, end]]``)."""

    statements: int = 0
    quotations: int = Field(0, description="Quotations first heard in it.")
    stances: dict[str, StanceCounts] = Field(default_factory=dict)


class DeadLetter(Record):
    """An input that could not be processed (key on ``deadletter``: the original key)."""

    topic: str
    partition: int | None = None
    offset: int | None = None
    key: str | None = None
    error: str
    stage: Literal["decode", "validate", "limit", "conflict", "enrich", "produce", "aggregate"] = (
        Field(
            description="decode: not JSON; validate: not a valid Article or over a limit; "
            "conflict: the article_id was already used for another text; enrich: the NLP failed; "
            "produce: the results could not be published; aggregate: a bad statement."
        )
    )
    payload: str = Field(description="The raw payload, bounded, undecodable bytes escaped.")
    payload_truncated: bool = False
    at: datetime = Field(default_factory=utcnow)


WIRE_RECORDS: dict[str, type[Record]] = {
    "article": Article,
    "enriched_article": EnrichedArticle,
    "entity": Entity,
    "statement": Statement,
    "speaker_summary": SpeakerSummary,
    "speaker_state": SpeakerState,
    "article_ledger": ArticleLedger,
    "tally": Tally,
    "speaker_merge": SpeakerMerge,
    "quotation": Quotation,
    "bucket": Bucket,
    "known_speaker": KnownSpeaker,
    "dead_letter": DeadLetter,
}
"""Every record with a schema file: ``schemas/<name>.schema.json``."""

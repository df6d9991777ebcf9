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

    schema_version: Literal[1] = Field(1, description="Version of the record's schema.")


class Article(Record):
    """An article as produced to ``articles.raw`` (key: ``article_id``)."""

    article_id: str = Field(
        min_length=1,
        max_length=MAX_ARTICLE_ID_CHARS,
        description="The article's id, its key on articles.raw: one id names one text.",
    )
    url: str | None = Field(None, max_length=MAX_URL_CHARS, description="Where it was published.")
    source: str | None = Field(
        None, max_length=MAX_SOURCE_CHARS, description="Who published it (a feed, a site)."
    )
    title: str | None = Field(None, max_length=MAX_TITLE_CHARS, description="Its headline.")
    text: str = Field(
        description="The article's plain text, paragraphs separated by blank lines. Bounded "
        "by STREAMS_MAX_ARTICLE_CHARS where it is checked."
    )
    published_at: datetime | None = Field(None, description="When it was published, if known.")
    fetched_at: datetime = Field(
        default_factory=utcnow, description="When it was read (by a feed, a replay, a push)."
    )
    lang: str | None = Field(
        None, max_length=MAX_LANG_CHARS, description="Its language as a BCP 47 tag, if known."
    )


class Entity(Record):
    """A named entity; ``start``/``end`` are character offsets into the article text."""

    text: str = Field(description="The entity as it is written in the text.")
    label: str = Field(description="spaCy's entity label (PERSON, ORG, GPE, ...).")
    start: int = Field(ge=0, description="Offset of its first character in the text.")
    end: int = Field(ge=0, description="Offset just after its last character.")
    entity_id: str | None = Field(None, description="An id linking the entity; not set yet.")


class Speaker(Record):
    """Who made a statement: the resolved canonical speaker and the local mention."""

    id: str = Field(
        description="The canonical speaker's id, ``<type>:<slug of the name>`` "
        "(``person:volodymyr-zelensky``)."
    )
    name: str = Field(description="The canonical speaker's name.")
    type: SpeakerType = Field(description="What kind of speaker it is.")
    mention: str = Field(description='How the statement names the speaker ("he", "Zelensky").')
    start: int = Field(ge=0, description="Offset of the mention's first character in the text.")
    end: int = Field(ge=0, description="Offset just after the mention's last character.")


class Stance(Record):
    """The speaker's position toward one target named in the statement."""

    target: str = Field(description="What the position is toward, as the statement names it.")
    polarity: Polarity = Field(
        description="favor at a score of 0.25 or more, against at -0.25 or less, else neutral."
    )
    score: float = Field(ge=-1.0, le=1.0, description="The position's strength, -1 to 1.")


class Statement(Record):
    """Who said what (key on ``statements``: ``speaker.id``)."""

    statement_id: str = Field(
        description="A hash of the article id, the statement's span and its content: the "
        "same words in the same place of the same article give the same id."
    )
    article_id: str = Field(description="The article it comes from.")
    speaker: Speaker = Field(description="Who made it.")
    cue: str = Field(description='The words that attribute it ("said", "according to").')
    content: str = Field(description="What was said, without the quotation marks.")
    start: int = Field(ge=0, description="Offset of the statement's first character.")
    end: int = Field(ge=0, description="Offset just after the statement's last character.")
    kind: StatementKind = Field(
        description="direct: all quoted; indirect: reported speech; mixed: partly quoted."
    )
    stances: tuple[Stance, ...] = Field(
        (), description="The speaker's positions toward targets the statement names."
    )
    url: str | None = Field(None, description="The article's URL, when it has one.")
    source: str | None = Field(None, description="The article's outlet, when it names one.")
    title: str | None = Field(None, description="The article's headline, when it has one.")
    published_at: datetime | None = Field(
        None, description="When the article was published, when it says."
    )
    fetched_at: datetime | None = Field(
        None, description="When the article was fetched: the statement's time without published_at."
    )
    quotation_id: str | None = Field(
        None,
        description="The quotation its quoted words are: the same words of the same speaker in "
        "any article share it. None for a paraphrase (indirect speech, a mixed statement "
        "without quotation marks) and in an articles.enriched record, which is published "
        "before the quotation is identified.",
    )


class EnrichedArticle(Record):
    """An article with what it contains (key on ``articles.enriched``: ``article_id``)."""

    article_id: str = Field(description="The article's id, as on articles.raw.")
    url: str | None = Field(None, description="The article's URL.")
    source: str | None = Field(None, description="The article's source.")
    title: str | None = Field(None, description="The article's title.")
    published_at: datetime | None = Field(None, description="When it was published, if known.")
    fetched_at: datetime = Field(description="When it was read, as on articles.raw.")
    lang: str | None = Field(None, description="Its language as a BCP 47 tag, if known.")
    entities: tuple[Entity, ...] = Field((), description="The named entities in its text.")
    statements: tuple[Statement, ...] = Field(
        (), description="The statements found in it, in the order of the text."
    )
    statements_truncated: bool = Field(
        False, description="More statements were found than STREAMS_MAX_STATEMENTS allows."
    )
    model: str = Field(description="The spaCy pipeline that read it (name and version).")
    processed_at: datetime = Field(default_factory=utcnow, description="When it was enriched.")


class StanceCounts(Record):
    """How often a speaker took each position toward one target."""

    favor: int = Field(0, description="Statements in favour of the target.")
    against: int = Field(0, description="Statements against the target.")
    neutral: int = Field(0, description="Statements neutral toward the target.")


class RecentStatement(Record):
    """A statement as kept in a speaker's bounded ``recent`` list."""

    statement_id: str = Field(description="The statement's id.")
    article_id: str = Field(description="The article it comes from.")
    content: str = Field(description="What was said.")
    kind: StatementKind = Field(description="direct, indirect or mixed.")
    url: str | None = Field(None, description="The article's URL, when it has one.")
    cue: str | None = Field(None, description='The words that attribute it ("said").')
    source: str | None = Field(None, description="The outlet: the article's source, else its host.")
    title: str | None = Field(None, description="The article's headline, when it has one.")
    at: datetime | None = Field(None, description="The article's published_at, else fetched_at.")
    quotation_id: str | None = Field(None, description="The quotation it was counted as.")


class SpeakerSummary(Record):
    """The running aggregate of one speaker (value of the ``speakers`` table)."""

    id: str = Field(description="The speaker's id, its key on the speakers table.")
    name: str = Field(description="The speaker's canonical name.")
    type: SpeakerType = Field(description="What kind of speaker it is.")
    aliases: tuple[str, ...] = Field(
        (), description="Other ways statements named the speaker (at most 32 kept)."
    )
    statements: int = Field(0, description="Statements counted, each once.")
    articles: int = Field(0, description="Articles with at least one of those statements.")
    quotations: int = Field(0, description="Distinct quotations among the statements counted.")
    stances: dict[str, StanceCounts] = Field(
        default_factory=dict,
        description="Target → how often the speaker took each position toward it (the 100 "
        "most mentioned targets kept).",
    )
    recent: tuple[RecentStatement, ...] = Field(
        (), description="The latest statements, newest first (STREAMS_RECENT_LIMIT kept)."
    )
    first_seen: datetime = Field(description="When its first statement was counted.")
    last_seen: datetime = Field(description="When its latest statement was counted.")


class SpeakerState(Record):
    """What the ``speakers`` table stores: the summary, how far each source of tallies has
    been applied to it, and, once the speaker was merged into another, where it went.

    Every field is bounded: a speaker quoted a million times has a value the size of one
    quoted a hundred times. Which statements were counted lives in the statement ledger
    (:class:`ArticleLedger`), not here.
    """

    summary: SpeakerSummary = Field(description="The speaker's aggregate, as the API serves it.")
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

    speaker: str = Field(description="The speaker id it is counted under.")
    partition: int = Field(
        ge=0, description="Partition of the article-keyed statement topic it came on."
    )
    offset: int = Field(ge=0, description="Offset of the record that counted it there.")
    opened: bool = Field(
        False, description="The first statement of its article counted under this speaker."
    )
    stances: tuple[Stance, ...] = Field((), description="The stances counted with it.")
    moved_from: str | None = Field(
        None, description="The speaker it was counted under before this record."
    )
    moved_stances: tuple[Stance, ...] = Field(
        (), description="The stances it was counted with under moved_from."
    )
    closed: bool = Field(
        False, description="The move took the last statement of its article from moved_from."
    )
    quotation_id: str | None = Field(
        None, description="The quotation it was counted as, under its speaker."
    )
    moved_quotation_id: str | None = Field(
        None, description="The quotation it was counted as under moved_from."
    )


class ArticleLedger(Record):
    """The statement ledger's value (key: ``article_id``): each statement of the article and
    how it is counted. Bounded by the statements of one article; kept for the dedupe
    retention after its last change."""

    statements: dict[str, Counted] = Field(
        default_factory=dict, description="Statement id → how it is counted."
    )
    updated_at: datetime = Field(description="When it last changed (the retention runs from here).")


class SpeakerMerge(Record):
    """Two speaker ids found to be one speaker (key on ``speaker.merges``: ``id``)."""

    id: str = Field(description="The speaker id that turned out to be another speaker.")
    into: str = Field(description="The speaker id it is now.")
    name: str = Field(description="The name of the speaker ``into`` is.")
    type: SpeakerType = Field(description="The type of the speaker ``into`` is.")
    reason: Literal["bare-name", "other-type", "spelling", "same-person"] = Field(
        description="bare-name: an id given to a surname alone, now the full name of a person "
        "known; other-type: a lone word first taken for a place or body that names a person; "
        "spelling: another spelling of the same full name; same-person: two workers met the "
        "same new name at once and gave it two ids."
    )
    at: datetime = Field(default_factory=utcnow, description="When the merge was found.")


class KnownSpeaker(Record):
    """A speaker the registry knows (value of the ``speaker-registry`` global table)."""

    id: str = Field(description="The speaker's id.")
    name: str = Field(description="The speaker's canonical name.")
    type: SpeakerType = Field(description="What kind of speaker it is.")
    aliases: tuple[str, ...] = Field((), description="Other ways articles named the speaker.")
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

    quotation_id: str = Field(description="A hash of the speaker id and its first quote's words.")
    speaker_id: str = Field(description="Whose words they are.")
    text: str = Field(description="The longest quote of it counted.")
    occurrences: int = Field(
        0,
        description="Statements counted as this quotation; 0 once all were taken back (the "
        "record stays, unlisted, for the retention, to remember what it counted).",
    )
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
    first_seen: datetime = Field(description="The earliest time of an occurrence.")
    last_seen: datetime = Field(description="The latest time of an occurrence.")
    absorbed: tuple[str, ...] = Field(
        (),
        description="The quotations of merged speaker ids added into it "
        "(<speaker id>|<quotation id>), each once; bounded.",
    )
    applied: dict[str, int] = Field(
        default_factory=dict,
        description="Per speaker id and partition of the ledger's input: the offset of the "
        "last tally counted in it (one read again after a crash is not counted twice).",
    )
    hearings: dict[str, tuple[tuple[datetime, int], ...]] = Field(
        default_factory=dict,
        description="The last tallies that moved its first hearing "
        "(<speaker id>@<partition>:<offset>) and where: (time, ±1); bounded.",
    )


class Bucket(Record):
    """One speaker's statements in one hour or day (value of the windowed ``timeline-hour``
    and ``timeline-day`` tables, key ``[speaker id, [start, end]]``)."""

    statements: int = Field(0, description="Statements whose article's time falls in it.")
    quotations: int = Field(0, description="Quotations first heard in it.")
    stances: dict[str, StanceCounts] = Field(
        default_factory=dict, description="Target → positions the speaker took in it."
    )
    absorbed: tuple[str, ...] = Field(
        (), description="Merged speaker ids whose bucket was added into it, each once; bounded."
    )
    applied: dict[str, int] = Field(
        default_factory=dict,
        description="Per speaker id and partition of the ledger's input: the offset of the "
        "last tally counted in it.",
    )


class MovedBucket(Record):
    """One bucket of a merged speaker's timeline, on its way to the speaker it is."""

    size: Literal["hour", "day"] = Field(description="Which timeline it is a bucket of.")
    start: datetime = Field(description="When the bucket starts.")
    bucket: Bucket = Field(description="Its counts.")


class Tally(Record):
    """One change to one speaker's aggregate (key on the tallies topic: the id it goes to).

    - ``add``: count ``statement``; ``article`` is 1 when it is the first of its article for
      this speaker.
    - ``retract``: uncount ``statement_id`` (it is counted under another speaker now) and its
      ``stances``; ``article`` is -1 when it was the last of its article for this speaker.
    - ``merge``: ``speaker`` is ``into`` (named ``name``, of ``type``): move its aggregate there.
    - ``absorb``: the aggregate ``state`` of ``speaker``, merged, for ``into`` to add up.
    - ``quotation`` / ``buckets``: one quotation / some timeline buckets of ``speaker``,
      merged, for ``into`` to add up (sent after the ``absorb``; each added once).

    ``partition``/``offset`` (add, retract) locate the ledger's input record that made it: a
    tally sent again for the same record carries the same coordinates, which the aggregate
    recognises. ``speaker`` stays the id the ledger sent it to when it is passed on to the
    speaker that id was merged into.
    """

    op: Literal["add", "retract", "merge", "absorb", "quotation", "buckets"] = Field(
        description="What to do."
    )
    speaker: str = Field(description="The speaker id the ledger sent it to.")
    partition: int = Field(
        0, ge=0, description="add, retract: partition of the ledger's input record."
    )
    offset: int = Field(0, ge=0, description="add, retract: offset of the ledger's input record.")
    statement: Statement | None = Field(None, description="add: the statement to count.")
    statement_id: str | None = Field(None, description="retract: the statement to uncount.")
    stances: tuple[Stance, ...] = Field((), description="retract: the stances to uncount.")
    quotation_id: str | None = Field(
        None, description="retract: the quotation it was counted as, under speaker."
    )
    article: Literal[-1, 0, 1] = Field(
        0, description="1: the first statement of its article; -1: the last one taken away."
    )
    into: str | None = Field(None, description="merge, absorb: the speaker id it is now.")
    name: str | None = Field(None, description="merge: the name of the speaker into is.")
    type: SpeakerType | None = Field(None, description="merge: the type of the speaker into is.")
    state: SpeakerState | None = Field(None, description="absorb: the merged speaker's value.")
    quotation: Quotation | None = Field(
        None, description="quotation: one quotation of the merged speaker, to add up once."
    )
    buckets: tuple[MovedBucket, ...] = Field(
        (), description="buckets: timeline buckets of the merged speaker, to add up once."
    )


class DeadLetter(Record):
    """An input that could not be processed (key on ``deadletter``: the original key)."""

    topic: str = Field(description="The topic the input came on.")
    partition: int | None = Field(None, description="Its partition there, if it had one.")
    offset: int | None = Field(None, description="Its offset there, if it had one.")
    key: str | None = Field(None, description="Its key, if it had one.")
    error: str = Field(description="What went wrong, in one line.")
    stage: Literal["decode", "validate", "limit", "conflict", "enrich", "produce", "aggregate"] = (
        Field(
            description="decode: not JSON; validate: not a valid Article or over a limit; "
            "conflict: the article_id was already used for another text; enrich: the NLP failed; "
            "produce: the results could not be published; aggregate: a bad statement."
        )
    )
    payload: str = Field(description="The raw payload, bounded, undecodable bytes escaped.")
    payload_truncated: bool = Field(False, description="The payload was cut to its bound.")
    at: datetime = Field(default_factory=utcnow, description="When it was dead-lettered.")


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

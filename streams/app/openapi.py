"""The OpenAPI 3.1 description of the worker's HTTP API (served at ``/openapi.json``).

Record schemas come from the same pydantic models as ``schemas/``, so the two cannot drift.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic.json_schema import models_json_schema

from streams.app.paging import QUOTATION_SORT_KEYS
from streams.records import Article, RecentStatement, StanceCounts, Statement


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


def _json(description: str, ref: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}},
    }


_QUERY = [
    {
        "name": "sort",
        "in": "query",
        "schema": {
            "type": "string",
            "enum": ["statements", "articles", "name", "last_seen", "first_seen"],
            "default": "statements",
        },
    },
    {
        "name": "order",
        "in": "query",
        "description": "Default: asc for name, desc otherwise.",
        "schema": {"type": "string", "enum": ["asc", "desc"]},
    },
    {
        "name": "limit",
        "in": "query",
        "schema": {"type": "integer", "minimum": 0, "maximum": 1000, "default": 50},
    },
    {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0, "default": 0}},
    {
        "name": "type",
        "in": "query",
        "schema": {"type": "string", "enum": ["person", "org", "place", "group", "unknown"]},
    },
    {
        "name": "q",
        "in": "query",
        "description": "Case-insensitive substring of the name or an alias.",
        "schema": {"type": "string"},
    },
]


def _page(item: str, extra: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    """A page of ``item`` schemas as the paged lists answer it, with ``extra`` properties."""
    return {
        "type": "object",
        "required": [*(required or []), "total", "offset", "limit", "sort", "order", "items"],
        "properties": {
            "total": {"type": "integer"},
            "offset": {"type": "integer"},
            "limit": {"type": "integer"},
            "sort": {"type": "string"},
            "order": {"type": "string"},
            "items": {"type": "array", "items": {"$ref": f"#/components/schemas/{item}"}},
            **extra,
        },
    }


@cache
def openapi() -> dict[str, Any]:
    """The API description as a JSON-ready dict."""
    _, defs = models_json_schema(
        [
            (Article, "validation"),
            (Statement, "serialization"),
            (StanceCounts, "serialization"),
            (RecentStatement, "serialization"),
        ],
        ref_template="#/components/schemas/{model}",
    )
    schemas: dict[str, Any] = dict(defs.get("$defs", {}))
    stance_row = {
        "type": "object",
        "required": ["target", "favor", "against", "neutral", "total", "net"],
        "properties": {
            "target": {"type": "string"},
            "favor": {"type": "integer"},
            "against": {"type": "integer"},
            "neutral": {"type": "integer"},
            "total": {"type": "integer"},
            "net": {"type": "number", "minimum": -1, "maximum": 1},
        },
    }
    base = {
        "id": {"type": "string", "examples": ["person:abbas-araghchi"]},
        "name": {"type": "string"},
        "type": {"type": "string", "enum": ["person", "org", "place", "group", "unknown"]},
        "aliases": {"type": "array", "items": {"type": "string"}},
        "statements": {"type": "integer"},
        "articles": {"type": "integer"},
        "quotations": {"type": "integer", "description": "Distinct quotations."},
        "first_seen": {"type": "string", "format": "date-time"},
        "last_seen": {"type": "string", "format": "date-time"},
        "schema_version": {"type": "integer"},
    }
    schemas.update(
        {
            "Problem": {
                "type": "object",
                "required": ["status", "error"],
                "properties": {"status": {"type": "integer"}, "error": {"type": "string"}},
            },
            "StanceRow": stance_row,
            "SpeakerListItem": {
                "type": "object",
                "properties": {
                    **base,
                    "top_stances": {
                        "type": "array",
                        "items": {"$ref": "#/components/schemas/StanceRow"},
                    },
                },
            },
            "SpeakerPage": _page(
                "SpeakerListItem",
                {
                    "partial": {
                        "type": "boolean",
                        "description": "Some table partitions are missing from the answer: no "
                        "worker answered for them, or their state is still being recovered "
                        "(after a start or a takeover). Absent when the answer is complete.",
                    },
                    "missing_partitions": {"type": "array", "items": {"type": "integer"}},
                    "missing_workers": {"type": "array", "items": {"type": "string"}},
                },
            ),
            "SpeakerDetail": {
                "type": "object",
                "properties": {
                    **base,
                    "stances": {
                        "type": "array",
                        "items": {"$ref": "#/components/schemas/StanceRow"},
                    },
                    "recent": {
                        "type": "array",
                        "items": {"$ref": "#/components/schemas/RecentStatement"},
                    },
                    "partial": {
                        "type": "boolean",
                        "description": "The speaker's partition is still being recovered: the "
                        "counts may grow to what they were. Absent when complete.",
                    },
                    "missing_partitions": {"type": "array", "items": {"type": "integer"}},
                },
            },
            "QuotationItem": {
                "type": "object",
                "required": [
                    "quotation_id",
                    "speaker_id",
                    "text",
                    "occurrences",
                    "articles",
                    "sources",
                    "first_seen",
                    "last_seen",
                ],
                "properties": {
                    "quotation_id": {"type": "string"},
                    "speaker_id": {"type": "string"},
                    "text": {"type": "string", "description": "The longest quote counted."},
                    "occurrences": {"type": "integer"},
                    "articles": {"type": "integer"},
                    "sources": {
                        "type": "array",
                        "items": {"type": "string"},
                        "description": "Outlets (the article's source, else its host), "
                        "most occurrences first.",
                    },
                    "first_seen": {"type": "string", "format": "date-time"},
                    "last_seen": {"type": "string", "format": "date-time"},
                },
            },
            "QuotationPage": _page(
                "QuotationItem",
                {
                    "speaker_id": {"type": "string"},
                    "partial": {"type": "boolean"},
                    "missing_partitions": {"type": "array", "items": {"type": "integer"}},
                },
                ["speaker_id"],
            ),
            "Timeline": {
                "type": "object",
                "required": ["speaker_id", "bucket", "items"],
                "properties": {
                    "speaker_id": {"type": "string"},
                    "bucket": {"type": "string", "enum": ["hour", "day"]},
                    "items": {
                        "type": "array",
                        "description": "Non-empty buckets of the last 30 days, oldest first.",
                        "items": {
                            "type": "object",
                            "required": ["start", "statements", "quotations", "stances"],
                            "properties": {
                                "start": {"type": "string", "format": "date-time"},
                                "statements": {"type": "integer"},
                                "quotations": {"type": "integer"},
                                "stances": {
                                    "type": "object",
                                    "additionalProperties": {
                                        "$ref": "#/components/schemas/StanceCounts"
                                    },
                                },
                            },
                        },
                    },
                    "partial": {"type": "boolean"},
                    "missing_partitions": {"type": "array", "items": {"type": "integer"}},
                },
            },
            "Moved": {
                "type": "object",
                "required": ["status", "merged_into"],
                "properties": {"status": {"type": "integer"}, "merged_into": {"type": "string"}},
            },
            "Accepted": {
                "type": "object",
                "required": ["article_id", "topic"],
                "properties": {"article_id": {"type": "string"}, "topic": {"type": "string"}},
            },
        }
    )
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "streams worker API",
            "version": "1",
            "description": "Who said what, from a live stream of news: the speakers aggregate, "
            "a live stream of statements, push ingestion, health and metrics. Any worker "
            "answers any request. Every answer carries X-Content-Type-Options: nosniff and a "
            "Content-Security-Policy with frame-ancestors 'none'; a Host the worker is not "
            "reached by is answered 421, a request from a page of another origin 403.",
        },
        "paths": {
            "/speakers": {
                "get": {
                    "summary": "The speakers aggregate, from every worker, sorted and paged.",
                    "parameters": _QUERY,
                    "responses": {
                        "200": _json("A page of speakers.", "SpeakerPage"),
                        "400": _problem("A bad sort, order, limit or offset."),
                    },
                }
            },
            "/speakers/{speaker_id}": {
                "get": {
                    "summary": "One speaker: summary, stance per target, recent statements.",
                    "parameters": [
                        {
                            "name": "speaker_id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                        }
                    ],
                    "responses": {
                        "200": _json("The speaker.", "SpeakerDetail"),
                        "308": {
                            **_json("The id was merged into another speaker's.", "Moved"),
                            "headers": {"Location": {"schema": {"type": "string"}}},
                        },
                        "404": _problem("No such speaker."),
                        "503": {
                            **_problem(
                                "The speaker's partition has no worker, or its state is still "
                                "being recovered: ask again after Retry-After seconds."
                            ),
                            "headers": {"Retry-After": {"schema": {"type": "integer"}}},
                        },
                    },
                }
            },
            "/speakers/{speaker_id}/timeline": {
                "get": {
                    "summary": "A speaker's statements, quotations and stances per hour or "
                    "day, by the articles' time (published, else fetched).",
                    "parameters": [
                        {
                            "name": "speaker_id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                        },
                        {
                            "name": "bucket",
                            "in": "query",
                            "schema": {
                                "type": "string",
                                "enum": ["hour", "day"],
                                "default": "hour",
                            },
                        },
                    ],
                    "responses": {
                        "200": _json("The speaker's buckets.", "Timeline"),
                        "400": _problem("A bucket other than hour or day."),
                        "503": _problem("The speaker's partition has no worker now."),
                    },
                }
            },
            "/quotations": {
                "get": {
                    "summary": "One speaker's quotations: the same words in any outlet.",
                    "parameters": [
                        {
                            "name": "speaker",
                            "in": "query",
                            "required": True,
                            "schema": {"type": "string"},
                        },
                        {
                            "name": "sort",
                            "in": "query",
                            "schema": {
                                "type": "string",
                                "enum": list(QUOTATION_SORT_KEYS),
                                "default": "occurrences",
                            },
                        },
                        {
                            "name": "order",
                            "in": "query",
                            "schema": {"type": "string", "enum": ["asc", "desc"]},
                        },
                        *_QUERY[2:4],
                    ],
                    "responses": {
                        "200": _json("A page of quotations.", "QuotationPage"),
                        "400": _problem("No speaker, or a bad sort, order, limit or offset."),
                        "503": _problem("The speaker's partition has no worker now."),
                    },
                }
            },
            "/statements/stream": {
                "get": {
                    "summary": "Server-Sent Events: one `statement` event per new statement.",
                    "description": "Each event's id is the stream position; reconnecting with "
                    "it in `Last-Event-ID` (or `last_event_id`) resumes after that event.",
                    "parameters": [
                        {
                            "name": "speaker",
                            "in": "query",
                            "description": "Only this speaker id's statements.",
                            "schema": {"type": "string"},
                        },
                        {
                            "name": "Last-Event-ID",
                            "in": "header",
                            "schema": {"type": "string", "examples": ["0-13.1-5.2-0.3-8"]},
                        },
                    ],
                    "responses": {
                        "200": {
                            "description": "An event stream; each `data` is a Statement.",
                            "content": {"text/event-stream": {"schema": {"type": "string"}}},
                        },
                        "429": _problem(
                            "Too many streams open from this client address "
                            "(STREAMS_STREAM_LIMIT_PER_CLIENT)."
                        ),
                        "503": _problem("Too many streams open on this worker."),
                    },
                }
            },
            "/articles": {
                "post": {
                    "summary": "Push one article to articles.raw (off unless a token is set).",
                    "security": [{"bearer": []}],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Article"}}
                        },
                    },
                    "responses": {
                        "202": _json("Produced to articles.raw.", "Accepted"),
                        "400": _problem("The body is not JSON."),
                        "401": _problem("Missing or wrong bearer token."),
                        "403": _problem("Push ingestion is off."),
                        "408": _problem("The body took over STREAMS_PUSH_TIMEOUT seconds."),
                        "409": _problem("The article_id names another text on this worker."),
                        "413": _problem(
                            "The body is over STREAMS_PUSH_MAX_BYTES, or the text over "
                            "STREAMS_MAX_ARTICLE_CHARS."
                        ),
                        "422": _problem(
                            "Not a valid Article (a field over its limit, unknown fields…); "
                            "the first 20 field errors and their count."
                        ),
                        "503": _problem("The article could not be produced; try again."),
                    },
                }
            },
            "/health": {
                "get": {
                    "summary": "Liveness, table recovery and the worker's counters.",
                    "responses": {
                        "200": {"description": "The worker runs."},
                        "503": {
                            "description": "A partition has records waiting and made no "
                            "progress for STREAMS_STALL_TIMEOUT (status: stalled)."
                        },
                    },
                }
            },
            "/metrics": {
                "get": {
                    "summary": "Prometheus text exposition.",
                    "responses": {
                        "200": {
                            "description": "Counters, latency histogram, the consumer "
                            "group's lag on every partition of the topics its agents read.",
                            "content": {"text/plain": {"schema": {"type": "string"}}},
                        }
                    },
                }
            },
            "/": {
                "get": {
                    "summary": "The dashboard.",
                    "responses": {"200": {"description": "An HTML page."}},
                }
            },
        },
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }

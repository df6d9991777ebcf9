"""The seed article: who speaks, on one id per person, and what is not a statement."""

from typing import Any

import pytest

from streams.nlp.enrich import Enricher
from streams.records import Article, EnrichedArticle


@pytest.fixture(scope="module")
def enriched(nlp: Any, seed_text: str) -> EnrichedArticle:
    result = Enricher(nlp).enrich([Article(article_id="seed", text=seed_text)])[0]
    assert isinstance(result, EnrichedArticle)
    return result


def test_seed_speakers_are_the_expected_ones(enriched: EnrichedArticle) -> None:
    names = {s.speaker.name for s in enriched.statements}
    assert {"Abbas Araghchi", "Donald Trump", "Vladimir Putin"} <= names
    allowed = {
        "Abbas Araghchi",
        "Donald Trump",
        "Vladimir Putin",
        "Turkey",
        "Turkish presidential palace",
        "Kremlin",
    }
    assert names <= allowed


def test_every_spelling_of_araghchi_is_one_speaker(enriched: EnrichedArticle) -> None:
    mentions = {
        s.speaker.mention: s.speaker.id
        for s in enriched.statements
        if s.speaker.name == "Abbas Araghchi"
    }
    assert {"Araghçi", "Araguchi", "Araghchi"} <= set(mentions)
    assert set(mentions.values()) == {"person:abbas-araghchi"}


def test_no_statement_from_the_byline_or_did_not_say(
    enriched: EnrichedArticle, seed_text: str
) -> None:
    byline = seed_text.index("contributed reporting")
    assert all(s.end < byline for s in enriched.statements)
    did_not = seed_text.index("did not say who he spoke to")
    assert not any(s.start <= did_not < s.end for s in enriched.statements)


def test_offsets_point_into_the_text(enriched: EnrichedArticle, seed_text: str) -> None:
    for s in enriched.statements:
        assert seed_text[s.start : s.end] == s.content
        assert seed_text[s.speaker.start : s.speaker.end] == s.speaker.mention
    for e in enriched.entities:
        assert seed_text[e.start : e.end] == e.text


def test_each_statement_carries_its_articles_metadata(nlp: Any, seed_text: str) -> None:
    article = Article(
        article_id="seed",
        text=seed_text,
        url="https://news.example/world/talks",
        source="Example News",
        title="Talks resume",
        published_at="2026-03-02T08:30:00Z",  # type: ignore[arg-type]
    )
    result = Enricher(nlp).enrich([article])[0]
    assert isinstance(result, EnrichedArticle) and result.statements
    for statement in result.statements:
        assert (statement.url, statement.source, statement.title) == (
            article.url,
            article.source,
            article.title,
        )
        assert statement.published_at == article.published_at
        assert statement.fetched_at == article.fetched_at

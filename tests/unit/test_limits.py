"""The article limits, at each door that needs no broker: the model, the text's limit, the
feed ingester. (Push and replay: tests/integration/test_hostile_input.py; the agent:
tests/agents/test_agents.py and the bad-input corpus.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from streams.errors import RecordError
from streams.ingest.feeds import FeedConfig
from streams.ingest.ingester import Ingester, _Skip
from streams.ingest.items import FeedItem
from streams.limits import TooLong, check_article
from streams.records import (
    MAX_LANG_CHARS,
    MAX_SOURCE_CHARS,
    MAX_TITLE_CHARS,
    MAX_URL_CHARS,
    Article,
)
from streams.settings import Settings

TEXT = "Officials said the bridge would open in May. " * 10


@pytest.mark.parametrize(
    ("field", "limit"),
    [
        ("url", MAX_URL_CHARS),
        ("source", MAX_SOURCE_CHARS),
        ("title", MAX_TITLE_CHARS),
        ("lang", MAX_LANG_CHARS),
        ("article_id", 256),
    ],
)
def test_each_short_field_of_an_article_is_bounded(field: str, limit: int) -> None:
    values: dict[str, Any] = {"article_id": "a", "text": TEXT}
    Article.model_validate({**values, field: "x" * limit})
    with pytest.raises(ValidationError) as caught:
        Article.model_validate({**values, field: "x" * (limit + 1)})
    assert caught.value.errors()[0]["loc"] == (field,)


def test_the_text_limit_is_the_setting() -> None:
    article = Article(article_id="a", text="word " * 100)
    assert check_article(article, max_chars=500) is article
    with pytest.raises(TooLong, match="over the limit of 499"):
        check_article(article, max_chars=499)
    with pytest.raises(RecordError, match="empty"):
        check_article(Article(article_id="a", text=" \n "), max_chars=500)


def _item(**changes: Any) -> FeedItem:
    fields: dict[str, Any] = dict(
        guid=None,
        link="https://example.org/story",
        title="A story",
        author=None,
        published=None,
        content_html=f"<p>{TEXT}</p>",
        summary_html=None,
    )
    fields.update(changes)
    return FeedItem(**fields)


@pytest.mark.parametrize(
    ("item", "reason"),
    [
        (_item(), None),
        (_item(link="https://example.org/" + "x" * MAX_URL_CHARS), "over the article limits"),
        (_item(content_html="<p>" + TEXT * 10 + "</p>"), "text over STREAMS_MAX_ARTICLE_CHARS"),
    ],
    ids=["ordinary", "long-url", "long-text"],
)
async def test_the_feed_ingester_skips_an_item_over_the_limits(
    tmp_path: Path, item: FeedItem, reason: str | None
) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path, max_article_chars=4000)  # type: ignore[call-arg]
    ingester = Ingester(settings)
    feed = FeedConfig(url="https://example.org/feed", name="example", interval=60)
    if reason is None:
        article = await ingester._article(feed, item, "en")
        assert article.url == "https://example.org/story"
        return
    with pytest.raises(_Skip) as caught:
        await ingester._article(feed, item, "en")
    assert caught.value.reason == reason

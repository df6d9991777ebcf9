"""Feed parsing, text extraction, URL canonicalisation, feeds files, HTTP politeness, the
record of outcomes and the summary's counts."""

from __future__ import annotations

import asyncio
import itertools
import socket
import time
from datetime import timedelta
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from streams.errors import ConfigError
from streams.ids import canonical_url
from streams.ingest.charset import declared, decode
from streams.ingest.feeds import feed, load_feeds, merge
from streams.ingest.http import Disallowed, Fetcher, FetchError
from streams.ingest.ingester import item_keys
from streams.ingest.items import NO_DATE, FeedError, FeedItem
from streams.ingest.parse import parse_feed
from streams.ingest.seen import SeenState
from streams.ingest.summary import FeedSummary, IngestMetrics
from streams.ingest.text import fragment_text, language, page_text
from streams.kafka.tail import resolve_topic
from streams.records import utcnow
from streams.settings import Settings

RSS_091 = b"""<?xml version="1.0"?><rss version="0.91"><channel><title>Old</title>
<language>en-gb</language>
<item><title>One</title><link>http://example.org/1</link><description>First.</description></item>
</channel></rss>"""

RDF_10 = b"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
  xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel rdf:about="http://example.org/"><title>RDF</title></channel>
<item rdf:about="http://example.org/2"><title>Two</title><link>http://example.org/2</link>
<dc:date>2026-11-20T08:00:00Z</dc:date><dc:creator>A. Writer</dc:creator></item>
</rdf:RDF>"""


@pytest.mark.parametrize(
    ("body", "fmt", "link"),
    [(RSS_091, "rss091u", "http://example.org/1"), (RDF_10, "rss10", "http://example.org/2")],
)
def test_old_rss_formats_parse(body: bytes, fmt: str, link: str) -> None:
    feed = parse_feed(body, "application/rss+xml")
    assert feed.format == fmt
    assert [item.link for item in feed.items] == [link]


def test_rdf_item_keeps_date_and_author() -> None:
    (item,) = parse_feed(RDF_10).items
    assert item.author == "A. Writer"
    assert item.published is not None and item.published.year == 2026


def test_feed_language_is_reduced_to_its_primary_code() -> None:
    assert parse_feed(RSS_091).lang == "en"


def test_json_feed_maps_text_to_paragraphs() -> None:
    body = (
        b'{"version": "https://jsonfeed.org/version/1", "items": [{"id": 7, '
        b'"url": "http://e.org/a", "content_text": "One.\\nTwo <b>.", "author": {"name": "Q"}}]}'
    )
    (item,) = parse_feed(body, "application/json").items
    assert item.guid == "7" and item.author == "Q"
    assert fragment_text(item.content_html or "") == "One.\nTwo <b>."


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (b"<html><body>hello</body></html>", "text/html", "not a feed"),
        (b'{"title": "x"}', "application/json", "jsonfeed.org"),
        (b"{not json", "application/json", "malformed JSON feed"),
        (b"<rss><channel><item><title>x</tit", "text/xml", "malformed feed"),
        (b"", "", "not a feed"),
    ],
)
def test_what_is_not_a_feed_says_why(body: bytes, content_type: str, message: str) -> None:
    with pytest.raises(FeedError, match=message):
        parse_feed(body, content_type)


def test_fragment_text_keeps_paragraphs_and_drops_scripts() -> None:
    html = '<p>He said: "Yes."</p><script>var x;</script><div>Second&nbsp;one <i>here</i>.</div>'
    assert fragment_text(html) == 'He said: "Yes."\nSecond one here.'


def test_page_text_finds_the_article_and_its_metadata() -> None:
    body = " ".join(["The committee published its findings on the river crossing."] * 4)
    html = (
        "<html><head><title>Findings | Paper</title><meta name='author' content='Rosa Vale'>"
        "</head><body><nav>Home Sport Weather</nav><article><h1>Findings</h1>"
        f"<p>{body}</p><p>{body}</p></article><footer>Contact us</footer></body></html>"
    )
    page = page_text(html, "http://e.org/findings")
    assert page is not None
    assert body in page.text
    assert "Home Sport" not in page.text and "Contact us" not in page.text
    assert page.author == "Rosa Vale"


def test_language_detection() -> None:
    assert language("The minister said the talks would resume next week.") == "en"
    assert language("Le ministre a déclaré que les négociations reprendraient.") == "fr"


def test_canonical_url_drops_tracking_and_fragment() -> None:
    a = canonical_url("HTTPS://News.Example.ORG:443/a/b?utm_source=rss&id=3&fbclid=x#comments")
    assert a == "https://news.example.org/a/b?id=3"
    assert canonical_url("http://e.org/x?b=2&a=1") == canonical_url("http://E.org:80/x?a=1&b=2")


def test_item_keys_match_across_tracking_variants() -> None:
    one = FeedItem("g1", "http://e.org/a?utm_medium=x", "T", None, None, None, None)
    two = FeedItem("g2", "http://e.org/a", "T", None, None, None, None)
    assert set(item_keys(one)) & set(item_keys(two))
    assert item_keys(FeedItem(None, None, "Only a title", None, None, None, None))


def test_feeds_file(tmp_path: Path) -> None:
    path = tmp_path / "feeds.toml"
    path.write_text(
        '[[feed]]\nurl = "https://a.org/rss"\nname = "A"\ninterval = 60\nlanguage = "en"\n'
        '[[feed]]\nurl = "https://b.org/atom"\n'
    )
    feeds = merge(["https://b.org/atom", "https://c.org/feed.json"], [path], interval=300)
    assert [(f.source, f.interval) for f in feeds] == [
        ("A", 60.0),
        ("b.org", 300.0),
        ("c.org", 300),
    ]
    path.write_text('[[feed]]\nurl = "https://a.org/rss"\nevery = 5\n')
    with pytest.raises(ConfigError, match="unknown keys"):
        load_feeds(path, interval=1)
    with pytest.raises(ConfigError, match="http"):
        merge(["ftp://x.org/feed"], [], interval=1)


def test_summary_line_counts_every_item_once_and_metrics_keep_skips_and_errors_apart() -> None:
    summary = FeedSummary("A", "u", items=6, new=2, duplicate=1)
    summary.skip_reasons.update({"language de": 1, "given up: page HTTP 404": 1})
    summary.error_reasons["page timed out"] += 1
    summary.ignored[NO_DATE] += 1
    assert summary.accounted and (summary.skipped, summary.errors) == (2, 1)
    assert summary.line() == (
        "A: 2 new, 1 duplicate, 2 skipped, 1 errors of 6 items; "
        "skipped: given up: page HTTP 404 (1), language de (1); errors: page timed out (1); "
        "ignored: date unreadable (1)"
    )
    metrics = IngestMetrics()
    metrics.add(summary)
    text = metrics.prometheus()
    assert 'streams_ingest_items_skipped_total{reason="language de"} 1' in text
    assert 'streams_ingest_item_errors_total{reason="page timed out"} 1' in text
    assert 'streams_ingest_items_skipped_total{reason="page timed out"}' not in text
    assert 'streams_ingest_item_fields_ignored_total{reason="date unreadable"} 1' in text
    assert "streams_ingest_items_total 6" in text


def test_summary_is_not_accounted_when_an_item_is_missing() -> None:
    assert not FeedSummary("A", "u", items=3, new=2).accounted


def test_feeds_are_named_by_name_else_title_else_host_and_path() -> None:
    named = feed("https://news.example.org/world/rss.xml", interval=1, name="World")
    plain = feed("https://news.example.org/world/rss.xml", interval=1)
    assert named.label("Example News") == "World"
    assert plain.label("Example  News\n") == "Example News"
    assert plain.label(None) == "news.example.org/world/rss.xml"
    assert plain.source == "news.example.org"


def test_tail_prefixes_the_ingest_seen_topic_like_every_other() -> None:
    settings = Settings(_env_file=None, topic_prefix="p.")  # type: ignore[call-arg]
    assert resolve_topic(settings, "ingest.seen") == "p.ingest.seen"
    assert resolve_topic(settings, "articles.raw") == "p.articles.raw"
    assert resolve_topic(settings, "someone.elses") == "someone.elses"


RSS_DATES = b"""<?xml version="1.0"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>PHP</title>
<item><title>Zero</title><link>http://e.org/0</link><pubDate>0000-00-00 00:00:00</pubDate></item>
<item><title>Year 0</title><link>http://e.org/1</link><dc:date>0000-01-01T00:00:00Z</dc:date>
</item>
<item><title>Year 10000</title><link>http://e.org/2</link>
<pubDate>9999-12-31T23:59:59-05:00</pubDate></item>
<item><title>Good</title><link>http://e.org/3</link>
<pubDate>Fri, 20 Nov 2026 08:00:00 GMT</pubDate></item>
</channel></rss>"""


def test_dates_no_calendar_holds_become_no_date_and_cost_nothing_else() -> None:
    feed_ = parse_feed(RSS_DATES, "application/rss+xml")
    assert [item.title for item in feed_.items] == ["Zero", "Year 0", "Year 10000", "Good"]
    assert [item.published is None for item in feed_.items] == [True, True, True, False]
    assert [item.ignored for item in feed_.items] == [(NO_DATE,)] * 3 + [()]


def test_json_items_with_wrong_types_are_rejected_one_by_one() -> None:
    body = (
        b'{"version": "https://jsonfeed.org/version/1.1", "title": "J", "items": ['
        b'{"id": "a", "url": "http://e.org/a", "summary": 5},'
        b'{"id": "b", "url": 7},'
        b'{"id": "c", "url": "http://e.org/c", "title": ["x"]},'
        b"42, {},"
        b'{"id": "d", "url": "http://e.org/d", "content_text": "Fine.",'
        b' "date_published": "0000-01-01T00:00:00Z", "author": "A. Bare"}]}'
    )
    feed_ = parse_feed(body, "application/feed+json")
    assert [item.link for item in feed_.items] == ["http://e.org/d"]
    assert feed_.items[0].ignored == (NO_DATE,) and feed_.items[0].author == "A. Bare"
    assert feed_.rejected == [
        "invalid JSON item: summary",
        "invalid JSON item: url",
        "invalid JSON item: title",
        "invalid JSON item: a number, not an object",
        "empty item",
    ]
    assert feed_.entries == 6


def test_json_items_that_are_not_an_array_fail_the_feed_with_a_reason() -> None:
    body = b'{"version": "https://jsonfeed.org/version/1.1", "items": 5}'
    with pytest.raises(FeedError, match="items is a number, not an array"):
        parse_feed(body, "application/feed+json")


def test_items_without_link_or_guid_are_kept_and_empty_ones_rejected() -> None:
    body = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
        b"<item><description>" + b"Only a description here. " * 12 + b"</description></item>"
        b"<item></item></channel></rss>"
    )
    feed_ = parse_feed(body)
    (item,) = feed_.items
    assert item.link is None and item.guid is None and item.summary_html
    assert feed_.rejected == ["empty item"] and feed_.entries == 2
    assert item_keys(item)[0].startswith("item:")


def test_content_hash_keys_tell_items_with_the_same_title_apart() -> None:
    one = FeedItem(None, None, "Notice", None, None, "<p>One</p>", None)
    two = FeedItem(None, None, "Notice", None, None, "<p>Two</p>", None)
    assert item_keys(one) != item_keys(two)


def test_a_feed_read_despite_a_fault_is_returned_with_its_warning() -> None:
    body = (
        '<?xml version="1.0" encoding="us-ascii"?><rss version="2.0"><channel>'
        "<title>Café</title></channel></rss>"
    ).encode()
    feed_ = parse_feed(body, "application/rss+xml")
    assert feed_.title == "Café" and feed_.items == [] and feed_.entries == 0
    assert feed_.warning and "us-ascii" in feed_.warning


RUSSIAN = "Новый мост через реку откроют для движения в сентябре, сообщили в администрации."


def test_a_feed_that_declares_no_encoding_is_decoded_as_detected() -> None:
    body = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Новости</title>'
        f"<item><title>Мост</title><link>http://e.org/m</link><description>{RUSSIAN} {RUSSIAN}"
        "</description></item></channel></rss>"
    ).encode("cp1251")
    feed_ = parse_feed(body, "application/rss+xml")
    assert feed_.title == "Новости"
    assert feed_.items[0].summary_html == f"{RUSSIAN} {RUSSIAN}"


def test_declared_encodings_win_and_a_contradicted_one_is_passed_over() -> None:
    html = f"<html><head><meta charset='koi8-r'></head><body>{RUSSIAN}</body></html>"
    assert declared(html.encode("koi8-r")) == "koi8-r"
    assert RUSSIAN in decode(html.encode("koi8-r"))
    assert RUSSIAN in decode(RUSSIAN.encode("cp1251"), "text/html; charset=windows-1251")
    assert decode("Café".encode(), "text/html; charset=us-ascii") == "Café"


def test_seen_state_folds_outcomes_and_failures() -> None:
    state = SeenState()
    later = (utcnow() + timedelta(minutes=5)).isoformat()
    error = (
        f'{{"outcome": "error", "reason": "page HTTP 503", "attempts": 2, "retry_at": "{later}"}}'
    )
    state.apply("url:a", error.encode())
    failure = state.failure(["guid:x", "url:a"])
    assert failure is not None and (failure.reason, failure.attempts) == ("page HTTP 503", 2)
    assert not state.known(["url:a"])
    state.apply("url:a", b'{"outcome": "given up", "reason": "page HTTP 503"}')
    assert state.known(["url:a"]) and state.failure(["url:a"]) is None
    state.apply("url:a", error.encode())  # a late failure of another ingester: done wins
    assert state.known(["url:a"]) and state.failure(["url:a"]) is None
    state.apply("url:b", b'{"article_id": "x"}')  # written before outcomes existed
    assert state.known(["url:b"])
    state.apply("url:b", None)
    assert not state.known(["url:b"])


def _settings(**values: object) -> Settings:
    base: dict[str, object] = dict(_env_file=None, ingest_retries=0, ingest_timeout=2)
    base.update(values)
    return Settings(**base)  # type: ignore[arg-type]


def test_requests_to_one_host_are_spaced_and_carry_our_user_agent(httpserver: HTTPServer) -> None:
    seen: list[tuple[float, str]] = []

    def handler(request: Request) -> Response:
        seen.append((time.monotonic(), request.headers.get("User-Agent", "")))
        return Response("ok", content_type="text/plain")

    httpserver.expect_request("/robots.txt").respond_with_data("", status=404)
    httpserver.expect_request("/p").respond_with_handler(handler)
    settings = _settings(ingest_host_delay=0.3)

    async def run() -> None:
        async with Fetcher(settings) as fetcher:
            await asyncio.gather(*(fetcher.get(httpserver.url_for("/p")) for _ in range(3)))

    asyncio.run(run())
    gaps = [b[0] - a[0] for a, b in itertools.pairwise(seen)]
    assert len(seen) == 3 and all(gap >= 0.25 for gap in gaps), gaps
    assert all(agent == settings.ingest_user_agent for _, agent in seen)


def test_retries_back_off_then_succeed(httpserver: HTTPServer) -> None:
    answers = iter([503, 503, 200])

    def handler(request: Request) -> Response:
        return Response("fine", status=next(answers))

    httpserver.expect_request("/robots.txt").respond_with_data("", status=404)
    httpserver.expect_request("/flaky").respond_with_handler(handler)
    settings = _settings(ingest_retries=2, ingest_backoff=0.01, ingest_host_delay=0)

    async def run() -> bytes:
        async with Fetcher(settings) as fetcher:
            return (await fetcher.get(httpserver.url_for("/flaky"))).body

    assert asyncio.run(run()) == b"fine"


def test_unreachable_robots_txt_allows_nothing(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/robots.txt").respond_with_data("", status=503)
    httpserver.expect_request("/feed").respond_with_data("<rss/>")
    settings = _settings(ingest_host_delay=0)

    async def run() -> None:
        async with Fetcher(settings) as fetcher:
            await fetcher.get(httpserver.url_for("/feed"))

    with pytest.raises(FetchError, match=r"robots\.txt") as caught:
        asyncio.run(run())
    assert not isinstance(caught.value, Disallowed)  # an error to retry, not a refusal
    assert caught.value.reason == "robots.txt HTTP 503"


def test_unreachable_host_is_an_error_not_a_robots_refusal() -> None:
    settings = _settings(ingest_host_delay=0)
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]

    async def run() -> None:
        async with Fetcher(settings) as fetcher:
            await fetcher.get(f"http://127.0.0.1:{port}/news/a")

    with pytest.raises(FetchError) as caught:
        asyncio.run(run())
    assert not isinstance(caught.value, Disallowed)
    assert caught.value.reason == "robots.txt unreachable"


def test_conditional_get_sends_last_modified(httpserver: HTTPServer) -> None:
    stamp = "Wed, 18 Nov 2026 08:00:00 GMT"

    def handler(request: Request) -> Response:
        if request.headers.get("If-Modified-Since") == stamp:
            return Response(status=304)
        return Response("<rss/>", headers={"Last-Modified": stamp})

    httpserver.expect_request("/robots.txt").respond_with_data("", status=404)
    httpserver.expect_request("/feed").respond_with_handler(handler)
    settings = _settings(ingest_host_delay=0)

    async def run() -> list[bool]:
        async with Fetcher(settings) as fetcher:
            url = httpserver.url_for("/feed")
            return [(await fetcher.get(url, conditional=True)).not_modified for _ in range(2)]

    assert asyncio.run(run()) == [False, True]

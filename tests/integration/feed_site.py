"""A small news site served by pytest-httpserver: feeds, article pages, and misbehaviour.

The articles are written for these tests. Each page wraps its body in navigation, a sidebar
and a footer whose words must not reach the article text.
"""

from __future__ import annotations

import gzip
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime

import orjson
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

NAV = "Home World Business Sport Subscribe to our newsletter"
FOOTER = "Copyright 2026 The Lakeside Courier. All rights reserved. Privacy policy and cookies."
SIDEBAR = "Most read: ten recipes for autumn evenings"


@dataclass(frozen=True)
class Story:
    slug: str
    title: str
    paragraphs: tuple[str, ...]
    author: str = "Mara Lind"

    @property
    def body(self) -> str:
        return "\n".join(self.paragraphs)


STORIES = {
    s.slug: s
    for s in (
        Story(
            "harbour",
            "Council approves harbour dredging plan",
            (
                "The city council approved a plan on Tuesday to dredge the old harbour, ending "
                "a dispute that had delayed the project for three years.",
                '"This is the best outcome we could have hoped for," the harbour master, '
                "Ines Calder, told reporters after the vote.",
                "Opponents said the dredging would disturb wading birds and warned that the "
                "costs had been underestimated by at least a fifth.",
            ),
        ),
        Story(
            "rail",
            "Regional rail line to reopen in spring",
            (
                "The regional rail line closed by last winter's floods will reopen in April, "
                "the transport authority announced on Wednesday.",
                "Its chief executive, Paul Okafor, said the embankments had been rebuilt to "
                "withstand a flood twice as high as the last one.",
                "Commuter groups welcomed the news but urged the authority to publish the "
                "new timetable well before the first trains run.",
            ),
        ),
        Story(
            "library",
            "Library extends opening hours after petition",
            (
                "The central library will open until nine in the evening from next month, "
                "after more than four thousand residents signed a petition.",
                '"Students told us they had nowhere quiet to work," said the head librarian, '
                'Sofia Brandt. "We listened."',
                "The council said the longer hours would be paid for by savings on heating "
                "the building's older wing.",
            ),
        ),
        Story(
            "bridge",
            "Engineers say footbridge is safe",
            (
                "Engineers who inspected the river footbridge after reports of cracks said on "
                "Thursday that the structure was safe to use.",
                "The inspection found only surface damage to the paint, according to a "
                "statement from the council's engineering department.",
                "Residents had asked for the bridge to be closed until the inspection was "
                "complete, and some said they would keep using the road bridge instead.",
            ),
        ),
    )
}

GERMAN = Story(
    "wetter",
    "Sturm trifft die Küste",
    (
        "Ein schwerer Sturm hat am Montag die Küste getroffen und zahlreiche Bäume entwurzelt.",
        "Der Wetterdienst sagte, dass der Wind in der Nacht noch stärker werden könnte, und "
        "riet den Bewohnern, zu Hause zu bleiben.",
        "Mehrere Zugverbindungen wurden eingestellt, teilte die Bahn mit.",
    ),
)


def page(story: Story) -> str:
    paragraphs = "".join(f"<p>{p}</p>" for p in story.paragraphs)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{story.title} | The Lakeside Courier</title>
<meta name="author" content="{story.author}">
<meta property="article:published_time" content="2026-11-20T08:00:00Z"></head>
<body><nav><ul><li><a href="/">{NAV}</a></li></ul></nav>
<aside>{SIDEBAR}</aside>
<main><article><h1>{story.title}</h1><p class="byline">By {story.author}</p>
{paragraphs}</article></main>
<footer>{FOOTER}</footer></body></html>"""


def rss(base: str) -> str:
    harbour, rail = STORIES["harbour"], STORIES["rail"]
    full = "".join(f"<p>{p}</p>" for p in rail.paragraphs)
    when = format_datetime(datetime(2026, 11, 20, 8, 0, tzinfo=UTC))
    return f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">
<channel><title>Lakeside Courier</title><link>{base}/</link><language>en</language>
<item><title>{harbour.title}</title><link>{base}/news/harbour</link>
  <guid isPermaLink="true">{base}/news/harbour</guid><pubDate>{when}</pubDate>
  <description>The council approved a plan to dredge the harbour.</description></item>
<item><title>{rail.title}</title><link>{base}/news/rail</link><guid>rail-2026-11</guid>
  <pubDate>{when}</pubDate><description>The line reopens in April.</description>
  <content:encoded><![CDATA[{full}]]></content:encoded></item>
<item><title>Missing page</title><link>{base}/news/gone</link>
  <description>This page does not exist.</description></item>
<item><title>Members only</title><link>{base}/private/report</link>
  <description>Behind the robots.txt.</description></item>
</channel></rss>"""


def atom(base: str) -> str:
    return f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Courier Atom</title>
<id>urn:courier</id><updated>2026-11-20T08:00:00Z</updated>
<entry><title>{STORIES["harbour"].title}</title>
  <link href="{base}/news/harbour?utm_source=atom&amp;utm_medium=feed#top"/>
  <id>urn:courier:harbour</id><updated>2026-11-20T08:00:00Z</updated>
  <summary>Dredging approved.</summary></entry>
<entry><title>{GERMAN.title}</title><link href="{base}/news/wetter"/>
  <id>urn:courier:wetter</id><updated>2026-11-20T08:00:00Z</updated>
  <summary>Sturm.</summary></entry>
<entry><title>{STORIES["library"].title}</title><link href="{base}/news/library"/>
  <id>urn:courier:library</id><updated>2026-11-20T08:00:00Z</updated>
  <summary>Longer hours.</summary></entry>
</feed>"""


def json_feed(base: str) -> bytes:
    bridge = STORIES["bridge"]
    return orjson.dumps(
        {
            "version": "https://jsonfeed.org/version/1.1",
            "title": "Courier JSON",
            "language": "en",
            "items": [
                {
                    "id": "bridge-1",
                    "url": f"{base}/news/bridge",
                    "title": bridge.title,
                    "content_text": bridge.body,
                    "date_published": "2026-11-20T08:00:00Z",
                    "authors": [{"name": bridge.author}],
                }
            ],
        }
    )


def serve(server: HTTPServer, *, timeout: float) -> None:
    """Register the site's routes on ``server``."""
    base = server.url_for("").rstrip("/")
    server.expect_request("/robots.txt").respond_with_data(
        "User-agent: *\nDisallow: /private/\n", content_type="text/plain"
    )
    for story in (*STORIES.values(), GERMAN):
        server.expect_request(f"/news/{story.slug}").respond_with_data(
            page(story), content_type="text/html; charset=utf-8"
        )
    server.expect_request("/news/gone").respond_with_data("gone", status=404)

    etag = '"rss-v1"'

    def rss_handler(request: Request) -> Response:
        if request.headers.get("If-None-Match") == etag:
            return Response(status=304, headers={"ETag": etag})
        body = gzip.compress(rss(base).encode("utf-8"))
        return Response(
            body,
            content_type="application/rss+xml",
            headers={"Content-Encoding": "gzip", "ETag": etag},
        )

    server.expect_request("/rss.xml").respond_with_handler(rss_handler)
    server.expect_request("/atom.xml").respond_with_data(
        atom(base), content_type="application/atom+xml"
    )
    server.expect_request("/feed.json").respond_with_data(
        json_feed(base), content_type="application/feed+json"
    )
    # misbehaving feeds
    server.expect_request("/missing.xml").respond_with_data("no", status=404)
    server.expect_request("/broken.xml").respond_with_data("oops", status=500)

    def slow(request: Request) -> Response:
        time.sleep(timeout * 3)
        return Response(rss(base), content_type="application/rss+xml")

    server.expect_request("/slow.xml").respond_with_handler(slow)
    server.expect_request("/loop.xml").respond_with_response(
        Response(status=302, headers={"Location": f"{base}/loop.xml"})
    )
    server.expect_request("/malformed.xml").respond_with_data(
        '<?xml version="1.0"?><rss version="2.0"><channel><item><title>Half',
        content_type="application/rss+xml",
    )
    server.expect_request("/not-a-feed.xml").respond_with_data(
        page(STORIES["rail"]), content_type="text/html"
    )
    server.expect_request("/huge.xml").respond_with_data(
        "<rss>" + "x" * 300_000 + "</rss>", content_type="application/rss+xml"
    )

"""A small news site served by pytest-httpserver: feeds, article pages, and misbehaviour.

The articles are written for these tests. Each page wraps its body in navigation, a sidebar
and a footer whose words must not reach the article text.
"""

from __future__ import annotations

import gzip
import re
import socket
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

#: Stories of the feeds that carry faults next to good items (see :func:`serve`).
MORE = {
    s.slug: s
    for s in (
        Story(
            "ferry",
            "Night ferry returns after repairs",
            (
                "The night ferry across the lake returned to service on Friday after six "
                "weeks of repairs to its engines and hull.",
                "The operator said the crossing would run on the winter timetable until the "
                "end of March, with an extra sailing on Saturdays.",
                "Passengers who bought season tickets before the repairs will be refunded "
                "for the weeks they could not travel.",
            ),
        ),
        Story(
            "market",
            "Farmers' market moves to the square",
            (
                "The weekly farmers' market will move from the car park to the main square "
                "in the new year, the town council decided on Monday.",
                "Stallholders had complained that the car park flooded after heavy rain and "
                "that shoppers could not find them.",
                "The council will close the square to traffic on market mornings.",
            ),
        ),
        Story(
            "orchard",
            "Volunteers replant the old orchard",
            (
                "More than sixty volunteers spent the weekend replanting the old orchard "
                "behind the school with apple and pear trees.",
                "The trees were grown from cuttings of the varieties that stood there a "
                "century ago, the parish archivist said.",
                "The first fruit is expected in three or four years.",
            ),
        ),
        Story(
            "tram",
            "Tram stop renamed after local nurse",
            (
                "The tram stop outside the hospital will be renamed after a nurse who worked "
                "on its wards for forty years, the transport authority said.",
                "Her former colleagues had collected signatures for the change since the spring.",
                "New signs will go up before the end of the month.",
            ),
        ),
    )
}

#: An item whose only text is a description long enough to be the article (no page, no id).
BARE_TEXT = (
    "The swimming pool on Mill Road will close for two weeks in January while its filters "
    "are replaced, the leisure centre said on Tuesday. Lane swimming moves to the school pool "
    "in the evenings, and members will not pay for the weeks the pool is shut."
)

#: Written for these tests; served in windows-1251 with no charset declared anywhere.
RUSSIAN = Story(
    "most",
    "Мост через реку откроют осенью",
    (
        "Новый мост через реку откроют для движения в сентябре, сообщили в городской "
        "администрации во вторник.",
        "По словам главного инженера проекта Анны Соколовой, строители уже завершили "
        "укладку опор и приступили к монтажу пролётов.",
        "Жители соседних районов надеются, что мост сократит время в пути до центра города "
        "почти вдвое.",
    ),
)

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


def _content(story: Story) -> str:
    return (
        "<content:encoded><![CDATA["
        + "".join(f"<p>{p}</p>" for p in story.paragraphs)
        + ("]]></content:encoded>")
    )


def php_rss(base: str) -> str:
    """Full-content items, two of them with dates that no calendar holds."""
    ferry, market, orchard = (MORE[slug] for slug in ("ferry", "market", "orchard"))
    when = format_datetime(datetime(2026, 11, 21, 8, 0, tzinfo=UTC))
    return f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">
<channel><title>Lakeside Evening Post</title><link>{base}/</link>
<item><title>{ferry.title}</title><link>{base}/news/ferry</link><pubDate>{when}</pubDate>
  {_content(ferry)}</item>
<item><title>{market.title}</title><link>{base}/news/market</link>
  <pubDate>0000-00-00 00:00:00</pubDate>{_content(market)}</item>
<item><title>{orchard.title}</title><link>{base}/news/orchard</link>
  <pubDate>9999-12-31T23:59:59-05:00</pubDate>{_content(orchard)}</item>
</channel></rss>"""


def bad_json_feed(base: str) -> bytes:
    """One good item among items whose fields have the wrong JSON types."""
    tram = MORE["tram"]
    return orjson.dumps(
        {
            "version": "https://jsonfeed.org/version/1.1",
            "title": "Courier Extra",
            "items": [
                {"id": "n1", "url": f"{base}/news/n1", "title": "Numbers", "summary": 5},
                {
                    "id": "tram-1",
                    "url": f"{base}/news/tram",
                    "title": tram.title,
                    "content_text": tram.body,
                    "date_published": "2026-11-21T09:00:00Z",
                },
                {"id": "n2", "url": 17, "title": "A number for a URL"},
                {"id": "n3", "url": f"{base}/news/n3", "title": ["a", "list"]},
                42,
            ],
        }
    )


#: The description of an item whose page robots.txt forbids: long enough to be its text.
NOTICE_TEXT = (
    "The library car park will be resurfaced over the Easter weekend, the council said. "
    "Visitors are asked to use the station car park, where the first two hours will be free "
    "while the work lasts, and the mobile library will stop outside the town hall instead."
)


def bare_rss(base: str) -> str:
    """An item with only a description, an empty item, an item with only a title, and an
    item whose page robots.txt forbids but whose description is long enough."""
    return f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Leisure Notices</title>
<item><description>{BARE_TEXT}</description></item>
<item></item>
<item><title>Notice board</title></item>
<item><title>Car park closed</title><link>{base}/private/car-park</link>
  <description>{NOTICE_TEXT}</description></item>
</channel></rss>"""


def russian_rss(base: str) -> bytes:
    """A feed in windows-1251 whose encoding is declared nowhere (header, XML, BOM)."""
    return f"""<?xml version="1.0"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">
<channel><title>Городские новости</title><link>{base}/</link><language>ru</language>
<item><title>{RUSSIAN.title}</title><link>{base}/news/{RUSSIAN.slug}</link>
  <guid>most-2026</guid>{_content(RUSSIAN)}</item>
</channel></rss>""".encode("cp1251")


def closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def elsewhere_rss(base: str, port: int) -> str:
    """Items on hosts whose robots.txt cannot be read: one refuses connections, one 503s."""
    other = base.replace("127.0.0.1", "localhost")
    return f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Courier Links</title>
<item><title>Closed host</title><link>http://127.0.0.1:{port}/news/closed</link></item>
<item><title>Robots down</title><link>{other}/news/bridge</link></item>
</channel></rss>"""


def _count_items(body: str | bytes) -> int:
    if isinstance(body, bytes) and body.startswith(b"{"):
        return len(orjson.loads(body)["items"])
    text = body.decode("latin-1") if isinstance(body, bytes) else body
    return len(re.findall(r"<(?:item|entry)[\s>]", text))


def serve(server: HTTPServer, *, timeout: float) -> dict[str, int]:
    """Register the site's routes on ``server``; returns the items of each feed it serves."""
    base = server.url_for("").rstrip("/")

    def robots(request: Request) -> Response:
        if request.host.startswith("localhost"):
            return Response("busy", status=503)
        return Response("User-agent: *\nDisallow: /private/\n", content_type="text/plain")

    server.expect_request("/robots.txt").respond_with_handler(robots)
    for story in (*STORIES.values(), *MORE.values(), GERMAN):
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
    server.expect_request("/items.json").respond_with_data(
        b'{"version": "https://jsonfeed.org/version/1.1", "title": "Five", "items": 5}',
        content_type="application/feed+json",
    )
    # feeds with faults next to good items
    bodies: dict[str, str | bytes] = {
        "rss.xml": rss(base),
        "atom.xml": atom(base),
        "feed.json": json_feed(base),
        "php.xml": php_rss(base),
        "bad.json": bad_json_feed(base),
        "bare.xml": bare_rss(base),
        "cp1251.xml": russian_rss(base),
        "elsewhere.xml": elsewhere_rss(base, closed_port()),
        # declared us-ascii, written in UTF-8, no items: feedparser flags it and reads it
        "empty.xml": '<?xml version="1.0" encoding="us-ascii"?>\n<rss version="2.0"><channel>'
        "<title>Café notices</title></channel></rss>",
    }
    types = {"bad.json": "application/feed+json"}
    for name in ("php.xml", "bad.json", "bare.xml", "cp1251.xml", "elsewhere.xml", "empty.xml"):
        body = bodies[name]
        server.expect_request(f"/{name}").respond_with_data(
            body.encode("utf-8") if isinstance(body, str) else body,
            content_type=types.get(name, "application/rss+xml"),
        )
    return {name: _count_items(body) for name, body in bodies.items()}

"""The web guard's pure parts: Host names, the names a worker answers to, the page's policy."""

from __future__ import annotations

import pytest

from streams.app.guard import allowed_hosts, host_name, page_policy
from streams.app.push import authorized
from streams.settings import Settings


@pytest.mark.parametrize(
    ("header", "name"),
    [
        ("Example.ORG:6066", "example.org"),
        ("example.org", "example.org"),
        ("[::1]:6066", "::1"),
        ("::1", "::1"),
        ("127.0.0.1:80", "127.0.0.1"),
    ],
)
def test_host_name(header: str, name: str) -> None:
    assert host_name(header) == name


def test_allowed_hosts_from_the_settings() -> None:
    plain = allowed_hosts(Settings(_env_file=None))  # type: ignore[call-arg]
    assert plain == {"localhost", "127.0.0.1", "::1"}
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        web_host="0.0.0.0",
        web_url="http://Worker-2.internal:6066",
        web_allowed_hosts="news.example.org, Other.example:443",
    )
    names = allowed_hosts(settings)
    assert names is not None and "0.0.0.0" not in names
    assert {"worker-2.internal", "news.example.org", "other.example"} <= names
    assert allowed_hosts(Settings(_env_file=None, web_allowed_hosts="*")) is None  # type: ignore[call-arg]


def test_the_page_policy_allows_the_page_s_own_blocks_only() -> None:
    page = b"<style>p{}</style><script>go()</script><script>more()</script>"
    policy = page_policy(page)
    assert policy.count("'sha256-") == 3
    assert "unsafe-inline" not in policy and "frame-ancestors 'none'" in policy
    assert page_policy(page.replace(b"go()", b"evil()")) != policy


@pytest.mark.parametrize(
    ("header", "ok"),
    [
        ("Bearer s3cret", True),
        ("bearer s3cret", True),
        ("BEARER   s3cret  ", True),
        ("Bearer s3cret\x00", False),
        ("Bearer \udcff\udcfe", False),  # a header that was not UTF-8
        ("Basic s3cret", False),
        ("s3cret", False),
        ("", False),
    ],
)
def test_the_bearer_token_check(header: str, ok: bool) -> None:
    assert authorized(header, "s3cret") is ok

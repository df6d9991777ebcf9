import pytest

from streams import ids


def test_article_id_prefers_the_given_id() -> None:
    assert ids.article_id(given=" abc ", url="https://x.org/a", text="t") == "abc"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("https://Example.COM/a?x=1#frag", "https://example.com/a?x=1"),
        ("HTTPS://example.com:443/a", "https://example.com/a"),
        ("http://example.com", "http://example.com/"),
    ],
)
def test_article_id_from_equivalent_urls_is_equal(a: str, b: str) -> None:
    assert ids.article_id(url=a, text="one") == ids.article_id(url=b, text="two")


def test_article_id_from_text_is_stable_and_normalised() -> None:
    nfc, nfd = "Erdo\u011fan said", "Erdog\u0306an said"
    assert ids.article_id(text=nfc) == ids.article_id(text=nfd)
    assert ids.article_id(text="a") != ids.article_id(text="b")
    assert len(ids.article_id(text="a")) == 16


def test_statement_id_depends_on_article_span_and_words() -> None:
    base = ids.statement_id("a1", 10, 20, "the words")
    assert base == ids.statement_id("a1", 10, 20, "the words")
    others = {
        ids.statement_id("a1", 10, 21, "the words"),
        ids.statement_id("a2", 10, 20, "the words"),
        # the same article id and span with other words: a reused id, another statement
        ids.statement_id("a1", 10, 20, "new words"),
    }
    assert base not in others and len(others) == 3
    # the separator keeps ("a1", 1, 10) and ("a11", 0, 10)-like collisions apart
    assert ids.statement_id("a", 11, 2, "x") != ids.statement_id("a1", 1, 2, "x")


def test_text_digest_tells_texts_apart_exactly() -> None:
    assert ids.text_digest("Ana said yes.") == ids.text_digest("Ana said yes.")
    assert ids.text_digest("Ana said yes.") != ids.text_digest("Ana said no.")
    # no normalisation: the offsets of statements refer to the exact text
    assert ids.text_digest("Erdo\u011fan") != ids.text_digest("Erdog\u0306an")


@pytest.mark.parametrize(
    ("kind", "name", "expected"),
    [
        ("person", "Volodymyr Zelensky", "person:volodymyr-zelensky"),
        ("person", "Recep Tayyip Erdoğan", "person:recep-tayyip-erdogan"),
        ("org", "Turkish presidential palace", "org:turkish-presidential-palace"),
        ("person", "Abbas  Araghçi", "person:abbas-araghci"),
    ],
)
def test_speaker_id(kind: str, name: str, expected: str) -> None:
    assert ids.speaker_id(kind, name) == expected


def test_slug_of_a_name_without_latin_letters_is_not_empty() -> None:
    assert ids.slug("普京") != ""
    assert ids.slug("普京") == ids.slug("普京")

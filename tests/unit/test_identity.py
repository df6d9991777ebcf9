"""Late merges: what the registry learns later makes two ids one speaker, whatever the order
the articles came in."""

from __future__ import annotations

import itertools

import pytest

from streams.ids import speaker_id, statement_id
from streams.nlp.registry import SpeakerRegistry
from streams.records import EnrichedArticle, Speaker, SpeakerType, Statement, utcnow


def _statement(article: str, name: str, kind: SpeakerType = "person") -> Statement:
    speaker = Speaker(
        id=speaker_id(kind, name), name=name, type=kind, mention=name, start=0, end=len(name)
    )
    return Statement(
        statement_id=statement_id(article, 0, 5, "something"),
        article_id=article,
        speaker=speaker,
        cue="said",
        content="something",
        start=0,
        end=5,
        kind="indirect",
    )


def _article(article: str, name: str, kind: SpeakerType = "person") -> EnrichedArticle:
    return EnrichedArticle(
        article_id=article,
        fetched_at=utcnow(),
        model="m",
        statements=(_statement(article, name, kind),),
    )


CORPUS = [
    ("a1", "Recep Tayyip Erdoğan", "person"),
    ("a2", "Erdogan", "person"),
    ("a3", "Erdogan", "place"),
    ("a4", "Volodymyr Zelensky", "person"),
    ("a5", "Volodymyr Zelenskyy", "person"),
    ("a6", "Zelenskiy", "unknown"),
    ("a7", "Abbas Araghchi", "person"),
    ("a8", "Kremlin", "org"),
]


def _run(order: list[tuple[str, str, str]]) -> tuple[dict[str, str], set[tuple[str, str]]]:
    """Each article through the registry as the enrich agent does; returns which id each
    statement ends up counted under (published id, merges followed) and the merges."""
    registry = SpeakerRegistry()
    published: dict[str, str] = {}
    merges: dict[str, str] = {}
    for article, name, kind in order:
        result, _ = registry.apply(_article(article, name, kind))  # type: ignore[arg-type]
        result = registry.goes_by(result)
        published[article] = result.statements[0].speaker.id
        for merge in registry.take_merges():
            merges[merge.id] = merge.into

    def follow(ident: str) -> str:
        seen = set()
        while ident in merges and ident not in seen:
            seen.add(ident)
            ident = merges[ident]
        return ident

    return {a: follow(p) for a, p in published.items()}, set(merges.items())


@pytest.mark.parametrize("seed", range(6))
def test_every_order_ends_with_the_same_speakers(seed: int) -> None:
    orders = list(itertools.permutations(CORPUS))
    order = list(orders[(seed * 7919) % len(orders)])
    expected, _ = _run(CORPUS)
    assert _run(order)[0] == expected
    assert expected == {
        "a1": "person:recep-tayyip-erdogan",
        "a2": "person:recep-tayyip-erdogan",
        "a3": "person:recep-tayyip-erdogan",
        "a4": "person:volodymyr-zelensky",
        "a5": "person:volodymyr-zelensky",
        "a6": "person:volodymyr-zelensky",
        "a7": "person:abbas-araghchi",
        "a8": "org:kremlin",
    }


def test_a_bare_surname_published_first_is_merged_once_the_person_is_known() -> None:
    ends, merges = _run([CORPUS[1], CORPUS[2], CORPUS[0]])
    assert ("person:erdogan", "person:recep-tayyip-erdogan") in merges
    assert ("place:erdogan", "person:recep-tayyip-erdogan") in merges
    assert set(ends.values()) == {"person:recep-tayyip-erdogan"}


def test_the_smallest_spelling_is_the_id_whichever_came_first() -> None:
    _, merges = _run([CORPUS[4], CORPUS[3]])
    assert merges == {("person:volodymyr-zelenskyy", "person:volodymyr-zelensky")}
    assert _run([CORPUS[3], CORPUS[4]])[1] == set()


def test_two_entries_for_one_person_from_two_workers_merge_into_the_smaller() -> None:
    from streams.records import KnownSpeaker

    registry = SpeakerRegistry()
    registry.put(
        KnownSpeaker(id="person:volodymyr-zelenskyy", name="Volodymyr Zelenskyy", type="person")
    )
    registry.put(
        KnownSpeaker(id="person:volodymyr-zelensky", name="Volodymyr Zelensky", type="person")
    )
    (merge,) = registry.take_merges()
    assert (merge.id, merge.into, merge.reason) == (
        "person:volodymyr-zelenskyy",
        "person:volodymyr-zelensky",
        "same-person",
    )
    found = registry.match("Zelensky", "person")
    assert found is not None  # one entry left to match: not ambiguous


def test_namesakes_are_not_merged() -> None:
    ends, merges = _run([("b1", "Hillary Clinton", "person"), ("b2", "Bill Clinton", "person")])
    assert merges == set()
    assert len(set(ends.values())) == 2

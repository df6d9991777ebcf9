"""Speakers across articles: variants meet, namesakes stay apart."""

import pytest

from streams.ids import speaker_id
from streams.nlp.registry import SpeakerRegistry
from streams.records import Speaker, SpeakerType


def _speaker(name: str, kind: SpeakerType = "person") -> Speaker:
    return Speaker(id=speaker_id(kind, name), name=name, type=kind, mention=name, start=0, end=1)


def _registry(*names: str) -> SpeakerRegistry:
    registry = SpeakerRegistry()
    for name in names:
        registry.learn(registry.resolve(_speaker(name)))
    return registry


@pytest.mark.parametrize(
    ("known", "seen", "expected"),
    [
        ("Abbas Araghchi", "Abbas Araghçi", "Abbas Araghchi"),
        ("Abbas Araghchi", "Araguchi", "Abbas Araghchi"),
        ("Abbas Araghchi", "Araghçi", "Abbas Araghchi"),
        ("Recep Tayyip Erdoğan", "Erdogan", "Recep Tayyip Erdoğan"),
        ("Volodymyr Zelensky", "Volodymyr Zelenskyy", "Volodymyr Zelensky"),
        ("Volodymyr Zelensky", "Zelenskiy", "Volodymyr Zelensky"),
        ("Xi Jinping", "Xi", "Xi Jinping"),
        ("Barack Obama", "Mr. Obama", "Barack Obama"),
        # given names transliterated differently, with and without diacritics
        ("Mohammed Yusuf Bello", "Muhammad Yusuf Bello", "Mohammed Yusuf Bello"),
        ("Dmitry Orlov", "Dmitri Orlov", "Dmitry Orlov"),
        ("Yevgeny Sokolov", "Evgeny Sokolov", "Yevgeny Sokolov"),
        ("Søren Holm", "Soren Holm", "Søren Holm"),
        ("Aleksandr Petrov", "Alexander Petrov", "Aleksandr Petrov"),
        # name particles written or dropped, joined or not
        ("Hasan al-Masri", "Hassan el-Masri", "Hasan al-Masri"),
        ("Hasan al-Masri", "Al-Masri", "Hasan al-Masri"),
        ("Maria Dela Paz", "Dela Paz", "Maria Dela Paz"),
    ],
)
def test_variants_resolve_to_the_known_speaker(known: str, seen: str, expected: str) -> None:
    registry = _registry(known)
    resolved = registry.resolve(_speaker(seen))
    assert resolved.name == expected
    assert resolved.id == speaker_id("person", expected)


@pytest.mark.parametrize(
    ("known", "seen"),
    [
        (("Volodymyr Zelensky",), "Olena Zelenska"),  # same surname stem, other first name
        (("Hillary Clinton",), "Bill Clinton"),
        (("Hillary Clinton", "Bill Clinton"), "Clinton"),  # a bare surname, ambiguous
        (("Donald Trump",), "Melania Trump"),
        (("Daniel Moreau",), "Danielle Moreau"),  # one skeleton, but a man's and a woman's name
        (("Grace Adebayo",), "Emeka Adebayo"),
    ],
)
def test_namesakes_stay_apart(known: tuple[str, ...], seen: str) -> None:
    registry = _registry(*known)
    resolved = registry.resolve(_speaker(seen))
    assert resolved.id == speaker_id("person", seen)


def test_exact_surname_wins_over_a_phonetic_one() -> None:
    registry = _registry("Volodymyr Zelensky", "Olena Zelenska")
    assert registry.resolve(_speaker("Zelenska")).name == "Olena Zelenska"
    assert registry.resolve(_speaker("Zelensky")).name == "Volodymyr Zelensky"


def test_organisations_match_by_folded_name() -> None:
    registry = SpeakerRegistry()
    registry.learn(_speaker("Kremlin", "org"))
    assert registry.resolve(_speaker("kremlin", "org")).id == "org:kremlin"
    assert registry.resolve(_speaker("Kremlin", "person")).id == "person:kremlin"


def test_learn_reports_only_changes_and_keeps_aliases() -> None:
    registry = SpeakerRegistry()
    first = registry.learn(_speaker("Abbas Araghchi"))
    assert first is not None
    variant = registry.resolve(_speaker("Abbas Araghçi"))
    changed = registry.learn(variant)
    assert changed is not None and "Abbas Araghçi" in changed.aliases
    assert registry.learn(variant) is None
    assert registry.learn(_speaker("Araghchi")) is None  # a bare surname is no entry

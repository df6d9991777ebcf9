"""The cue lexicon: every reporting verb in exactly one class."""

from collections import Counter

from streams.nlp.lexicon import _BY_CLASS, REPORTING_VERBS, verb_class


def test_no_lemma_is_in_two_classes() -> None:
    counts = Counter(lemma for lemmas in _BY_CLASS.values() for lemma in lemmas)
    assert [lemma for lemma, n in counts.items() if n > 1] == []


def test_every_lemma_reaches_its_own_class() -> None:
    for cls, lemmas in _BY_CLASS.items():
        for lemma in lemmas:
            assert REPORTING_VERBS[lemma] == cls


def test_declarations_are_announcements() -> None:
    assert verb_class("declare") == verb_class("proclaim") == "announce"

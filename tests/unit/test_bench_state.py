"""``streams bench --state``: its synthetic statements and its report (the run itself needs
the broker and takes minutes; it is not part of the suite)."""

from __future__ import annotations

import random
from collections import Counter

import numpy as np

from streams.bench_state import (
    Population,
    format_state,
    spelling_variant,
    synthetic_statements,
    zipf_ranks,
)
from streams.codec import loads
from streams.nlp.names import name_words, same_person
from streams.records import Statement


def test_the_population_has_distinct_latin_multilingual_names() -> None:
    population = Population.build(500, seed=1)
    assert len(set(population.ids)) == 500
    assert all(len(name_words(name)) >= 2 for name in population.names)
    assert all(name.isascii() or any(c.isalpha() for c in name) for name in population.names)
    assert not any("\u0400" <= c <= "\u04ff" for name in population.names for c in name)


def test_spelling_variants_differ_and_are_still_the_same_person() -> None:
    rng = random.Random(2)
    population = Population.build(300, seed=2)
    variants = [(name, spelling_variant(name, rng)) for name in population.names]
    assert all(name != variant for name, variant in variants)
    same = sum(same_person(name_words(v), name_words(n)) for n, v in variants)
    assert same >= 0.8 * len(variants)  # most: names.py accepts them as one name


def test_synthetic_statements_are_valid_zipf_drawn_and_some_come_twice() -> None:
    population = Population.build(1000, seed=3)
    records = list(synthetic_statements(population, 5000, seed=3))
    assert len(records) == 5000
    statements = [loads(Statement, value) for _, value, _ in records]
    assert all(
        key == s.speaker.id.encode() for (key, _, _), s in zip(records, statements, strict=True)
    )
    repeats = sum(repeat for _, _, repeat in records)
    assert 10 <= repeats <= 100
    assert len({s.statement_id for s in statements}) == 5000 - repeats
    by_speaker = Counter(s.speaker.id for s in statements).most_common()
    assert by_speaker[0][1] > 50 * by_speaker[len(by_speaker) // 2][1] / 10  # a heavy head
    assert len({s.article_id for s in statements}) < 5000 / 2  # several per article


def test_zipf_ranks_favour_the_first() -> None:
    ranks = zipf_ranks(20000, 1000, np.random.default_rng(0))
    counts = np.bincount(ranks, minlength=1000)
    assert counts[0] > counts[9] > counts[99] and counts[0] > 0.1 * 20000


def test_the_report_prints_every_tenth_and_the_lookups() -> None:
    tenth = {
        "counted": 1,
        "seconds": 1.0,
        "rate": 1000,
        "rss_mib": 100.0,
        "speakers_seen": 10,
        "changelog_bytes_per_update": 900,
    }
    report = {
        "state": {
            "statements": 10,
            "speakers": 5,
            "redelivered": 0,
            "seconds": 10.0,
            "rate_ratio_last_to_first": 1.0,
            "changelog_bytes_per_update_first_tenth": 900,
            "changelog_bytes_per_update_last_tenth": 900,
            "peak_rss_mib": 120.0,
            "registry_lookup_ms": {"1000": 0.01, "10000": 0.02},
            "registry_first_lookup_ms": {"1000": 0.02, "10000": 0.03},
            "tenths": [tenth] * 10,
        }
    }
    text = format_state(report)
    assert text.count("1,000") >= 10 and "10,000 known: 0.0200 / 0.0300" in text

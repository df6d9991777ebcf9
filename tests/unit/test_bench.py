"""The benchmark's bookkeeping, without Kafka."""

import math

import pytest

from streams.bench import build_corpus, corpus_texts, percentile, statement_latencies
from tests.conftest import ROOT


def test_percentiles_interpolate() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == pytest.approx(50.5)
    assert percentile(values, 99) == pytest.approx(99.01)
    assert percentile([3.0], 95) == 3.0
    assert math.isnan(percentile([], 50))


def test_corpus_has_distinct_ids_over_the_projects_texts() -> None:
    texts = corpus_texts(ROOT)
    assert len(texts) >= 10
    corpus = build_corpus(texts, 50, "b")
    assert len({a.article_id for a in corpus}) == 50
    assert {a.text for a in corpus} <= set(texts)


def test_latency_runs_from_the_article_produce_to_the_counting_table_update() -> None:
    raw = [{"key": "a1", "timestamp": 1_000}, {"key": "a2", "timestamp": 2_000}]
    enriched = [
        {"value": {"article_id": "a1", "statements": [{"statement_id": "s1"}]}},
        {
            "value": {
                "article_id": "a2",
                "statements": [{"statement_id": "s2"}, {"statement_id": "s3"}],
            }
        },
    ]

    def state(*recent: str) -> dict[str, object]:
        return {"summary": {"recent": [{"statement_id": s} for s in recent]}}

    changelog = [
        {"timestamp": 1_400, "value": state("s1")},
        {"timestamp": 2_300, "value": state("s2", "s1")},
        {"timestamp": 2_900, "value": state("s3", "s2", "s1")},
        {"timestamp": 9_000, "value": state("s3", "s2", "s1")},  # a re-write
    ]
    assert sorted(statement_latencies(raw, enriched, changelog)) == [0.3, 0.4, 0.9]


def test_cpu_seconds_count_this_process_work() -> None:
    import os
    import time

    from streams.bench import _cpu_seconds, cpu_sample

    before = _cpu_seconds(os.getpid())
    deadline = time.process_time() + 0.3
    while time.process_time() < deadline:  # burn CPU
        pass
    assert _cpu_seconds(os.getpid()) - before >= 0.2
    assert _cpu_seconds(2**22 + 12345) == 0.0  # no such process
    sample = cpu_sample([os.getpid()], None)
    assert sample["worker"] >= 0.3 and sample["broker"] == 0.0 and sample["nlp"] >= 0.0


def test_report_shows_every_run_the_drift_and_the_cpu() -> None:
    from streams.bench import format_report

    report = {
        "articles": 10,
        "words": 1000,
        "cores": 2,
        "bare_pipe": {"seconds": 1.0, "words_per_s": 1000, "articles_per_s": 10.0},
        "extract": {
            "seconds": 0.8,
            "words_per_s": 1250,
            "articles_per_s": 12.5,
            "ratio_to_bare": 1.25,
        },
        "end_to_end": {
            "1": {
                "workers": 1,
                "seconds": 2.0,
                "words_per_s": 500,
                "articles_per_s": 5.0,
                "ratio_to_bare": 0.5,
                "latency_rate_articles_per_s": 2.5,
                "latency_p50_s": 0.1,
                "latency_p95_s": 0.2,
                "latency_p99_s": 0.3,
                "peak_rss_mib": 300.0,
                "cpu_seconds": {"worker": 0.5, "nlp": 1.8, "nlp_waiting": 0.1, "broker": 0.2},
                "quotation_seconds": 0.05,
                "quotation_share": 0.025,
                "quotation_cpu_seconds": 0.03,
                "quotation_cpu_share": 0.015,
            }
        },
        "bare_pipe_after": {"seconds": 1.25, "words_per_s": 800},
        "warmup": {"articles": 5, "seconds": 3.0, "cpu_seconds": {"broker": 2.5}},
    }
    text = format_report(report)
    assert "(b) extract (no Kafka)" in text and "1.25" in text
    assert "(c) Kafka, 1 worker(s)" in text and "0.50" in text
    assert "(a) again, after (c)" in text and "0.80" in text  # 20 % slower by the end
    assert "p99 0.3 s" in text
    assert (
        "quotation step, 1 worker(s): 0.05 s of 2.0 s, 2.50 % of the run; CPU 0.03 s, 1.50 %"
        in text
    )
    assert "nlp 1.8, nlp_waiting 0.1, broker 0.2" in text
    assert "warm-up pass (not in the table), 5 articles, 3.0 s: broker 2.5" in text


def test_scaling_efficiency_is_throughput_over_k_times_one_worker() -> None:
    from streams.bench import scaling

    runs = {
        "1": {"articles_per_s": 40.0},
        "2": {"articles_per_s": 72.0},
        "8": {"articles_per_s": 256.0},
    }
    assert scaling(runs) == {"2": 0.9, "8": 0.8}
    assert scaling({"2": {"articles_per_s": 72.0}}) == {}

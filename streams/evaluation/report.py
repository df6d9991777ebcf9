"""``streams eval``: both evaluations, the extraction's cost beside bare spaCy, a table."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from streams.evaluation import annotated, polnear
from streams.nlp.enrich import Enricher
from streams.records import Article, EnrichedArticle


def run(
    enricher: Enricher,
    annotated_dir: Path | None,
    polnear_dir: Path | None,
    *,
    root: Path = Path("."),
    limit: int | None = None,
    measure_cost: bool = True,
) -> dict[str, Any]:
    """Scores of every evaluation whose data is present; with ``measure_cost``, also the
    extraction's time beside bare ``nlp.pipe`` on the PolNeAR texts (best of two runs)."""
    report: dict[str, Any] = {"model": enricher.model}
    if annotated_dir is not None and annotated_dir.is_dir():
        report["annotated"] = annotated.evaluate(enricher, annotated.load(annotated_dir, root))
    if polnear_dir is not None and (polnear_dir / "attributions").is_dir():
        articles = polnear.load(polnear_dir, limit)
        texts = [a.text for a in articles]
        inputs = [Article(article_id=a.name, text=a.text) for a in articles]
        bare = full = None
        if measure_cost:
            bare_runs, full_runs = [], []
            for _ in range(2):
                bare_runs.append(
                    _seconds(lambda: list(enricher.nlp.pipe(texts, batch_size=enricher.batch_size)))
                )
                full_runs.append(_seconds(lambda: enricher.enrich(inputs)))
            bare, full = min(bare_runs), min(full_runs)
        results = enricher.enrich(inputs)
        scores = polnear.Scores()
        for gold, result in zip(articles, results, strict=True):
            if isinstance(result, EnrichedArticle):
                polnear.score_article(gold, result, scores)
        words = sum(len(t.split()) for t in texts)
        report["polnear"] = {
            **scores.as_dict(),
            "words": words,
            "bare_pipe_seconds": round(bare, 2) if bare else None,
            "enrich_seconds": round(full, 2) if full else None,
            "extraction_overhead": round(full / bare - 1, 4) if bare and full else None,
        }
    return report


def _seconds(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


_ROWS = {
    "annotated": [
        ("statement precision", "statement_precision"),
        ("statement recall", "statement_recall"),
        ("statement F1", "statement_f1"),
        ("speaker accuracy", "speaker_accuracy"),
        ("canonical-name rate", "canonical_name_rate"),
        ("speaker splits", "speaker_splits"),
        ("speaker merges", "speaker_merges"),
        ("stance accuracy", "stance_accuracy"),
    ],
    "polnear": [
        ("content token precision", "content_token_precision"),
        ("content token recall", "content_token_recall"),
        ("content token F1", "content_token_f1"),
        ("span F1", "span_f1"),
        ("source accuracy", "source_accuracy"),
        ("extraction cost over bare nlp.pipe", "extraction_overhead"),
    ],
}
_TITLES = {
    "annotated": "Project annotated set (tests/annotated)",
    "polnear": "PolNeAR dev (metrics as in BBC Citron)",
}


def format_report(report: dict[str, Any]) -> str:
    """The report as a plain-text table."""
    lines = [f"model: {report['model']}"]
    for section, rows in _ROWS.items():
        data = report.get(section)
        lines.append("")
        if data is None:
            lines.append(f"{_TITLES[section]}: data not found, skipped")
            continue
        count = data.get("gold_statements", data.get("gold_attributions"))
        lines.append(f"{_TITLES[section]}: {data['articles']} articles, {count} gold items")
        for label, key in rows:
            value = data.get(key)
            shown = f"{value:.3f}" if isinstance(value, float) else str(value)
            if key == "extraction_overhead" and isinstance(value, float):
                shown = f"{value:+.1%}"
            lines.append(f"  {label:<36} {shown:>8}")
    return "\n".join(lines)

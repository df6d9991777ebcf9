"""``streams eval``: every evaluation set side by side, with the extraction's cost beside bare
spaCy.

The sets: the project's own annotated set (``annotated``), ``newsdev`` (30 articles annotated
independently to ``ANNOTATION.md``: the measure of how the rules generalise) and PolNeAR dev
(``polnear``, metrics as in BBC Citron). The first two share a format and a scorer
(:mod:`.annotated`); PolNeAR has its own (:mod:`.polnear`). A set whose data is absent is
reported as skipped.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from streams.checkout import ANNOTATED, SHARED_DATA
from streams.errors import ConfigError
from streams.evaluation import annotated, polnear
from streams.nlp.enrich import Enricher
from streams.records import Article, EnrichedArticle

SetKind = Literal["annotated", "polnear"]


@dataclass(frozen=True, slots=True)
class EvalSet:
    """One evaluation set: its name in the report, its format, and where it lies."""

    name: str
    kind: SetKind
    path: Path

    def present(self) -> bool:
        if self.kind == "polnear":
            return (self.path / "attributions").is_dir()
        return self.path.is_dir() and any(self.path.glob("*.json"))


def default_sets() -> list[EvalSet]:
    """The three sets where a checkout of the project keeps them, wherever the command runs
    from: the annotated set in the checkout, newsdev and PolNeAR dev in ``shared/`` beside it
    (:mod:`streams.checkout`)."""
    return [
        EvalSet("annotated", "annotated", ANNOTATED),
        EvalSet("newsdev", "annotated", SHARED_DATA / "newsdev"),
        EvalSet("polnear", "polnear", SHARED_DATA / "polnear-dev"),
    ]


def choose_sets(given: dict[str, Path | None], only: tuple[str, ...]) -> list[EvalSet]:
    """The sets to score: the defaults, each replaced by the path ``given`` for it, kept to
    ``only`` when named. :class:`ConfigError` for a given path without the set's data, for a
    set named in ``only`` whose data is absent, or when no set's data is present at all."""
    sets = []
    for entry in default_sets():
        path = given.get(entry.name)
        if path is not None:
            entry = EvalSet(entry.name, entry.kind, path)
            if not entry.present():
                raise ConfigError(f"no {entry.name} data in {path}: check the path")
        if not only or entry.name in only:
            if entry.name in only and not entry.present():
                raise ConfigError(
                    f"no {entry.name} data in {entry.path}: give its folder with "
                    f"--{entry.name} PATH"
                )
            sets.append(entry)
    if not any(entry.present() for entry in sets):
        raise ConfigError(
            "no evaluation data found (looked in "
            + ", ".join(str(entry.path) for entry in sets)
            + "): run from a checkout of the project or give --annotated, --newsdev or --polnear"
        )
    return sets


_TITLES = {
    "annotated": "project's set",
    "newsdev": "newsdev",
    "polnear": "PolNeAR dev",
}


def run(
    enricher: Enricher,
    sets: list[EvalSet],
    *,
    root: Path | None = None,
    limit: int | None = None,
    measure_cost: bool = True,
) -> dict[str, Any]:
    """Scores of every set whose data is present; with ``measure_cost``, also the extraction's
    time (everything after the parse) as a share of bare ``nlp.pipe``'s on the PolNeAR texts
    (best of two runs each)."""
    report: dict[str, Any] = {"model": enricher.model}
    for entry in sets:
        if not entry.present():
            continue
        if entry.kind == "annotated":
            report[entry.name] = annotated.evaluate(enricher, annotated.load(entry.path, root))
        else:
            report[entry.name] = _polnear(enricher, entry.path, limit, measure_cost)
    report["skipped"] = [entry.name for entry in sets if entry.name not in report]
    return report


def _polnear(
    enricher: Enricher, directory: Path, limit: int | None, measure_cost: bool
) -> dict[str, Any]:
    articles = polnear.load(directory, limit)
    texts = [a.text for a in articles]
    inputs = [Article(article_id=a.name, text=a.text) for a in articles]
    bare = extraction = None
    if measure_cost:
        # the parse and the extraction timed apart, over the same docs: the extraction's
        # share does not drown in the parse's run-to-run noise (best of two runs each)
        bare_runs, extraction_runs = [], []
        for _ in range(2):
            started = time.perf_counter()
            docs = list(enricher.nlp.pipe(texts, batch_size=enricher.batch_size))
            parsed = time.perf_counter()
            for article, doc in zip(inputs, docs, strict=True):
                enricher.enrich_doc(article, doc)
            bare_runs.append(parsed - started)
            extraction_runs.append(time.perf_counter() - parsed)
        bare, extraction = min(bare_runs), min(extraction_runs)
    results = enricher.enrich(inputs)
    scores = polnear.Scores()
    for gold, result in zip(articles, results, strict=True):
        if isinstance(result, EnrichedArticle):
            polnear.score_article(gold, result, scores)
    return {
        **scores.as_dict(),
        "words": sum(len(t.split()) for t in texts),
        "bare_pipe_seconds": round(bare, 2) if bare else None,
        "extraction_seconds": round(extraction, 2) if extraction else None,
        "extraction_overhead": round(extraction / bare, 4) if bare and extraction else None,
    }


# (row label, key in an annotated-format set, key in PolNeAR's): one measure per row, the
# same rule on every set where both have it
_ROWS: list[tuple[str, str | None, str | None]] = [
    ("articles", "articles", "articles"),
    ("gold statements", "gold_statements", "gold_attributions"),
    ("predicted statements", "predicted_statements", "predicted_statements"),
    ("statement precision", "statement_precision", "span_precision"),
    ("statement recall", "statement_recall", "span_recall"),
    ("statement F1", "statement_f1", "span_f1"),
    ("content token precision", "content_token_precision", "content_token_precision"),
    ("content token recall", "content_token_recall", "content_token_recall"),
    ("content token F1", "content_token_f1", "content_token_f1"),
    ("speaker (source) accuracy", "speaker_accuracy", "source_accuracy"),
    ("canonical-name rate", "canonical_name_rate", None),
    ("speaker splits", "speaker_splits", None),
    ("speaker merges", "speaker_merges", None),
    ("stance targets (matched statements)", "stance_targets", None),
    ("stance accuracy (matched statements)", "stance_accuracy", None),
    ("stance targets (all)", "stance_targets_all", None),
    ("stance accuracy (all)", "stance_accuracy_all", None),
    ("extraction time / bare nlp.pipe", None, "extraction_overhead"),
]


def _cell(data: dict[str, Any], key: str | None) -> str:
    value = data.get(key) if key else None
    if value is None:
        return "-"
    if key == "extraction_overhead":
        return f"{value:.1%}"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def format_report(report: dict[str, Any], sets: list[EvalSet]) -> str:
    """The report as a plain-text table, one column per set."""
    shown = [s for s in sets if s.name in report]
    lines = [f"model: {report['model']}"]
    if shown:
        header = "".join(f"{_TITLES.get(s.name, s.name):>15}" for s in shown)
        lines.append(f"\n{'':<36}{header}")
        for label, annotated_key, polnear_key in _ROWS:
            cells = [
                _cell(report[s.name], annotated_key if s.kind == "annotated" else polnear_key)
                for s in shown
            ]
            if any(c != "-" for c in cells):
                lines.append(f"{label:<36}" + "".join(f"{c:>15}" for c in cells))
    lines += [
        f"\n{_TITLES.get(s.name, s.name)} ({s.path}): data not found, skipped"
        for s in sets
        if s.name not in report
    ]
    return "\n".join(lines)


def format_problems(report: dict[str, Any], sets: list[EvalSet]) -> str:
    """Every set's misses, under a heading per set."""
    lines: list[str] = []
    for s in sets:
        problems = report.get(s.name, {}).get("problems")
        if problems is None:
            continue
        lines.append(f"\n{_TITLES.get(s.name, s.name)}: {len(problems)} problems")
        lines += [f"  - {problem}" for problem in problems]
    return "\n".join(lines)

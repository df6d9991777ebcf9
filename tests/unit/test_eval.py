"""`streams eval` holds the measured level: a regression in extraction fails the suite.

Floors sit just under the figures measured when they were set (README, "Evaluation"); raise
them when the extraction improves.
"""

from pathlib import Path
from typing import Any

import pytest

from streams.evaluation.report import EvalSet, format_problems, format_report, run
from streams.nlp.enrich import Enricher
from tests.conftest import ROOT

SHARED = ROOT.parent / "shared" / "data"
SETS = [
    EvalSet("annotated", "annotated", ROOT / "tests" / "annotated"),
    EvalSet("newsdev", "annotated", SHARED / "newsdev"),
    EvalSet("polnear", "polnear", SHARED / "polnear-dev"),
]

ANNOTATED_FLOORS = {
    "statement_f1": 0.98,
    "speaker_accuracy": 0.98,
    "canonical_name_rate": 0.97,
    "stance_accuracy": 0.90,
}
NEWSDEV_FLOORS = {
    "statement_f1": 0.96,
    "speaker_accuracy": 0.95,
    "canonical_name_rate": 0.95,
    "stance_accuracy": 0.75,
}
POLNEAR_FLOORS = {
    "content_token_f1": 0.775,
    "content_token_precision": 0.93,
    "span_f1": 0.58,
    "source_accuracy": 0.925,
}


@pytest.fixture(scope="module")
def report(nlp: Any) -> dict[str, Any]:
    return run(Enricher(nlp), SETS, root=ROOT, measure_cost=False)


@pytest.mark.parametrize(("metric", "floor"), sorted(ANNOTATED_FLOORS.items()))
def test_annotated_set_holds_its_level(report: dict[str, Any], metric: str, floor: float) -> None:
    assert report["annotated"][metric] >= floor, report["annotated"]["problems"]


def test_annotated_set_merges_no_speakers(report: dict[str, Any]) -> None:
    assert report["annotated"]["speaker_merges"] == 0
    assert report["annotated"]["speaker_splits"] == 0


@pytest.mark.skipif(not SETS[1].present(), reason="newsdev not present")
def test_newsdev_splits_and_merges_few_speakers(report: dict[str, Any]) -> None:
    assert report["newsdev"]["speaker_splits"] <= 2
    assert report["newsdev"]["speaker_merges"] == 0


def test_annotated_set_covers_enough_articles(report: dict[str, Any]) -> None:
    assert report["annotated"]["articles"] >= 16
    assert report["annotated"]["stance_targets"] >= 20


@pytest.mark.skipif(not SETS[1].present(), reason="newsdev not present")
@pytest.mark.parametrize(("metric", "floor"), sorted(NEWSDEV_FLOORS.items()))
def test_newsdev_holds_its_level(report: dict[str, Any], metric: str, floor: float) -> None:
    assert report["newsdev"][metric] >= floor, report["newsdev"]["problems"]


@pytest.mark.skipif(not SETS[2].present(), reason="PolNeAR dev split not present")
@pytest.mark.parametrize(("metric", "floor"), sorted(POLNEAR_FLOORS.items()))
def test_polnear_holds_its_level(report: dict[str, Any], metric: str, floor: float) -> None:
    assert report["polnear"][metric] >= floor


def test_the_report_prints_the_sets_side_by_side(report: dict[str, Any]) -> None:
    text = format_report(report, SETS)
    header = next(line for line in text.splitlines() if "project's set" in line)
    present = [s for s in SETS if s.present()]
    assert len(header.split()) >= len(present) + 1
    assert "statement F1" in text and "speaker merges" in text


def test_problems_are_listed_per_set(report: dict[str, Any]) -> None:
    headings = [line for line in format_problems(report, SETS).splitlines() if line[:1].isalpha()]
    assert len(headings) == sum(1 for s in SETS if s.present())
    assert all(line.endswith(" problems") for line in headings)


def test_a_missing_data_set_is_skipped_not_fatal(nlp: Any, tmp_path: Path) -> None:
    missing = [
        EvalSet("annotated", "annotated", tmp_path / "none"),
        EvalSet("polnear", "polnear", tmp_path / "none"),
    ]
    result = run(Enricher(nlp), missing, measure_cost=False)
    assert "annotated" not in result and "polnear" not in result
    assert result["skipped"] == ["annotated", "polnear"]
    assert "skipped" in format_report(result, missing)

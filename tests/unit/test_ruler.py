"""The indexed attribute ruler gives every token what spaCy's own ruler gives it."""

from __future__ import annotations

import json
from typing import Any

import pytest
import spacy

from streams.nlp.ruler import IndexedRuleMatch
from tests.conftest import ROOT, SEED

# words the model's multi-token, regular-expression and dependency rules are about
EDGE_CASES = (
    "Y'all ain't gonna believe it, he said. There is nothin' they can do. Let's go, c'mon.\n\n"
    "I told you that it was them. Whether or not she'd come, we've got ta win. It is not "
    "something anyone wanted; those who did have left. Did he? He did, and he has."
)


@pytest.fixture(scope="module")
def stock(nlp: Any) -> Any:
    """The same model as loaded by spaCy, untouched (the project's paragraph rule added)."""
    from streams.nlp.pipeline import PARAGRAPHS

    model = nlp.meta["lang"] + "_" + nlp.meta["name"]
    pipeline = spacy.load(model)
    pipeline.add_pipe(PARAGRAPHS, before="parser")
    assert not isinstance(pipeline.get_pipe("attribute_ruler").match, IndexedRuleMatch)
    return pipeline


def texts() -> list[str]:
    out = [SEED.read_text(encoding="utf-8"), EDGE_CASES]
    for path in sorted((ROOT / "tests" / "annotated").glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if "text" in data:
            out.append(data["text"])
    return out


def test_the_project_pipeline_uses_the_indexed_match(nlp: Any) -> None:
    match = nlp.get_pipe("attribute_ruler").match
    assert isinstance(match, IndexedRuleMatch)
    assert (
        match.indexed_patterns > 150
    )  # nearly all of the model's rules are looked up, not scanned


def test_same_matches_in_the_same_order(nlp: Any, stock: Any) -> None:
    indexed = IndexedRuleMatch(stock.get_pipe("attribute_ruler"))
    ruler = stock.get_pipe("attribute_ruler")
    with stock.select_pipes(disable=["attribute_ruler", "lemmatizer", "ner"]):
        docs = list(stock.pipe(texts()))
    total = 0
    for doc in docs:
        expected = ruler.match(doc)
        assert indexed(doc) == expected
        total += len(expected)
    assert total > 2_000


def test_same_tokens_through_the_whole_pipeline(nlp: Any, stock: Any) -> None:
    def annotations(doc: Any) -> list[tuple[str, ...]]:
        return [(t.text, t.pos_, str(t.morph), t.lemma_, t.dep_, t.ent_type_) for t in doc]

    for ours, theirs in zip(nlp.pipe(texts()), stock.pipe(texts()), strict=True):
        assert annotations(ours) == annotations(theirs)


def test_edge_cases_reach_the_rules_left_to_the_matcher(nlp: Any) -> None:
    doc = nlp(EDGE_CASES)
    lemmas = {t.lower_: t.lemma_ for t in doc}
    assert lemmas["nothin'"] == "nothing"  # a regular-expression rule
    assert lemmas["ai"] == "be"  # a two-token rule ("ai" + "n't")


def test_rules_added_later_are_matched_too(nlp: Any) -> None:
    pipeline = spacy.load(nlp.meta["lang"] + "_" + nlp.meta["name"])  # a copy of our own
    ruler = pipeline.get_pipe("attribute_ruler")
    indexed = IndexedRuleMatch(ruler)
    doc = pipeline.make_doc("The zorblat spoke.")
    for token in doc:
        token.tag_ = "NN"
    ruler.add([[{"LOWER": "zorblat"}]], {"LEMMA": "zorb"})
    new_rule = len(ruler.attrs) - 1
    assert (new_rule, 1, 2) in {(number, start, end) for number, _, start, end in indexed(doc)}
    assert indexed(doc) == ruler.match(doc)

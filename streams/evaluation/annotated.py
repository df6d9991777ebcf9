"""The project's own annotated set (``tests/annotated``) and its scores.

Every article is enriched in order with one shared speaker registry, as ``streams extract``
does, so that cross-article identity is measured too:

- **statements**: precision, recall and F1; a predicted statement matches a gold one (one to
  one, greedily) when their word tokens overlap by at least half of the larger;
- **speaker accuracy**: matched statements whose speaker is the gold person or body (the
  canonical names agree, or the gold name's last word is in the predicted one);
- **canonical-name rate**: matched statements whose speaker name is exactly the gold
  canonical name (accents and case aside);
- **splits / merges**: gold speakers spread over more than one ``speaker_id``, and
  ``speaker_id`` values shared by more than one gold speaker, over the whole set;
- **stance accuracy**: gold (statement, target, polarity) triples whose matched statement
  has a stance on that target with that polarity (a target not reported counts as neutral).
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from streams.evaluation.matching import match
from streams.nlp.enrich import Enricher
from streams.nlp.names import name_words
from streams.nlp.registry import SpeakerRegistry
from streams.records import Article, EnrichedArticle, Statement


@dataclass(frozen=True, slots=True)
class GoldStatement:
    speaker: str
    start: int
    end: int
    stance: dict[str, str]


@dataclass
class AnnotatedArticle:
    name: str
    text: str
    statements: list[GoldStatement] = field(default_factory=list)


def load(directory: Path, root: Path | None = None) -> list[AnnotatedArticle]:
    """Every ``*.json`` article of ``directory``, in name order."""
    root = root or directory.parent.parent
    articles = []
    for path in sorted(directory.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        text = data.get("text")
        if text is None:
            text = (root / data["text_file"]).read_text(encoding="utf-8")
        gold = []
        for item in data["statements"]:
            start = text.index(item["content"])
            gold.append(
                GoldStatement(
                    item["speaker"],
                    start,
                    start + len(item["content"]),
                    dict(item.get("stance", {})),
                )
            )
        articles.append(AnnotatedArticle(path.stem, text, gold))
    return articles


def _same_name(a: str, b: str) -> bool:
    return name_words(a) == name_words(b)


def _same_speaker(predicted: str, gold: str) -> bool:
    if _same_name(predicted, gold):
        return True
    gold_words, words = name_words(gold), name_words(predicted)
    return bool(gold_words) and gold_words[-1] in words


def _match(
    text: str, gold: list[GoldStatement], predicted: tuple[Statement, ...]
) -> list[tuple[GoldStatement, Statement]]:
    pairs = match(
        text, [((s.start, s.end),) for s in predicted], [((g.start, g.end),) for g in gold]
    )
    return [(gold[g], predicted[p]) for p, g in pairs]


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def evaluate(enricher: Enricher, articles: list[AnnotatedArticle]) -> dict[str, Any]:
    """Scores over ``articles`` (see the module docstring)."""
    registry = SpeakerRegistry()
    predicted_n = gold_n = matched = speaker_ok = canonical = 0
    stance_n = stance_ok = 0
    ids_of_gold: dict[str, set[str]] = defaultdict(set)
    golds_of_id: dict[str, set[str]] = defaultdict(set)
    misses: list[str] = []
    for article in articles:
        result = enricher.enrich([Article(article_id=article.name, text=article.text)])[0]
        if not isinstance(result, EnrichedArticle):
            raise RuntimeError(f"{article.name}: {result}")
        result, _ = registry.apply(result)
        predicted_n += len(result.statements)
        gold_n += len(article.statements)
        pairs = _match(article.text, article.statements, result.statements)
        matched += len(pairs)
        for gold, statement in pairs:
            speaker = statement.speaker
            speaker_ok += _same_speaker(speaker.name, gold.speaker)
            canonical += _same_name(speaker.name, gold.speaker)
            ids_of_gold[gold.speaker].add(speaker.id)
            golds_of_id[speaker.id].add(gold.speaker)
            if not _same_speaker(speaker.name, gold.speaker):
                misses.append(f"{article.name}: speaker {speaker.name!r} for {gold.speaker!r}")
            predicted_stances = {s.target.lower(): s.polarity for s in statement.stances}
            for target, polarity in gold.stance.items():
                stance_n += 1
                got = next(
                    (
                        p
                        for t, p in predicted_stances.items()
                        if target.lower() in t or t in target.lower()
                    ),
                    "neutral",
                )
                stance_ok += got == polarity
        found = {id(g) for g, _ in pairs}
        misses += [
            f"{article.name}: missed {article.text[g.start : g.end][:60]!r}"
            for g in article.statements
            if id(g) not in found
        ]
    precision = matched / predicted_n if predicted_n else 0.0
    recall = matched / gold_n if gold_n else 0.0
    return {
        "articles": len(articles),
        "gold_statements": gold_n,
        "predicted_statements": predicted_n,
        "statement_precision": round(precision, 4),
        "statement_recall": round(recall, 4),
        "statement_f1": round(_f1(precision, recall), 4),
        "speaker_accuracy": round(speaker_ok / matched, 4) if matched else 0.0,
        "canonical_name_rate": round(canonical / matched, 4) if matched else 0.0,
        "speaker_splits": sum(len(ids) - 1 for ids in ids_of_gold.values()),
        "speaker_merges": sum(len(golds) - 1 for golds in golds_of_id.values()),
        "stance_targets": stance_n,
        "stance_accuracy": round(stance_ok / stance_n, 4) if stance_n else 0.0,
        "problems": misses,
    }

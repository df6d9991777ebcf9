"""The model's attribute ruler, matched through an index: the same result, a fifth of the time.

spaCy's ``attribute_ruler`` maps tags to coarse parts of speech and morphology, with
exceptions by word and dependency (en_core_web_sm ships 179 rules). Its ``Matcher`` tries
every rule at every token, and on this project's corpus that was 14 % of the whole pipeline's
time — as much as the dependency parser. Almost every rule is about one token and compares
its tag, lower-case form, dependency label or "is space" with a value or a set of values;
:class:`IndexedRuleMatch` looks those rules up by the token's lower-case form and tag, and
leaves the rest (several tokens, regular expressions, operators) to a ``Matcher`` of their
own. It returns the matches ``AttributeRuler.match`` would, in the same order, and the ruler
applies them as before, so every token's part of speech, morphology and lemma is what the
model gives (``tests/unit/test_ruler.py`` compares them token by token).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.pipeline import AttributeRuler
    from spacy.tokens import Doc, Token

log = logging.getLogger(__name__)

Match = tuple[int, int, int, int]  # (rule number, match id, start, end), as the ruler sorts them

# token attribute -> how to read it; the Matcher compares the same strings (as hashes)
_READERS: dict[str, Callable[[Token], object]] = {
    "TAG": lambda t: t.tag_,
    "LOWER": lambda t: t.lower_,
    "DEP": lambda t: t.dep_,
    "IS_SPACE": lambda t: t.is_space,
}
_INDEXED = ("LOWER", "TAG")  # looked up by value, in this order of preference


class _Rule:
    """One single-token pattern of rule ``number``: every test must hold."""

    __slots__ = ("match_id", "number", "tests")

    def __init__(self, number: int, match_id: int, spec: Mapping[str, Any]) -> None:
        self.number = number
        self.match_id = match_id
        self.tests: list[tuple[Callable[[Token], object], str, Any]] = []
        for attr, value in spec.items():
            read = _READERS[attr]
            if isinstance(value, dict):
                ((op, values),) = value.items()
                self.tests.append((read, op, frozenset(values)))
            else:
                self.tests.append((read, "==", value))

    def holds(self, token: Token) -> bool:
        for read, op, value in self.tests:
            got = read(token)
            if op == "==":
                if got != value:
                    return False
            elif op == "IN":
                if got not in value:
                    return False
            elif got in value:  # NOT_IN
                return False
        return True


def _simple(pattern: list[dict[str, Any]]) -> bool:
    """A one-token pattern of plain values and IN / NOT_IN sets over attributes we read."""
    if len(pattern) != 1:
        return False
    for attr, value in pattern[0].items():
        if attr not in _READERS:
            return False
        if isinstance(value, dict):
            if len(value) != 1 or next(iter(value)) not in ("IN", "NOT_IN"):
                return False
            if not all(isinstance(v, str) for v in next(iter(value.values()))):
                return False
        elif not isinstance(value, str | bool):
            return False
    return True


class IndexedRuleMatch:
    """A drop-in for ``AttributeRuler.match``: ``ruler.match = IndexedRuleMatch(ruler)``."""

    def __init__(self, ruler: AttributeRuler) -> None:
        self._ruler = ruler
        self._build()

    def _build(self) -> None:
        from spacy.matcher import Matcher

        ruler = self._ruler
        self._size = len(ruler.attrs)
        strings = ruler.vocab.strings
        self._index: dict[str, dict[object, list[_Rule]]] = {a: defaultdict(list) for a in _INDEXED}
        self._always: list[_Rule] = []
        self._rest = Matcher(ruler.vocab, validate=False)
        self.rest_patterns = 0
        self.indexed_patterns = 0
        for number, entry in enumerate(ruler.patterns):
            key = str(number)
            match_id = strings.add(key)
            rest: list[list[dict[str, Any]]] = []
            patterns = cast("list[list[dict[str, Any]]]", entry["patterns"])
            for pattern in patterns:
                if not _simple(pattern):
                    rest.append(pattern)
                    continue
                self.indexed_patterns += 1
                rule = _Rule(number, match_id, pattern[0])
                self._file(rule, pattern[0])
            if rest:
                self._rest.add(key, rest)
                self.rest_patterns += len(rest)

    def _file(self, rule: _Rule, spec: Mapping[str, Any]) -> None:
        for attr in _INDEXED:
            value = spec.get(attr)
            if isinstance(value, str):
                self._index[attr][value].append(rule)
                return
            if isinstance(value, dict) and "IN" in value:
                for v in value["IN"]:
                    self._index[attr][v].append(rule)
                return
        self._always.append(rule)

    def __call__(self, doc: Doc) -> list[Match]:
        if len(self._ruler.attrs) != self._size:  # rules added since: index them too
            self._build()
        by_lower = self._index["LOWER"]
        by_tag = self._index["TAG"]
        always = self._always
        matches: list[Match] = []
        for token in doc:
            for candidates in (by_lower.get(token.lower_), by_tag.get(token.tag_), always):
                if candidates:
                    for rule in candidates:
                        if rule.holds(token):
                            matches.append((rule.number, rule.match_id, token.i, token.i + 1))
        if self.rest_patterns:
            for match_id, start, end in self._rest(doc, allow_missing=True):
                matches.append((int(doc.vocab.strings[match_id]), match_id, start, end))
        matches.sort()
        return matches


def index_attribute_ruler(nlp: Language, name: str = "attribute_ruler") -> bool:
    """Give the pipeline's attribute ruler an indexed ``match``; False when it has none."""
    if name not in nlp.pipe_names:
        return False
    from spacy.pipeline import AttributeRuler

    ruler = nlp.get_pipe(name)
    if not isinstance(ruler, AttributeRuler):
        return False
    indexed = IndexedRuleMatch(ruler)
    ruler.match = indexed  # type: ignore[method-assign]
    log.debug(
        "attribute ruler: %d one-token patterns indexed, %d left to the Matcher",
        indexed.indexed_patterns,
        indexed.rest_patterns,
    )
    return True

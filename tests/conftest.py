"""Fixtures shared by every test: paths, the spaCy pipeline (loaded once), validators."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
SCHEMAS = ROOT / "schemas"
SEED = SEEDS / "000_c2d9b50d470d0567.txt"


@pytest.fixture(scope="session")
def nlp() -> Any:
    from streams.nlp.pipeline import load_pipeline
    from streams.settings import Settings

    settings = Settings()
    return load_pipeline(settings.model, settings.model_fallback)


@pytest.fixture(scope="session")
def seed_text() -> str:
    return SEED.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def validate_wire() -> Callable[[str, Any], None]:
    """``validate_wire("statement", obj)`` checks ``obj`` against ``schemas/``."""
    validators: dict[str, Draft202012Validator] = {}

    def validate(name: str, obj: Any) -> None:
        if name not in validators:
            schema = json.loads((SCHEMAS / f"{name}.schema.json").read_text(encoding="utf-8"))
            Draft202012Validator.check_schema(schema)
            validators[name] = Draft202012Validator(schema)
        validators[name].validate(obj)

    return validate

"""The README stays short and true: its length, the settings table against the settings
object, the commands table against the CLI, and its Python example parses."""

from __future__ import annotations

import ast
import re

import pytest
from pydantic import SecretStr

from streams.cli.main import cli
from streams.settings import Settings
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_readme_is_at_most_25000_characters() -> None:
    assert len(README) <= 25_000, f"README.md is {len(README):,} characters"


def _settings_rows() -> dict[str, str]:
    return dict(re.findall(r"^\| `(STREAMS_[A-Z_0-9]+)` \| ([^|]+) \|", README, re.MULTILINE))


def test_the_settings_table_lists_every_setting_once_with_its_default() -> None:
    rows = _settings_rows()
    fields = Settings.model_fields
    assert set(rows) == {f"STREAMS_{name.upper()}" for name in fields}
    assert len(re.findall(r"^\| `STREAMS_", README, re.MULTILINE)) == len(fields)
    defaults = Settings(_env_file=None)  # type: ignore[call-arg]
    for name in fields:
        shown = rows[f"STREAMS_{name.upper()}"].strip()
        value = getattr(defaults, name)
        if value is None or isinstance(value, SecretStr):
            expected = "unset"
        elif value == "" or value == ():
            expected = "empty"
        elif isinstance(value, bool):
            expected = f"`{str(value).lower()}`"
        elif isinstance(value, int | float):
            expected = shown if float(shown.strip("`")) == value else f"`{value}`"
        else:
            expected = f"`{value}`"
        assert shown == expected, f"STREAMS_{name.upper()}: README {shown}, settings {expected}"


def test_the_commands_table_names_the_cli_commands() -> None:
    named = set(re.findall(r"^\| `streams ([a-z]+)", README, re.MULTILINE))
    assert named == set(cli.commands)  # type: ignore[attr-defined]


@pytest.mark.parametrize("block", re.findall(r"```python\n(.*?)```", README, re.DOTALL))
def test_python_examples_parse(block: str) -> None:
    ast.parse(block)

"""The command line: help on every command, and `streams extract`'s contract."""

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

from streams.cli.main import cli
from tests.conftest import ROOT, SEED

COMMANDS = [
    [],
    ["broker"],
    ["broker", "start"],
    ["broker", "stop"],
    ["broker", "status"],
    ["broker", "fetch"],
    ["worker"],
    ["replay"],
    ["tail"],
    ["extract"],
    ["demo"],
    ["schemas"],
    ["eval"],
    ["bench"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "streams")
def test_every_command_has_help(command: list[str]) -> None:
    result = CliRunner().invoke(cli, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


def _streams(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "streams", *args],
        cwd=cwd,
        capture_output=True,
        timeout=300,
        check=False,
    )


def test_extract_prints_one_schema_valid_line_per_file_in_order(
    tmp_path: Path, validate_wire: Callable[[str, Any], None]
) -> None:
    other = tmp_path / "other.txt"
    other.write_text("“Prices will fall,” Araghçi said.\n", encoding="utf-8")
    result = _streams("extract", str(SEED), str(other))
    assert result.returncode == 0, result.stderr.decode()
    lines = result.stdout.decode().splitlines()
    assert len(lines) == 2
    records = [orjson.loads(line) for line in lines]
    for record in records:
        validate_wire("enriched_article", record)
    seed_text = SEED.read_text(encoding="utf-8")
    first = records[0]
    assert any(s["speaker"]["name"] == "Abbas Araghchi" for s in first["statements"])
    for statement in first["statements"]:
        assert seed_text[statement["start"] : statement["end"]] == statement["content"]
    assert records[1]["statements"][0]["content"] == "Prices will fall"
    # speaker ids are shared across the files of one call: a bare variant spelling in the
    # second file is the person named in full in the first
    assert records[1]["statements"][0]["speaker"]["id"] == "person:abbas-araghchi"


def test_extract_reports_a_bad_file_and_goes_on(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_bytes(b"{not json")
    result = _streams("extract", str(bad), str(SEED))
    assert result.returncode == 1
    assert b"not valid JSON" in result.stderr
    assert len(result.stdout.decode().splitlines()) == 1


def test_schemas_command_finds_the_files_current() -> None:
    result = CliRunner().invoke(cli, ["schemas", "--dir", str(ROOT / "schemas")])
    assert result.exit_code == 0, result.output


def test_broker_status_when_nothing_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("STREAMS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("STREAMS_KAFKA_PORT", str(port))
    result = CliRunner().invoke(cli, ["broker", "status"])
    assert result.exit_code == 1
    assert "stopped" in result.output


def test_eval_finds_its_sets_from_any_directory(tmp_path: Path) -> None:
    # the defaults are the checkout's, not the working directory's
    result = subprocess.run(
        [sys.executable, "-m", "streams", "eval", "--set", "annotated", "--no-cost", "--json"],
        cwd=tmp_path,
        capture_output=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    assert orjson.loads(result.stdout)["annotated"]["articles"] >= 16


def test_eval_with_a_wrong_path_says_so_in_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["eval", "--newsdev", str(tmp_path / "nowhere")])
    assert result.exit_code == 1
    assert "no newsdev data in" in result.output

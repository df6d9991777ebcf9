"""The command line: help on every command, and `streams extract`'s contract."""

import os
import socket
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


def _streams(
    *args: str, cwd: Path = ROOT, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "streams", *args],
        cwd=cwd,
        capture_output=True,
        timeout=300,
        check=False,
        env=None if env is None else {**os.environ, **env},
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture()
def no_broker(tmp_path: Path) -> dict[str, str]:
    """Settings for a child process whose STREAMS_BROKER has nothing behind it."""
    return {
        "STREAMS_BROKER": f"127.0.0.1:{_free_port()}",
        "STREAMS_DATA_DIR": str(tmp_path / "data"),
        "STREAMS_WEB_PORT": str(_free_port()),
        "STREAMS_LOG_LEVEL": "info",
    }


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


@pytest.mark.parametrize(
    "command",
    [["tail", "statements"], ["replay", str(SEED)], ["worker"], ["demo", "--once"]],
    ids=" ".join,
)
def test_an_unreachable_broker_is_one_line_and_exit_1(
    command: list[str], no_broker: dict[str, str]
) -> None:
    result = _streams(*command, env=no_broker)
    stderr = result.stderr.decode()
    assert result.returncode == 1, stderr
    assert "Traceback" not in stderr
    assert len(stderr.splitlines()) <= 2, stderr
    assert f"error: no Kafka broker answers at {no_broker['STREAMS_BROKER']}" in stderr


def test_debug_or_the_debug_log_level_shows_the_traceback(no_broker: dict[str, str]) -> None:
    result = _streams("--debug", "tail", "statements", env=no_broker)
    assert result.returncode == 1
    assert b"Traceback" in result.stderr
    assert b"BrokerError: no Kafka broker answers" in result.stderr
    result = _streams("tail", "statements", env={**no_broker, "STREAMS_LOG_LEVEL": "debug"})
    assert result.returncode == 1
    assert b"Traceback" in result.stderr


def test_a_worker_whose_web_port_is_taken_says_so_before_loading_spacy(
    no_broker: dict[str, str],
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = _streams("worker", env={**no_broker, "STREAMS_WEB_PORT": str(port)})
    stderr = result.stderr.decode()
    assert result.returncode == 1, stderr
    (line,) = stderr.splitlines()
    assert line.startswith(f"error: port {port} on 127.0.0.1 is taken"), stderr
    assert line.endswith("stop it or set STREAMS_WEB_PORT to a free port")
    assert "spaCy" not in stderr  # the port was checked first: no model was loaded


def test_a_replay_with_nothing_readable_exits_1_and_names_each_input_once(
    tmp_path: Path, no_broker: dict[str, str]
) -> None:
    (tmp_path / "a.json").write_bytes(b"{not json")
    (tmp_path / "b.jsonl").write_bytes(b'{"title": "no text"}\n')
    result = _streams("replay", str(tmp_path / "a.json"), str(tmp_path / "b.jsonl"), env=no_broker)
    stderr = result.stderr.decode()
    assert result.returncode == 1, stderr
    assert stderr.count("a.json") == 2  # its skip line, and the final line naming the inputs
    assert stderr.count("not valid JSON") == 1
    assert stderr.count("no `text` string") == 1
    assert stderr.splitlines()[-1].startswith("error: no article to replay in ")
    assert result.stdout == b""


def test_extract_of_a_missing_path_exits_1_in_one_line(tmp_path: Path) -> None:
    result = _streams("extract", str(tmp_path / "nope.txt"), str(SEED))
    assert result.returncode == 1
    assert result.stderr.decode().splitlines() == [
        f"error: {tmp_path / 'nope.txt'}: no such file or folder"
    ]
    assert result.stdout == b""


def test_bench_without_its_corpus_says_so_before_any_broker(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["bench", "--root", str(tmp_path)])
    assert result.exit_code == 1
    assert "no texts for the benchmark in" in result.output
    assert "--root" in result.output and "broker" not in result.output


def test_bench_finds_its_corpus_in_the_checkout_from_any_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from streams.bench import corpus_texts

    monkeypatch.chdir(tmp_path)
    assert len(corpus_texts()) >= 10


def test_demo_without_seeds_says_so_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("streams.checkout.SEEDS", tmp_path / "nowhere")
    result = CliRunner().invoke(cli, ["demo", "--once"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"error: no seeds in {tmp_path / 'nowhere'}: give the articles to replay with --seeds"
    ]


def test_eval_of_a_set_whose_data_is_absent_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from streams.evaluation.report import EvalSet

    sets = [
        EvalSet("annotated", "annotated", ROOT / "tests" / "annotated"),
        EvalSet("newsdev", "annotated", tmp_path / "newsdev"),
        EvalSet("polnear", "polnear", tmp_path / "polnear-dev"),
    ]
    monkeypatch.setattr("streams.evaluation.report.default_sets", lambda: sets)
    result = CliRunner().invoke(cli, ["eval", "--set", "polnear"])
    assert result.exit_code == 1
    assert f"no polnear data in {tmp_path / 'polnear-dev'}: give its folder with --polnear" in (
        result.output
    )
    monkeypatch.setattr("streams.evaluation.report.default_sets", lambda: sets[1:])
    result = CliRunner().invoke(cli, ["eval"])
    assert result.exit_code == 1
    assert "no evaluation data found" in result.output

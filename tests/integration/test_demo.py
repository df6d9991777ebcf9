"""`streams demo --once` from nothing: it starts its own broker, a worker, and stops both."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from streams.broker import LocalKafka
from tests.conftest import ROOT
from tests.integration.conftest import make_settings, settings_env

pytestmark = pytest.mark.integration


def test_demo_once_prints_the_seed_speakers_and_cleans_up(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, topic_prefix="", app_id="streams-demo")
    assert not LocalKafka(settings).reachable()
    result = subprocess.run(
        [sys.executable, "-m", "streams", "demo", "--once", "--seeds", str(ROOT / "seeds")],
        cwd=ROOT,
        env=settings_env(settings),
        capture_output=True,
        text=True,
        timeout=400,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Abbas Araghchi" in result.stdout
    assert "person:abbas-araghchi" in result.stdout
    assert "starting the local Kafka broker" in result.stdout
    # everything it started is stopped again
    assert not LocalKafka(settings).status().running
    assert not LocalKafka(settings).reachable()

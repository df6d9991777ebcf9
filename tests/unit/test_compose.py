"""docker-compose.yml is valid Compose (check-jsonschema's vendored compose-spec schema)."""

import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from tests.conftest import ROOT


def test_compose_file_validates_against_the_compose_spec() -> None:
    exe = shutil.which("check-jsonschema", path=str(Path(sys.executable).parent))
    assert exe is not None, "check-jsonschema is a dev dependency; run `make install`"
    result = subprocess.run(
        [exe, "--builtin-schema", "vendor.compose-spec", str(ROOT / "docker-compose.yml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_runs_the_same_kafka_line_as_the_local_broker() -> None:
    from streams.settings import Settings

    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    image = compose["services"]["kafka"]["image"]
    assert image == f"apache/kafka:{Settings().kafka_version}"
    assert {"kafka", "worker", "replay", "ingest"} <= set(compose["services"])


def test_the_example_feeds_file_loads() -> None:
    from streams.ingest.feeds import load_feeds

    feeds = load_feeds(ROOT / "feeds.toml", interval=300)
    assert feeds and all(f.url.startswith("https://") for f in feeds)

"""``streams worker`` as a child process: start it, wait until it answers, stop it.

The one harness for every program that runs a worker of its own: the demo, the benchmarks
(:func:`streams.bench.bench_worker`) and the integration tests.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping
from pathlib import Path

from streams.errors import WorkerError
from streams.settings import Settings


def start_worker(
    settings: Settings,
    log_path: Path,
    overrides: dict[str, str] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> subprocess.Popen[bytes]:
    """``streams worker`` as a child process, logging to ``log_path``; ``overrides`` are
    STREAMS_* variables set for it on top of ``env`` (this process's environment unless
    given)."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "streams", "worker"],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**(os.environ if env is None else env), **(overrides or {})},
            cwd=cwd,
        )


def wait_healthy(
    proc: subprocess.Popen[bytes],
    port: int,
    timeout: float = 180.0,
    log_path: Path | None = None,
) -> None:
    """Wait until the worker answers ``/health`` on ``port`` (spaCy is loaded by then);
    :class:`WorkerError` if it exits first or does not answer in ``timeout`` seconds (it is
    left running: the caller stops it)."""
    see = f"; see {log_path}" if log_path else ""
    url = f"http://127.0.0.1:{port}/health/"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise WorkerError(f"the worker (pid {proc.pid}) exited ({proc.returncode}){see}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise WorkerError(f"the worker did not answer on {url} in {timeout:.0f}s{see}")


def stop_process(
    proc: subprocess.Popen[bytes], timeout: float = 30.0, sig: int = signal.SIGTERM
) -> None:
    """Send ``sig`` (SIGTERM) and wait up to ``timeout`` seconds; then kill it."""
    if proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()

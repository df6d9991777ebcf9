"""The demo's stop signals and its port check, in this process (no broker, no worker)."""

from __future__ import annotations

import os
import signal
import socket
import time
from pathlib import Path

import pytest

from streams.demo import STOP_SIGNALS, Stopped, run_demo, stopped_by_signals
from streams.errors import ConfigError
from streams.settings import Settings


@pytest.mark.parametrize("sig", STOP_SIGNALS, ids=lambda s: signal.Signals(s).name)
def test_each_stop_signal_raises_stopped_once_and_the_handlers_come_back(sig: int) -> None:
    before = {s: signal.getsignal(s) for s in STOP_SIGNALS}
    with pytest.raises(Stopped) as caught, stopped_by_signals():
        try:
            os.kill(os.getpid(), sig)
            time.sleep(5)  # the handler interrupts this
        except Stopped:
            # a second signal during the clean-up is ignored, not another interruption
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.1)
            raise
    assert caught.value.signum == sig
    assert {s: signal.getsignal(s) for s in STOP_SIGNALS} == before


def test_sigint_stops_the_demo_even_when_it_started_ignored() -> None:
    """A program started in the background by a shell script starts with SIGINT ignored."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with pytest.raises(Stopped), stopped_by_signals():
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(5)
        assert signal.getsignal(signal.SIGINT) == signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)


def test_the_demo_refuses_a_taken_web_port_before_anything_starts(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None, data_dir=tmp_path, web_port=port, broker="127.0.0.1:1"
        )
        with pytest.raises(ConfigError, match=f"port {port} on 127.0.0.1 is taken"):
            run_demo(settings, tmp_path, once=True, timeout=1)
    assert not (tmp_path / "logs").exists()  # no worker was started

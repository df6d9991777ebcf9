"""Whether a process is running, by its pid."""

from __future__ import annotations

import os
from pathlib import Path


def alive(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie. Unlike
    ``multiprocessing.Process.is_alive`` it also tells about a child that another waiter in
    this process has already reaped (``is_alive`` says True then)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie left by a parent that has not reaped it is not running
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return True
    return state != "Z"

"""Whether a TCP port is free to listen on, asked before anything slow starts.

A worker binds its web port only after spaCy has loaded and Faust has started; a port taken
by another process (a stray worker) then ends in a long traceback, or, under ``streams demo``,
in a table read from the other worker's work. Asking first turns it into one line.
"""

from __future__ import annotations

import socket

from streams.errors import ConfigError


def check_free(host: str, port: int, setting: str) -> None:
    """Raise :class:`ConfigError` unless ``host:port`` can be bound; ``setting`` names the
    variable that moves it (``STREAMS_WEB_PORT``)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ConfigError(f"cannot listen on {host}:{port}: {exc}; check STREAMS_WEB_HOST") from exc
    for family, kind, proto, _, address in infos:
        with socket.socket(family, kind, proto) as sock:
            # aiohttp binds with SO_REUSEADDR: a port left in TIME_WAIT is free for it too
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(address)
            except OSError as exc:
                raise ConfigError(
                    f"port {port} on {host} is taken ({exc.strerror}): another process, perhaps "
                    f"another worker, listens there; stop it or set {setting} to a free port"
                ) from exc

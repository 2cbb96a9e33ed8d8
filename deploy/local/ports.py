"""Free TCP port helpers for the local test/demo infrastructure."""

from __future__ import annotations

import socket

__all__ = ["free_port", "port_open"]


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port that is free right now on ``host``.

    The OS picks the port (bind to 0), so parallel callers rarely collide; there is still a small
    race between closing the probe socket and the real server binding it, which is acceptable
    for throw-away test servers.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    """True if something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False

"""Shared by the `run` commands of deploy.local: stay up until Ctrl-C or SIGTERM."""

from __future__ import annotations

import signal
import threading


def stop_on_signals() -> threading.Event:
    """An event that SIGINT or SIGTERM sets; wait on it with a timeout to stay responsive."""
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    return stop

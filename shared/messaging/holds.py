"""Messages held back for a while: input that may become valid soon (an org or a node key
not replicated yet) waits, with its partition paused, for a bounded time — then it is
dead-lettered and its partition goes on. Other partitions are never held up by it."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

Position = tuple[str, int, int]  # topic, partition, offset


class Held(Exception):
    """Raise when a message cannot be handled *yet*; `reason` names it in the dead letter if
    the hold runs out, `field` the header or field that caused it."""

    reason = "held"
    field = ""


@dataclass
class _Hold:
    since: float
    attempts: int = 0


class Holds:
    """When each held message was first held, per partition position (a few per consumer)."""

    MAX_TRACKED = 10_000
    FIRST_PAUSE, MAX_PAUSE = 0.5, 30.0

    def __init__(self, limit_seconds: float, now: Callable[[], float] = time.monotonic) -> None:
        self.limit_seconds = limit_seconds
        self.now = now
        self._holds: dict[Position, _Hold] = {}

    def note(self, position: Position) -> float:
        """Record one more attempt; returns how long the message has been held."""
        hold = self._holds.get(position)
        if hold is None:
            if len(self._holds) >= self.MAX_TRACKED:  # positions of partitions now elsewhere
                self._holds.pop(next(iter(self._holds)))
            hold = self._holds[position] = _Hold(self.now())
        hold.attempts += 1
        return self.now() - hold.since

    def expired(self, position: Position) -> bool:
        hold = self._holds.get(position)
        return hold is not None and self.now() - hold.since >= self.limit_seconds

    def pause_seconds(self, position: Position) -> float:
        """How long to leave the partition alone before trying again (exponential)."""
        hold = self._holds.get(position)
        attempts = hold.attempts if hold else 1
        return min(self.FIRST_PAUSE * 2.0 ** (attempts - 1), self.MAX_PAUSE)

    def release(self, position: Position) -> None:
        self._holds.pop(position, None)

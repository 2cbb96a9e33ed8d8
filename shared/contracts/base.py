"""The base of every event model: a pydantic model that knows its CloudEvents type."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict


class Event(BaseModel):
    """One fact. Subclasses set `ce_type` and say which aggregate keys and orders them.

    Consumers ignore unknown fields (``extra="ignore"``) so that a version may grow
    optional fields without breaking anyone.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    ce_type: ClassVar[str]
    # Signed by the writing node's key (shared.orgs.signing): consumers check the signature
    # against the node that `ce_source` names before they believe it.
    signed: ClassVar[bool] = False

    def subject(self) -> str:
        """The aggregate this event is about (`ce_subject`)."""
        raise NotImplementedError

    def key(self) -> str:
        """The Kafka key: the aggregate whose order matters."""
        return self.subject()

    def orgs(self) -> list[str]:
        """Orgs directly involved (the `bigschool_orgs` header)."""
        return []


REGISTRY: dict[str, type[Event]] = {}


def register(model: type[Event]) -> type[Event]:
    """Class decorator: make an event type known to every consumer and the schema export."""
    if model.ce_type in REGISTRY:
        raise ValueError(f"event type {model.ce_type} registered twice")
    REGISTRY[model.ce_type] = model
    return model

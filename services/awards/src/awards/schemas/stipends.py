"""HTTP models of a granted title's stipend schedule and its payments."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from awards.domain.stipends import PaymentStatus


class StipendPaymentOut(BaseModel):
    number: int = Field(description="1 for the payment at the grant, then one per anniversary.")
    due_at: datetime
    status: PaymentStatus = Field(
        description="scheduled (not due yet), due (owed: raised at the next run of the job, "
        "or waiting for the scheme budget), paid."
    )
    paid_at: datetime | None
    honour_id: str | None = Field(description="The honour the payment raised (HonourGranted).")


class StipendOut(BaseModel):
    schedule_id: str
    nomination_id: str
    scheme_id: str
    owner_org: str
    home_org: str
    member_ids: list[str]
    yearly_fen: int
    years: int
    starts_at: datetime
    paid_fen: int = Field(description="Paid so far.")
    payments: list[StipendPaymentOut]

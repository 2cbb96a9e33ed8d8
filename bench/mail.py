"""E-mails/s through the notifications dispatcher beside a bare SMTP client, in one run against
one local SMTP sink (deploy/local/smtp.py). Not part of the test suite.

    python bench/mail.py [--messages 2000]

Limit: one aiosmtplib connection sends the prebuilt messages one after the other.
Dispatcher: a notifications database (SQLite file, migrated) holding `messages` pending e-mail
deliveries to known recipients; the Dispatcher built by `create_app` runs until every row is
marked `sent`; rate = messages / that time. Both send the same messages (rendered and composed
by the service's own templates and Mailer).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from email.message import Message
from pathlib import Path
from typing import Any

import aiosmtplib
from sqlalchemy import func, insert, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import bench  # noqa: F401 (puts this checkout's services first on the import path)
from deploy.local.smtp import SmtpSink
from notifications.app import MIGRATIONS, create_app
from notifications.domain.deliveries import Channel, Status, new_delivery
from notifications.mailer import Mailer
from notifications.models import Delivery, Recipient
from notifications.settings import NotificationsSettings
from notifications.templates import language_of, render
from shared.auth.keys import generate_keys
from shared.contracts.events import EnrollmentConfirmed
from shared.db import Database
from shared.migrations import upgrade_to_head
from shared.orgs.signing import generate_node_key

NODE = "bench"


def _settings(folder: Path, smtp_port: int) -> NotificationsSettings:
    _, jwks = generate_keys(folder / "jwt")
    generate_node_key(folder / "nodes", NODE)
    return NotificationsSettings(
        node_id=NODE,
        root_org="bench-root",
        database_url=f"sqlite+aiosqlite:///{folder / 'notifications.db'}",
        migrate_on_start=False,
        jwt_jwks_path=jwks,
        federation_jwks_path=folder / "nodes" / "federation-jwks.json",
        smtp_port=smtp_port,
    )


def _rows(messages: int, now: datetime) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """`messages` recipients (half zh, half en) and one pending e-mail delivery each."""
    recipients, deliveries = [], []
    for n in range(messages):
        member_id, ce_id = str(uuid.uuid4()), str(uuid.uuid4())
        event = EnrollmentConfirmed(
            enrollment_id=str(uuid.uuid4()),
            programme_id=str(uuid.uuid4()),
            member_id=member_id,
            owner_org="bench-root",
            home_org="bench-root",
            decided_at=now,
            sequence=n + 1,
            programme_title="Safe crane operation",
            hours=12,
        )
        recipients.append(
            {
                "member_id": member_id,
                "home_org": "bench-root",
                "name": f"Member {n}",
                "email": f"member{n}@example.org",
                "phone": None,
                "language": "zh" if n % 2 else "en",
                "updated_at": now,
            }
        )
        deliveries.append(
            new_delivery(
                ce_id=ce_id,
                event_type=EnrollmentConfirmed.ce_type,
                member_id=member_id,
                channel=Channel.email,
                data=event.model_dump(mode="json"),
                home_org="bench-root",
                now=now,
            )
        )
    return recipients, deliveries


def _prebuilt(
    settings: NotificationsSettings,
    recipients: list[dict[str, Any]],
    deliveries: list[dict[str, Any]],
    now: datetime,
) -> list[Message]:
    """The very messages the dispatcher will send, composed ahead for the bare client."""
    mailer, mails = Mailer(settings), []
    for recipient, delivery in zip(recipients, deliveries, strict=True):
        rendered = render(
            delivery["event_type"], recipient["language"], delivery["data"], recipient["name"]
        )
        mails.append(
            mailer.compose(
                delivery_id=delivery["delivery_id"],
                to=recipient["email"],
                message=rendered,
                language=language_of(recipient["language"]),
                at=now,
            )
        )
    return mails


async def bare_smtp(sink: SmtpSink, mails: list[Message]) -> float:
    """The limit: one connection, one message after the other; messages/s."""
    started = time.perf_counter()
    client = aiosmtplib.SMTP(hostname=sink.host, port=sink.port, timeout=30)
    await client.connect()
    for mail in mails:
        await client.send_message(mail)
    await client.quit()
    return len(mails) / (time.perf_counter() - started)


async def _insert(url: str, recipients: list[dict[str, Any]], rows: list[dict[str, Any]]) -> None:
    db = Database(url)
    try:
        async with db.transaction() as session:
            await session.execute(insert(Recipient), recipients)
            await session.execute(insert(Delivery), rows)
    finally:
        await db.dispose()


async def _sent(db: Database) -> int:
    stmt = select(func.count()).where(Delivery.status == Status.sent.value)
    async with db.reading() as session:
        return int((await session.execute(stmt)).scalar_one())


async def dispatcher_path(
    sink: SmtpSink, settings: NotificationsSettings, messages: int, limit_seconds: float
) -> float:
    """The dispatcher as `create_app` wires it, from start until every row is `sent`."""
    app = create_app(settings)
    runtime, dispatcher = app.state.runtime, app.state.dispatcher
    started = time.perf_counter()
    worker = asyncio.create_task(dispatcher.run())
    try:
        # Wait at the sink (a thread blocked on a condition: no load on the loop measured), then
        # for the last `sent` marks.
        arrived = asyncio.create_task(asyncio.to_thread(sink.wait_for, messages, limit_seconds))
        await asyncio.wait([arrived, worker], return_when=asyncio.FIRST_COMPLETED)
        if worker.done():
            worker.result()  # raises what stopped it
            raise RuntimeError("the dispatcher stopped before sending everything")
        await arrived  # raises TimeoutError if the e-mails did not all arrive in time
        while await _sent(runtime.db) < messages:
            if time.perf_counter() - started > limit_seconds:
                raise TimeoutError(f"not all of {messages} e-mails were marked sent in time")
            await asyncio.sleep(0.005)
        elapsed = time.perf_counter() - started
    finally:
        worker.cancel()
        await asyncio.gather(worker, return_exceptions=True)
        await runtime.db.dispose()
    if len(sink.messages) < messages:
        raise RuntimeError(f"the sink has {len(sink.messages)} of {messages} e-mails")
    return messages / elapsed


async def mail_figures(messages: int = 2000) -> dict[str, float]:
    """Bare aiosmtplib over one connection (the limit) and the real dispatcher path, e-mails/s,
    against the same local SMTP sink in the same run."""
    quiet, level = logging.getLogger("notifications"), logging.getLogger("notifications").level
    quiet.setLevel(logging.ERROR)  # a warning per e-mail would be measured too
    now = datetime.now(UTC)
    with (
        tempfile.TemporaryDirectory(prefix="bigschool-bench-mail-") as tmp,
        SmtpSink() as sink,
    ):
        settings = _settings(Path(tmp), sink.port)
        recipients, rows = _rows(messages, now)
        bare = await bare_smtp(sink, _prebuilt(settings, recipients, rows, now))
        if len(sink.messages) != messages:
            raise RuntimeError(f"the sink has {len(sink.messages)} of {messages} bare e-mails")
        sink.clear()
        await upgrade_to_head(MIGRATIONS, settings.database_url)
        await _insert(settings.database_url, recipients, rows)
        try:
            dispatched = await dispatcher_path(sink, settings, messages, max(120, messages))
        finally:
            quiet.setLevel(level)
    return {
        "bare_smtp_per_s": round(bare, 1),
        "dispatcher_per_s": round(dispatched, 1),
        "ratio": round(dispatched / bare, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=2000)
    args = parser.parse_args()
    figures = asyncio.run(mail_figures(args.messages))
    print(json.dumps(figures))
    print(
        f"bare aiosmtplib, one connection: {figures['bare_smtp_per_s']:,.1f} e-mails/s; "
        f"dispatcher: {figures['dispatcher_per_s']:,.1f} e-mails/s; "
        f"ratio {figures['ratio']:.0%} ({args.messages} messages)"
    )


if __name__ == "__main__":
    main()

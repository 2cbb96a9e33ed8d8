"""Learning records on PostgreSQL: migration 0006 builds what the models describe, and one
polled batch holding a completion, its revocation and the completion recorded again commits
in one transaction (the revoked certificate is written before the new one, so the partial
unique index — one valid certificate per enrollment — holds)."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from enrollment.app import MIGRATIONS
from enrollment.models import Base, Certificate, LearningRecord
from shared.contracts import topics
from shared.contracts.envelope import envelope_for
from shared.contracts.events import EnrollmentCompleted, EnrollmentCompletionRevoked, QualityArea
from shared.testing import migrated, record_for

pytestmark = pytest.mark.integration

NOW = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)


async def test_the_learning_tables_match_the_models_on_postgres(
    fresh_pg_url, settings, make_service
) -> None:
    await migrated(MIGRATIONS, fresh_pg_url)
    service = await make_service(settings.model_copy(update={"database_url": fresh_pg_url}))

    async with service.db.engine.connect() as connection:
        diff = await connection.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata)
        )

    # Only this feature's tables: comments on the shared messaging tables differ on
    # PostgreSQL (SQLite keeps no comments), which is not this feature's to settle.
    mine = [d for d in diff if "learning_records" in str(d) or "certificates" in str(d)]
    assert mine == []


async def test_a_batch_revoking_and_completing_again_keeps_one_valid_certificate(
    fresh_pg_url, settings, make_service, token, caplog
) -> None:
    caplog.set_level(logging.INFO, logger="shared.messaging.consumer")
    await migrated(MIGRATIONS, fresh_pg_url)
    service = await make_service(settings.model_copy(update={"database_url": fresh_pg_url}))
    member = await service.client.post(
        "/members",
        json={"home_org": "hzsteel-rolling", "name": "Wang"},
        headers=token("hzsteel-rolling", "cadre"),
    )
    done = EnrollmentCompleted(
        enrollment_id=str(uuid.uuid4()),
        programme_id=str(uuid.uuid4()),
        member_id=member.json()["member_id"],
        owner_org="hzsteel",
        home_org="hzsteel-rolling",
        completed_at=NOW,
        hours=8,
        quality_area=QualityArea.ethics,
        programme_title="Ethics at work",
        programme_kind="lecture",
        programme_ends_at=NOW,
    )
    revoked = EnrollmentCompletionRevoked(
        **done.model_dump(include={"enrollment_id", "programme_id", "member_id"}),
        owner_org="hzsteel",
        home_org="hzsteel-rolling",
        revoked_at=NOW + timedelta(days=1),
    )
    events = [done, revoked, done.model_copy(update={"hours": 6})]
    records = [
        record_for(
            e,
            envelope_for(e, source="bigschool/zj/enrollment", at=NOW),
            offset=n,
            topic=topics.ENROLLMENT,
        )
        for n, e in enumerate(events)
    ]
    consumer = next(c for c in service.app.state.runtime.consumers if c.spec.name == "learning")

    result = await consumer.process_batch(records)

    assert (result.done, result.complete) == (3, True)
    assert "fell back" not in caplog.text
    async with service.db.sessions() as session:
        certificates = list((await session.execute(select(Certificate))).scalars())
        record = await session.get(LearningRecord, done.enrollment_id)
    assert sorted(c.revoked_at is None for c in certificates) == [False, True]
    assert (record.hours, record.year, record.revoked_at) == (6, 2027, None)

    # The database itself refuses a second valid certificate for the enrollment.
    with pytest.raises(IntegrityError):
        async with service.db.transaction() as session:
            session.add(
                Certificate(
                    certificate_id=str(uuid.uuid4()),
                    enrollment_id=done.enrollment_id,
                    member_id=done.member_id,
                    verification_code=str(uuid.uuid4()),
                    issued_at=NOW,
                )
            )

"""Ownership rule 1 and 3: contact data never leaves the member's home node."""

from __future__ import annotations

import pytest

from deploy.local.federation import ENTERPRISE_NODE, SUPERIOR_NODE
from deploy.local.node import SERVICES
from shared.contracts import topics
from tests.e2e.conftest import RunningFederation
from tests.e2e.helpers import (
    MEMBER_DOMAIN,
    PHONE_PREFIX,
    database_text,
    new_members,
    topic_bytes,
)
from tests.e2e.test_enrollment_flow import publish

pytestmark = pytest.mark.e2e

FEDERATION_TOPICS = [
    topics.FEDERATION,
    topics.ENROLLMENT,
    topics.AWARDS,
    topics.STATS,
    topics.inbox(SUPERIOR_NODE),
    topics.inbox(ENTERPRISE_NODE),
]


def test_superior_databases_and_federation_topics_hold_no_contact_data(
    running_federation: RunningFederation,
) -> None:
    fed = running_federation
    [member] = new_members(fed.federation, 1)
    pid = publish(fed, capacity=3)
    client = fed.federation.member_client(ENTERPRISE_NODE, member)
    accepted = client.post("/enrollments", {"programme_id": pid}, expect=202)
    client.wait_for(f"/enrollments/{accepted['id']}", lambda b: b["status"] == "confirmed")

    # The search works: the home node does hold the member's contact data …
    home_text = database_text(fed.database_urls[ENTERPRISE_NODE]["enrollment"])
    assert member["email"] in home_text and member["phone"] in home_text
    local = b"".join(topic_bytes(fed.kafka, topics.members(ENTERPRISE_NODE)))
    assert member["email"].encode() in local

    # … and nothing of any member's contact data reached the superior node or the federation.
    for service in SERVICES:
        text = database_text(fed.database_urls[SUPERIOR_NODE][service])
        assert MEMBER_DOMAIN not in text, f"e-mail address in the superior {service} database"
        assert PHONE_PREFIX not in text, f"phone number in the superior {service} database"
    for topic in FEDERATION_TOPICS:
        payload = b"".join(topic_bytes(fed.kafka, topic))
        assert MEMBER_DOMAIN.encode() not in payload, f"e-mail address on {topic}"
        assert PHONE_PREFIX.encode() not in payload, f"phone number on {topic}"

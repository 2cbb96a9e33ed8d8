"""Event types of the notices this service plans itself rather than relaying an event: the
staff's needs-action notices (`service/staff_rules.py`) and programme reminders
(`service/reminders.py`). Each has its templates, like any event type."""

from __future__ import annotations

APPROVAL_NEEDED = "bigschool.notifications.approval_needed.v1"
ENDORSEMENT_NEEDED = "bigschool.notifications.endorsement_needed.v1"
VETO_CHECK_NEEDED = "bigschool.notifications.veto_check_needed.v1"
REVIEW_NEEDED = "bigschool.notifications.review_needed.v1"
OBJECTION_FILED = "bigschool.notifications.objection_filed.v1"
PROGRAMME_REMINDER = "bigschool.notifications.programme_reminder.v1"

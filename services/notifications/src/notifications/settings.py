from __future__ import annotations

from pydantic import Field, SecretStr

from shared.settings import ServiceSettings


class NotificationsSettings(ServiceSettings):
    service: str = Field("notifications", description="Fixed: this service's name.")
    http_port: int = 8003

    enrollment_public_url: str | None = Field(
        None,
        pattern=r"^https?://[^\s/?#]+(/[^\s?#]*)?$",
        description="Where members reach this node's enrollment service: e-mails carry "
        "one-click links to it when BIGSCHOOL_LINK_SECRET is set too.",
    )

    smtp_host: str = Field("127.0.0.1", description="SMTP server that relays our e-mail.")
    smtp_port: int = 8025
    smtp_from: str = Field(
        "Big School <noreply@bigschool.local>", description="`From` of every e-mail."
    )
    smtp_username: str | None = Field(None, description="SMTP login, when the server wants one.")
    smtp_password: SecretStr | None = Field(None, description="Kept out of logs and reprs.")
    smtp_starttls: bool = Field(False, description="Upgrade the connection with STARTTLS.")
    smtp_timeout_seconds: float = Field(10.0, description="Connect and command timeout.")
    smtp_connections: int = Field(
        4,
        ge=1,
        description="SMTP connections kept open and reused, each carrying many messages; at "
        "most this many e-mails are in flight at once.",
    )
    smtp_idle_seconds: float = Field(
        30.0,
        gt=0,
        description="A pooled SMTP connection unused for this long is checked with NOOP "
        "(and replaced if that fails) before it carries the next message.",
    )

    dispatch_poll_seconds: float = Field(
        0.2, description="Longest pause between two looks for due deliveries."
    )
    dispatch_batch_size: int = Field(
        50,
        ge=1,
        description="Deliveries claimed per claim; the next claim is made while the previous "
        "ones are still being sent, as soon as fewer than `dispatch_concurrency` wait.",
    )
    dispatch_concurrency: int = Field(
        8,
        ge=1,
        description="Deliveries worked on at once (rendered, then sent): at most this many "
        "sends in flight, kept busy continuously; beyond `smtp_connections` they wait for one.",
    )
    dispatch_record_batch: int = Field(
        100,
        ge=1,
        description="Most finished deliveries recorded (status, attempt log, in-app item) in "
        "one transaction; what finished while the previous one committed goes in the next.",
    )
    dispatch_record_linger_seconds: float = Field(
        0.02,
        ge=0,
        description="How long the first finished delivery of a group waits for others before "
        "the group is recorded: fewer, larger transactions for a few ms of delay.",
    )
    dispatch_lease_seconds: float = Field(
        30.0,
        description="How long a claimed delivery is reserved for the dispatcher that claimed "
        "it; after a crash it becomes due again when the lease ends (so this bounds how late "
        "a crash makes a notice).",
    )
    max_attempts: int = Field(8, ge=1, description="Attempts before a delivery is `failed`.")
    notify_max_age_hours: float = Field(
        72,
        gt=0,
        description="Events older than this are not notified (a new node replaying the "
        "topic from the earliest offset must not tell members about last month).",
    )

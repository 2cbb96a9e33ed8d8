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

    # -- SMS through an HTTP provider, and per-org templates ------------------------------------
    sms_base_url: str | None = Field(
        None,
        pattern=r"^https?://[^\s/?#]+(/[^\s?#]*)?$",
        description="The SMS provider's API (messages are POSTed to `<url>/messages`); unset: "
        "this node sends no SMS, and an SMS notice falls back to the member's next channel.",
    )
    sms_api_key: SecretStr | None = Field(
        None, description="Sent to the SMS provider as a bearer token; kept out of logs."
    )
    sms_sender: str = Field(
        "BigSchool", max_length=32, description="The `from` of every SMS (sender id or number)."
    )
    sms_timeout_seconds: float = Field(
        10.0, gt=0, description="Connect and response timeout of one SMS request."
    )
    sms_connections: int = Field(
        4, ge=1, description="HTTP connections to the SMS provider kept open and reused."
    )
    template_cache_seconds: float = Field(
        10.0,
        ge=0,
        description="How long the dispatcher reuses which override (if any) applies to an "
        "org, event type and language: a changed override reaches every message within this.",
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

    # -- public-notice fan-out and delivery lanes -----------------------------------------------
    fanout_batch_size: int = Field(
        1000,
        ge=1,
        le=10_000,
        description="Members of a public notice's subtree planned per transaction by the "
        "fan-out worker (its progress is saved with each batch).",
    )
    dispatch_bulk_share: float = Field(
        0.1,
        ge=0,
        le=1,
        description="Share of each claim kept for the bulk lane (a public notice's fan-out) "
        "while single messages wait; single messages take the rest first, and the bulk lane "
        "whatever they leave.",
    )

    # -- webhooks for integrators (notifications.webhooks) --------------------------------------
    webhook_allow_private_urls: bool = Field(
        False,
        description="Allow webhook URLs whose host resolves to a private, loopback, link-local "
        "or otherwise non-public address (SSRF guard); only for integrators on this node's own "
        "network.",
    )
    webhook_secret_overlap_hours: float = Field(
        24,
        ge=0,
        description="After a secret rotation, how long the previous secret still signs (next "
        "to the new one), so that receivers can switch without losing a message.",
    )
    webhook_disable_after_hours: float = Field(
        24,
        gt=0,
        description="A subscription whose every attempt failed for this long is disabled and "
        "the admin who created it is told.",
    )
    webhook_retry_hours: float = Field(
        24,
        gt=0,
        description="How long one webhook delivery is retried (with backoff) after it was "
        "queued or replayed before it is marked failed.",
    )
    webhook_backoff_base_seconds: float = Field(
        5, gt=0, description="Wait after a webhook's first failed attempt; doubles each time."
    )
    webhook_backoff_cap_seconds: float = Field(
        3600, gt=0, description="Longest wait between two attempts of a webhook delivery."
    )
    webhook_timeout_seconds: float = Field(
        10, gt=0, description="Connect, write and read timeout of one webhook request."
    )
    webhook_concurrency: int = Field(
        8, ge=1, description="Webhook requests in flight at once (and pooled connections)."
    )
    webhook_batch_size: int = Field(50, ge=1, description="Webhook deliveries claimed at once.")
    webhook_lease_seconds: float = Field(
        120,
        gt=0,
        description="How long claimed webhook deliveries are reserved for the sender that "
        "claimed them; after a crash they are due again when it ends.",
    )
    webhook_max_subscriptions: int = Field(
        100, ge=1, description="Most webhook subscriptions a node keeps."
    )
    webhook_replay_max_hours: float = Field(
        168, gt=0, description="Longest time range one webhook replay may cover."
    )

    # -- live inbox (Server-Sent Events, GET /inbox/stream) --------------------------------------
    inbox_stream_poll_seconds: float = Field(
        0.25,
        gt=0,
        le=10,
        description="Longest pause between two looks of an open inbox stream for new items "
        "(items another replica recorded); a commit of this process wakes it at once.",
    )
    inbox_stream_min_gap_seconds: float = Field(
        0.05,
        ge=0,
        description="Shortest pause between two looks of one stream, however often this "
        "process commits: bounds the queries a busy dispatcher causes per open stream.",
    )
    inbox_stream_batch: int = Field(
        100, ge=1, le=1000, description="Most items one look of a stream reads and sends."
    )
    inbox_stream_ping_seconds: float = Field(
        15,
        gt=0,
        description="Keep-alive comment sent on an idle stream, so that proxies keep it open "
        "and a vanished client is noticed.",
    )
    inbox_stream_send_timeout_seconds: float = Field(
        30,
        gt=0,
        description="A client that takes longer than this to accept one event is dropped (it "
        "reconnects with Last-Event-ID and misses nothing).",
    )

    # -- programme reminders (service/reminders.py) ------------------------------------------
    reminder_hours: float = Field(
        24,
        gt=0,
        description="Each member holding a seat is reminded this many hours before the "
        "programme starts (moved when the start moves).",
    )
    reminder_poll_seconds: float = Field(
        30.0, gt=0, description="Longest pause between two looks for due reminders."
    )
    reminder_batch_size: int = Field(
        200, ge=1, description="Due reminders turned into deliveries per transaction."
    )

    # -- preferences and daily digests (service/preferences.py, service/digest.py) --------
    notify_default_timezone: str | None = Field(
        None,
        description="IANA time zone of quiet hours and digests for a member whose org policy "
        "names none; unset: BIGSCHOOL_FEDERATION_TIMEZONE.",
    )
    digest_check_seconds: float = Field(
        5.0, gt=0, description="How often the digest worker looks for digests that are due."
    )
    digest_batch_members: int = Field(
        200, ge=1, description="Members whose due digests are built per transaction."
    )
    digest_max_items: int = Field(
        50,
        ge=1,
        description="Titles listed in one digest e-mail; more held items are counted, not "
        "listed (all are marked told).",
    )

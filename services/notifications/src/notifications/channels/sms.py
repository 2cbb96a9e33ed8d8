"""SMS through an HTTP provider: `POST {sms_base_url}/messages` with the API key as a bearer
token and `{to, from, text, reference}` as JSON, over a small pool of kept-alive connections
(one `httpx.AsyncClient`, closed when the dispatcher stops).

`Idempotency-Key` (and `reference`) is the delivery id: every retry of a delivery, and a
resend after a crash, carries the same key, so the provider sends the message once.

2xx: sent. 408, 429, 5xx, a timeout or a connection fault: transient, retried with backoff.
Any other 4xx: the provider refuses this message for good (a bad number, say): failed at
once. Only the error's type and the status code are logged, never the number or the text.
"""

from __future__ import annotations

import logging
import time

import httpx

from notifications.channels.base import Outgoing
from notifications.service.dispatching import SENT, Result, failed_with, unreachable
from notifications.settings import NotificationsSettings
from notifications.templates import SIGNATURE, Rendered

log = logging.getLogger(__name__)

# At most two concatenated SMS segments: 2 x 153 characters of plain ASCII (GSM 7-bit), or
# 2 x 67 of any other text (UCS-2: Chinese, typographic quotes).
MAX_ASCII_CHARS = 306
MAX_OTHER_CHARS = 134
TRANSIENT_STATUSES = frozenset({408, 429})
# Typographic punctuation of the English templates, as plain ASCII: one character off the
# GSM 7-bit alphabet would make the whole message UCS-2 (less than half as long).
PLAIN_PUNCTUATION = str.maketrans(
    {"\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'", "\u2014": "-", "\u2013": "-"}
)


def sms_text(message: Rendered, language: str) -> str:
    """The title, then the body on one line (without the e-mail signature: the sender id names
    us), typographic quotes and dashes as ASCII when that makes it all ASCII, cut at a word
    where possible to stay within two segments."""
    body = message.body.removesuffix(SIGNATURE.get(language, ""))
    text = message.title + "\n" + " ".join(body.split())
    if (plain := text.translate(PLAIN_PUNCTUATION)).isascii():
        text = plain  # Chinese text keeps its own punctuation
    limit = MAX_ASCII_CHARS if text.isascii() else MAX_OTHER_CHARS
    if len(text) <= limit:
        return text
    ellipsis = "..." if text.isascii() else "…"
    cut = text[: limit - len(ellipsis)]
    if text.isascii() and " " in cut[limit // 2 :]:  # a word boundary in the second half
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip() + ellipsis


def is_transient(status: int) -> bool:
    return status in TRANSIENT_STATUSES or status >= 500


class SmsSender:
    def __init__(self, settings: NotificationsSettings) -> None:
        self.settings = settings
        self._client: httpx.AsyncClient | None = None

    async def send(self, outgoing: Outgoing) -> Result | None:
        if self.settings.sms_base_url is None:
            return unreachable("SmsNotConfigured")
        phone = outgoing.recipient.phone
        if not phone:
            return unreachable("NoPhone")
        if time.monotonic() > outgoing.deadline:
            return None  # the lease is nearly over: due again when it ends
        payload = {
            "to": phone,
            "from": self.settings.sms_sender,
            "text": sms_text(outgoing.message, outgoing.language),
            "reference": outgoing.delivery_id,
        }
        try:
            response = await self._http().post(
                "messages", json=payload, headers={"Idempotency-Key": outgoing.delivery_id}
            )
        except httpx.HTTPError as exc:  # timeout, refused or dropped connection
            error = type(exc).__name__
            log.warning("delivery %s: SMS failed (%s)", outgoing.delivery_id, error)
            return failed_with(error)
        if response.is_success:
            return SENT
        log.warning(
            "delivery %s: SMS provider answered %d", outgoing.delivery_id, response.status_code
        )
        return failed_with(
            f"SmsHttp{response.status_code}", permanent=not is_transient(response.status_code)
        )

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    def _http(self) -> httpx.AsyncClient:
        """The pooled client, opened on first use (in the dispatcher's event loop)."""
        if self._client is None:
            s = self.settings
            key = s.sms_api_key.get_secret_value() if s.sms_api_key else None
            self._client = httpx.AsyncClient(
                base_url=f"{str(s.sms_base_url).rstrip('/')}/",
                headers={"Authorization": f"Bearer {key}"} if key else None,
                timeout=s.sms_timeout_seconds,
                limits=httpx.Limits(
                    max_connections=s.sms_connections,
                    max_keepalive_connections=s.sms_connections,
                ),
                follow_redirects=False,
            )
        return self._client

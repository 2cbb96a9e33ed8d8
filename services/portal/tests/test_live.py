"""`/live`: the inbox stream relayed with the session's token, never the browser's."""

from __future__ import annotations

import httpx

from portal.testing import Portal

EVENTS = b'event: unread\ndata: {"unread": 1}\n\nid: 7\nevent: item\ndata: {}\n\n'


def stream(request: httpx.Request) -> httpx.Response | None:
    if request.url.path != "/inbox/stream":
        return None
    return httpx.Response(200, content=EVENTS, headers={"Content-Type": "text/event-stream"})


async def test_the_stream_is_relayed_with_the_sessions_token_and_the_last_event_id(
    portal: Portal,
) -> None:
    portal.services.special.append(stream)
    await portal.sign_in("member")
    answer = await portal.http.get("/live", headers={"Last-Event-ID": "6"})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/event-stream")
    assert answer.content == EVENTS
    [call] = portal.services.calls("GET", "/inbox/stream")
    assert call.headers["authorization"].startswith("Bearer ey")
    assert call.headers["last-event-id"] == "6"
    assert "after" not in call.url.params  # the browser's Last-Event-ID wins


async def test_the_inbox_page_starts_the_stream_after_its_newest_item(portal: Portal) -> None:
    item = {
        "item_id": "i1",
        "event_type": "bigschool.enrollment.confirmed.v1",
        "title": "报名成功",
        "body": "…",
        "created_at": "2026-03-01T02:00:00Z",
        "read_at": None,
        "position": 41,
    }
    portal.services.special.append(
        lambda r: (
            httpx.Response(200, json={"items": [item], "next_cursor": None, "unread": 1})
            if r.url.path == "/inbox"
            else None
        )
    )
    await portal.sign_in("member")
    page = await portal.http.get("/inbox")
    assert 'data-after="41"' in page.text and 'data-live="/live"' in page.text


async def test_without_a_session_the_stream_answers_204(portal: Portal) -> None:
    answer = await portal.http.get("/live")
    assert answer.status_code == 204
    assert portal.services.calls("GET", "/inbox/stream") == []

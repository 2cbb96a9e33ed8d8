"""One trace across the federation's processes, collected by the test's OTLP receiver: a
member's enrollment request at the enterprise node, the relay's publish, the owner's
consumer at the superior node, the home node's consumer and the confirmation e-mail's
delivery share the trace id of the `traceparent` the client sent, and every span's parent
is another span of that trace (or the client's)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span as SpanProto

from deploy.local.federation import SECOND_ENTERPRISE_NODE, SUPERIOR_NODE
from deploy.local.http_sink import HttpSink
from tests.e2e.conftest import RunningFederation
from tests.e2e.helpers import new_members, wait_until

pytestmark = pytest.mark.e2e

# The member's home: the second enterprise node, whose members topic no bulk test (the
# roster import's 15,000 members, say) has just filled.
HOME, HOME_ORG = SECOND_ENTERPRISE_NODE, "hzbus-depot"


@dataclass(frozen=True)
class ExportedSpan:
    service: str
    node: str
    name: str
    kind: int
    span_id: str
    parent_id: str


class Receiver:
    """The spans the OTLP receiver got, by trace id. Each export is decoded once: the
    receiver holds every export of the run, and decoding them all again at each look would
    hold the interpreter from the test's own SMTP and HTTP servers."""

    def __init__(self, sink: HttpSink) -> None:
        self.sink = sink
        self.decoded = 0
        self.traces: dict[str, list[ExportedSpan]] = {}

    def spans(self) -> dict[str, list[ExportedSpan]]:
        requests = self.sink.requests
        for request in requests[self.decoded :]:
            if request.path == "/v1/traces":
                self._add(ExportTraceServiceRequest.FromString(request.body))
        self.decoded = len(requests)
        return self.traces

    def _add(self, export: ExportTraceServiceRequest) -> None:
        for resource_spans in export.resource_spans:
            resource = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    self.traces.setdefault(span.trace_id.hex(), []).append(
                        ExportedSpan(
                            resource["service.name"],
                            resource["bigschool.node"],
                            span.name,
                            span.kind,
                            span.span_id.hex(),
                            span.parent_span_id.hex(),
                        )
                    )


def test_an_enrollment_request_and_all_it_causes_on_both_nodes_form_one_trace(
    running_federation: RunningFederation,
) -> None:
    fed = running_federation
    [member] = new_members(fed.federation, 1, org=HOME_ORG, language="en", node=HOME)
    programme = fed.federation.publish_programme(SUPERIOR_NODE, "zj-hz", 3)
    pid = programme["programme_id"]
    fed.federation.admin(HOME).wait_for(f"/programmes/{pid}", lambda body: True)

    trace_id, client_span = secrets.token_hex(16), secrets.token_hex(8)
    client = fed.federation.member_client(HOME, member)
    response = client.http.post(
        "/enrollments",
        json={"programme_id": pid},
        headers={"traceparent": f"00-{trace_id}-{client_span}-01"},
    )
    assert response.status_code == 202, response.text
    client.wait_for(response.headers["location"], lambda body: body["status"] == "confirmed")
    wait_until(
        lambda: [m for m in fed.smtp.messages if member["email"] in m.rcpt_tos],
        what="the confirmation e-mail",
    )

    expected = {  # (service, node, span name prefix) that the trace must hold
        ("enrollment", HOME, "POST /enrollments"),
        ("enrollment", HOME, "publish "),
        ("enrollment", SUPERIOR_NODE, "process bigschool.enrollment.requested."),
        ("enrollment", SUPERIOR_NODE, "publish "),
        ("enrollment", HOME, "process bigschool.enrollment.confirmed."),
        ("notifications", HOME, "process bigschool.enrollment.confirmed."),
        ("notifications", HOME, "deliver email"),
    }
    seen: dict[str, Any] = {}
    receiver = Receiver(fed.otlp)

    def whole_trace() -> list[ExportedSpan] | None:
        spans = receiver.spans().get(trace_id, [])
        ids = {s.span_id for s in spans} | {client_span}
        seen["missing"] = {
            want
            for want in expected
            if not any(
                (s.service, s.node) == want[:2] and s.name.startswith(want[2]) for s in spans
            )
        }
        seen["orphans"] = [s for s in spans if s.parent_id not in ids]
        return spans if not seen["missing"] and not seen["orphans"] else None

    try:
        spans = wait_until(whole_trace, timeout=90, what="the whole trace at the OTLP receiver")
    except TimeoutError as exc:
        raise AssertionError(f"incomplete trace: {seen}") from exc

    server = [
        s for s in spans if s.kind == SpanProto.SPAN_KIND_SERVER and s.parent_id == client_span
    ]
    assert [(s.service, s.node) for s in server] == [("enrollment", HOME)]
    # The services sample no trace of their own (SAMPLED_TRACES_ONLY): every span the
    # receiver got continues a trace some client sent sampled; none is a root.
    assert all(s.parent_id for spans in receiver.spans().values() for s in spans)

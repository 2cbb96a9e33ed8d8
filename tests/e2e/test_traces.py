"""One trace across the federation's processes, collected by the test's OTLP receiver: a
member's enrollment request at the enterprise node, the relay's publish, the owner's
consumer at the superior node, the home node's consumer and the confirmation e-mail's
delivery share the trace id of the `traceparent` the client sent, and every span's parent
is another span of that trace (or the client's)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span as SpanProto

from deploy.local.federation import ENTERPRISE_NODE, SUPERIOR_NODE
from deploy.local.http_sink import ReceivedRequest
from tests.e2e.conftest import RunningFederation
from tests.e2e.helpers import new_members, wait_until

pytestmark = pytest.mark.e2e


@dataclass(frozen=True)
class ExportedSpan:
    service: str
    node: str
    name: str
    kind: int
    span_id: str
    parent_id: str


def exported_spans(requests: list[ReceivedRequest]) -> dict[str, list[ExportedSpan]]:
    """Every span of every OTLP/HTTP export the receiver got, by trace id."""
    found: dict[str, list[ExportedSpan]] = {}
    for request in requests:
        if request.path != "/v1/traces":
            continue
        export = ExportTraceServiceRequest.FromString(request.body)
        for resource_spans in export.resource_spans:
            resource = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    found.setdefault(span.trace_id.hex(), []).append(
                        ExportedSpan(
                            resource["service.name"],
                            resource["bigschool.node"],
                            span.name,
                            span.kind,
                            span.span_id.hex(),
                            span.parent_span_id.hex(),
                        )
                    )
    return found


def test_an_enrollment_request_and_all_it_causes_on_both_nodes_form_one_trace(
    running_federation: RunningFederation,
) -> None:
    fed = running_federation
    [member] = new_members(fed.federation, 1, language="en")
    programme = fed.federation.publish_programme(SUPERIOR_NODE, "zj-hz", 3)
    pid = programme["programme_id"]
    fed.federation.admin(ENTERPRISE_NODE).wait_for(f"/programmes/{pid}", lambda body: True)

    trace_id, client_span = secrets.token_hex(16), secrets.token_hex(8)
    client = fed.federation.member_client(ENTERPRISE_NODE, member)
    response = client.http.post(
        "/enrollments",
        json={"programme_id": pid},
        headers={"traceparent": f"00-{trace_id}-{client_span}-01"},
    )
    assert response.status_code == 202, response.text
    client.wait_for(response.headers["location"], lambda body: body["status"] == "confirmed")

    def where(spans: list[ExportedSpan], service: str, node: str, prefix: str) -> bool:
        return any(
            s.service == service and s.node == node and s.name.startswith(prefix) for s in spans
        )

    def whole_trace() -> list[ExportedSpan] | None:
        spans = exported_spans(fed.otlp.requests).get(trace_id, [])
        ids = {s.span_id for s in spans} | {client_span}
        complete = (
            where(spans, "enrollment", ENTERPRISE_NODE, "POST /enrollments")
            and where(spans, "enrollment", ENTERPRISE_NODE, "publish ")
            and where(spans, "enrollment", SUPERIOR_NODE, "process bigschool.enrollment.requested.")
            and where(spans, "enrollment", SUPERIOR_NODE, "publish ")
            and where(
                spans, "enrollment", ENTERPRISE_NODE, "process bigschool.enrollment.confirmed."
            )
            and where(
                spans, "notifications", ENTERPRISE_NODE, "process bigschool.enrollment.confirmed."
            )
            and where(spans, "notifications", ENTERPRISE_NODE, "deliver email")
        )
        linked = all(s.parent_id in ids for s in spans)
        return spans if complete and linked else None

    spans = wait_until(whole_trace, timeout=90, what="the whole trace at the OTLP receiver")

    server = [
        s for s in spans if s.kind == SpanProto.SPAN_KIND_SERVER and s.parent_id == client_span
    ]
    assert [(s.service, s.node) for s in server] == [("enrollment", ENTERPRISE_NODE)]
    # Only what a client asked to sample leaves a service: the run's other requests and
    # events (not sampled, SAMPLED_TRACES_ONLY) sent the receiver nothing.
    assert set(exported_spans(fed.otlp.requests)) == {trace_id}

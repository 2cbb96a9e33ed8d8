"""deploy/k8s, each node's workloads as rendered by kustomize: what every pod is told and
mounts, how it is probed, bounded and disrupted, and whom its network policies let it reach.
(Rendering, schemas, Kafka and databases: test_kubernetes.py.)"""

from __future__ import annotations

import json
import re
from pathlib import PurePosixPath
from typing import Any

import pytest

from shared.orgs.signing import FederationKeys, node_of_kid
from tests.deploy import kube
from tests.deploy.kube import K8S_DIR, Manifest
from tests.deploy.test_kubernetes import (
    COLLECTOR,
    DNS,
    KAFKA_BROKERS,
    NODES,
    SERVICES,
    WORKLOAD_SETTINGS,
    deployments,
    env,
    pod_labels,
    policies_for,
    reachable,
    rendered,
)
from tests.deploy.test_manifests import NODE_SASL_MECHANISM, env_names, is_ours

WORKLOADS = [(node, workload) for node in NODES for workload in WORKLOAD_SETTINGS]
WORKLOAD_IDS = [f"{node}-{workload}" for node, workload in WORKLOADS]
SERVICE_PODS = [(node, service) for node in NODES for service in SERVICES]
SERVICE_IDS = [f"{node}-{service}" for node, service in SERVICE_PODS]
# Outside the cluster, reached by notifications only: SMTP, the SMS API and webhooks.
PRIVATE_RANGES = {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"}


def path_env_names(workload: str) -> set[str]:
    return env_names(WORKLOAD_SETTINGS[workload], only_paths=True)


def file_source(node: str, deployment: Manifest, path: str) -> tuple[str, str, str, Manifest]:
    """(kind, name, key, mount) of the ConfigMap or Secret key a file in the pod comes from."""
    file = PurePosixPath(path)
    container = kube.main_container(deployment)
    mounts = [m for m in container["volumeMounts"] if file.is_relative_to(m["mountPath"])]
    assert len(mounts) == 1, f"{path} is in {len(mounts)} mounts"
    (mount,) = mounts
    (volume,) = [v for v in kube.pod_spec(deployment)["volumes"] if v["name"] == mount["name"]]
    key = str(file.relative_to(mount["mountPath"]))
    if "secret" in volume:
        kind, name, source = "Secret", volume["secret"]["secretName"], volume["secret"]
    else:
        kind, name, source = "ConfigMap", volume["configMap"]["name"], volume["configMap"]
    paths = {item["path"]: item["key"] for item in source.get("items", [])}
    return kind, name, paths.get(key, key), mount


# -- what each workload is told -----------------------------------------------------------------
def test_every_bigschool_variable_named_under_deploy_k8s_is_a_settings_field() -> None:
    known = set().union(*(env_names(s) for s in WORKLOAD_SETTINGS.values()))
    files = [p for p in K8S_DIR.rglob("*") if p.suffix in {".yaml", ".env"}]
    named = {
        (name, p.name)
        for p in files
        for name in re.findall(r"\bBIGSCHOOL_[A-Z0-9_]+", p.read_text(encoding="utf-8"))
    }
    assert named
    assert not sorted(n for n in named if n[0] not in known), "not read by any settings class"


@pytest.mark.parametrize(("node", "workload"), WORKLOADS, ids=WORKLOAD_IDS)
def test_each_workload_is_given_only_variables_its_own_settings_read(
    node: str, workload: str
) -> None:
    ours = {name for name in env(node, workload) if is_ours(name)}
    assert ours and not ours - env_names(WORKLOAD_SETTINGS[workload])


@pytest.mark.parametrize(("node", "service"), SERVICE_PODS, ids=SERVICE_IDS)
def test_each_service_logs_in_to_kafka_as_its_node_over_tls_with_a_password_file(
    node: str, service: str
) -> None:
    seen = env(node, service)
    assert seen["KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
    assert seen["KAFKA_SASL_MECHANISM"] == NODE_SASL_MECHANISM
    assert seen["KAFKA_SASL_USERNAME"] == seen["BIGSCHOOL_NODE_ID"] == node
    assert seen["KAFKA_SASL_PASSWORD_FILE"] and seen["KAFKA_SSL_CAFILE"]
    assert "KAFKA_SASL_PASSWORD" not in seen, "a password in the environment"
    assert seen.get("BIGSCHOOL_JWT_JWKS_PATH") or seen.get("BIGSCHOOL_JWT_JWKS_URL")


@pytest.mark.parametrize(("node", "service"), SERVICE_PODS, ids=SERVICE_IDS)
def test_each_service_checks_org_events_against_the_federation_and_only_enrollment_signs(
    node: str, service: str
) -> None:
    seen = env(node, service)
    assert seen["BIGSCHOOL_FEDERATION_JWKS_PATH"]
    assert bool(seen.get("BIGSCHOOL_NODE_KEY_PATH")) == (service == "enrollment")
    if kid := seen.get("BIGSCHOOL_NODE_KEY_ID"):
        assert node_of_kid(kid) == node


@pytest.mark.parametrize("node", NODES)
def test_only_enrollment_mounts_the_node_signing_key(node: str) -> None:
    enrollment = deployments(node)["enrollment"]
    kind, key_secret, *_ = file_source(
        node, enrollment, env(node, "enrollment")["BIGSCHOOL_NODE_KEY_PATH"]
    )
    assert kind == "Secret"
    mounting = {
        workload
        for workload, d in deployments(node).items()
        if any(
            v.get("secret", {}).get("secretName") == key_secret
            for v in d["spec"]["template"]["spec"]["volumes"]
        )
    }
    assert mounting == {"enrollment"}


@pytest.mark.parametrize(("node", "workload"), WORKLOADS, ids=WORKLOAD_IDS)
def test_every_workload_uses_only_config_maps_and_secret_keys_that_exist(
    node: str, workload: str
) -> None:
    docs = rendered(node)
    clusters = kube.by_name(docs, "Cluster")
    for container in kube.all_containers(deployments(node)[workload]):
        for source in container.get("envFrom", []):
            assert source["configMapRef"]["name"] in kube.by_name(docs, "ConfigMap"), source
        for item in container.get("env", []):
            if ref := item.get("valueFrom", {}).get("secretKeyRef"):
                # CloudNativePG makes <cluster>-app for each Cluster, with the owner's password.
                made_by_cnpg = ref["name"].removesuffix("-app") in clusters
                assert made_by_cnpg or ref["key"] in kube.secret_keys(docs, ref["name"]), ref


@pytest.mark.parametrize(("node", "workload"), WORKLOADS, ids=WORKLOAD_IDS)
def test_every_workload_finds_every_file_it_is_told_of_in_a_read_only_mount(
    node: str, workload: str
) -> None:
    docs = rendered(node)
    deployment = deployments(node)[workload]
    told = {n: p for n, p in env(node, workload).items() if n in path_env_names(workload)}
    for variable, path in told.items():
        kind, name, key, mount = file_source(node, deployment, path)
        assert mount.get("readOnly") is True, variable
        assert "subPath" not in mount, variable  # subPath mounts never see an update
        source = (
            kube.secret_keys(docs, name)
            if kind == "Secret"
            else kube.by_name(docs, kind)[name]["data"]
        )
        assert key in source, (variable, kind, name, key)
        if variable in {"KAFKA_SASL_PASSWORD_FILE", "BIGSCHOOL_NODE_KEY_PATH"}:
            assert kind == "Secret", variable
    assert told or workload == "portal"


def test_the_federation_jwks_placeholder_is_a_jwks_the_services_can_read() -> None:
    node = NODES[0]
    path = env(node, "awards")["BIGSCHOOL_FEDERATION_JWKS_PATH"]
    kind, name, key, _ = file_source(node, deployments(node)["awards"], path)
    assert kind == "ConfigMap"
    FederationKeys.from_jwks(json.loads(kube.by_name(rendered(node), kind)[name]["data"][key]))


# -- how each workload runs ---------------------------------------------------------------------
@pytest.mark.parametrize(("node", "workload"), WORKLOADS, ids=WORKLOAD_IDS)
def test_every_container_has_cpu_and_memory_requests_and_limits(node: str, workload: str) -> None:
    for container in kube.all_containers(deployments(node)[workload]):
        resources = container["resources"]
        for bound in ("requests", "limits"):
            assert {"cpu", "memory"} <= set(resources[bound]), (container["name"], bound)


@pytest.mark.parametrize("node", NODES)
def test_every_database_cluster_has_cpu_and_memory_requests_and_limits(node: str) -> None:
    clusters = kube.of_kind(rendered(node), "Cluster")
    assert clusters
    for cluster in clusters:
        for bound in ("requests", "limits"):
            assert {"cpu", "memory"} <= set(cluster["spec"]["resources"][bound])


@pytest.mark.parametrize(("node", "workload"), WORKLOADS, ids=WORKLOAD_IDS)
def test_every_workload_is_ready_on_readyz_and_alive_on_healthz(node: str, workload: str) -> None:
    container = kube.main_container(deployments(node)[workload])
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    seen = env(node, workload)
    listening = int(seen.get("BIGSCHOOL_HTTP_PORT") or seen["BIGSCHOOL_PORTAL_HTTP_PORT"])
    for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")):
        get = container[probe]["httpGet"]
        assert get["path"] == path, probe
        assert ports.get(get["port"], get["port"]) == listening, probe


@pytest.mark.parametrize(("node", "workload"), WORKLOADS, ids=WORKLOAD_IDS)
def test_every_workload_runs_two_non_root_replicas_on_a_read_only_root_with_a_writable_tmp(
    node: str, workload: str
) -> None:
    deployment = deployments(node)[workload]
    pod = kube.pod_spec(deployment)
    assert deployment["spec"]["replicas"] == 2
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["automountServiceAccountToken"] is False
    for container in kube.all_containers(deployment):
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert container["securityContext"]["allowPrivilegeEscalation"] is False
        (tmp,) = [m for m in container["volumeMounts"] if m["mountPath"] == "/tmp"]
        assert "emptyDir" in next(v for v in pod["volumes"] if v["name"] == tmp["name"])


@pytest.mark.parametrize(("node", "service"), SERVICE_PODS, ids=SERVICE_IDS)
def test_every_service_is_scraped_by_prometheus_on_its_metrics_port(
    node: str, service: str
) -> None:
    annotations = deployments(node)[service]["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert annotations["prometheus.io/path"] == "/metrics"
    assert annotations["prometheus.io/port"] == env(node, service)["BIGSCHOOL_HTTP_PORT"]


@pytest.mark.parametrize(("node", "workload"), WORKLOADS, ids=WORKLOAD_IDS)
def test_every_deployment_has_a_service_a_disruption_budget_and_a_network_policy(
    node: str, workload: str
) -> None:
    deployment = deployments(node)[workload]
    labels = pod_labels(deployment)
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    docs = rendered(node)
    services = [
        s
        for s in kube.of_kind(docs, "Service")
        if kube.selects({"matchLabels": s["spec"]["selector"]}, labels)
    ]
    budgets = [
        b
        for b in kube.of_kind(docs, "PodDisruptionBudget")
        if kube.selects(b["spec"]["selector"], labels)
    ]
    assert len(services) == 1 and len(budgets) == 1, (len(services), len(budgets))
    port_names = {p["name"] for p in kube.main_container(deployment)["ports"]}
    assert {p["targetPort"] for p in services[0]["spec"]["ports"]} <= port_names
    assert budgets[0]["spec"]["minAvailable"] < deployment["spec"]["replicas"]
    # Selected for both directions: whatever no policy allows is refused.
    assert policies_for(node, labels, "Ingress") and policies_for(node, labels, "Egress")


# -- who may talk to whom -------------------------------------------------------------------------
def egress_peers(node: str, workload: str) -> set[Any]:
    return {p for p, _ in reachable(node, pod_labels(deployments(node)[workload]), "Egress")}


@pytest.mark.parametrize(("node", "service"), SERVICE_PODS, ids=SERVICE_IDS)
def test_a_service_reaches_only_its_database_the_brokers_the_collector_and_dns(
    node: str, service: str
) -> None:
    allowed = reachable(node, pod_labels(deployments(node)[service]), "Egress")
    own_database = ((None, (("cnpg.io/cluster", f"{service}-db"),)), 5432)
    inside = {
        own_database,
        (KAFKA_BROKERS, 9093),
        (COLLECTOR, 4317),
        (COLLECTOR, 4318),
        (DNS, 53),
    }
    assert inside <= allowed
    outside = {(p, port) for p, port in allowed - inside}
    # Beyond those: the token issuer's keys over HTTPS, and (notifications only) mail,
    # SMS and webhooks, all on addresses outside the cluster's private ranges.
    assert {port for _, port in outside} <= ({443, 587} if service == "notifications" else {443})
    for (kind, cidr), _ in outside:
        assert kind == "ipBlock" and cidr not in PRIVATE_RANGES, cidr


@pytest.mark.parametrize("node", NODES)
def test_a_database_accepts_connections_only_from_its_own_service(node: str) -> None:
    for service in SERVICES:
        labels = {"cnpg.io/cluster": f"{service}-db"}
        on_5432 = {p for p, port in reachable(node, labels, "Ingress") if port == 5432}
        assert on_5432 == {
            (None, (("app.kubernetes.io/name", service),)),
            (None, (("cnpg.io/cluster", f"{service}-db"),)),  # its own standby
        }
        for other in SERVICES:
            if other != service:
                assert (None, tuple(labels.items())) not in egress_peers(node, other), other


@pytest.mark.parametrize(("node", "service"), SERVICE_PODS, ids=SERVICE_IDS)
def test_a_service_accepts_requests_only_from_the_portal_the_ingress_and_prometheus(
    node: str, service: str
) -> None:
    allowed = reachable(node, pod_labels(deployments(node)[service]), "Ingress")
    assert allowed == {
        ((None, (("app.kubernetes.io/name", "portal"),)), "http"),
        (("ingress-nginx", ()), "http"),
        (("monitoring", ()), "http"),
    }


@pytest.mark.parametrize("node", NODES)
def test_the_portal_reaches_the_three_services_and_nothing_else_in_the_cluster(node: str) -> None:
    peers = egress_peers(node, "portal")
    service_pods = [
        p for p in peers if p[0] is None and any(all(s in part for s in SERVICES) for part in p[1])
    ]
    assert len(service_pods) == 1
    assert peers - set(service_pods) == {COLLECTOR, DNS}

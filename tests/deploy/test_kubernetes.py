"""deploy/k8s: a kustomize base, one overlay per node of the demo federation and the
federation's Strimzi resources, rendered by real kustomize.

Every rendered manifest validates against the Kubernetes API schemas (kubernetes-validate,
strict) or its CRD's published schema (tests/deploy/crds); then what the manifests must mean:
each node runs each service as its own Kafka principal on its own database, migrated before
it starts; every container is bounded; every Deployment has a disruption budget and a
network policy; the Kafka users' ACLs and the topics are what provisioning creates; the
overlays differ only in what differs per node.
"""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from pydantic_settings import BaseSettings

from deploy.k8s import migrate, strimzi
from deploy.local.federation import ENTERPRISE_NODE, SECOND_ENTERPRISE_NODE, SUPERIOR_NODE
from portal.settings import PortalSettings
from shared.kafka.provision import federation_topics, node_grants
from shared.orgs.signing import node_of_kid
from tests.deploy import kube
from tests.deploy.kube import K8S_DIR, Manifest
from tests.deploy.test_manifests import SETTINGS

NODES = (SUPERIOR_NODE, ENTERPRISE_NODE, SECOND_ENTERPRISE_NODE)
OVERLAYS = {node: K8S_DIR / "overlays" / node for node in NODES}
KAFKA = K8S_DIR / "kafka"
RENDERS = {**{f"overlays/{n}": p for n, p in OVERLAYS.items()}, "kafka": KAFKA}
SERVICES = tuple(SETTINGS)  # enrollment, awards, notifications
WORKLOAD_SETTINGS: dict[str, type[BaseSettings]] = {**SETTINGS, "portal": PortalSettings}
# What provisioning is run with in production (README.md, "Kafka").
PARTITIONS, REPLICAS = 6, 3
# Cluster-wide peers a service may reach (NetworkPolicy `to` entries, as (namespace, pods)).
KAFKA_BROKERS = ("kafka", (("strimzi.io/cluster", "bigschool"), ("strimzi.io/kind", "Kafka")))
COLLECTOR = ("observability", (("app.kubernetes.io/name", "otel-collector"),))
DNS = ("kube-system", (("k8s-app", "kube-dns"),))


def rendered(node: str) -> list[Manifest]:
    return kube.render(OVERLAYS[node])


def deployments(node: str) -> dict[str, Manifest]:
    """Deployments by the workload they run (SERVICE)."""
    docs = rendered(node)
    return {
        kube.container_env(docs, kube.main_container(d))["SERVICE"]: d
        for d in kube.of_kind(docs, "Deployment")
    }


def env(node: str, workload: str) -> dict[str, str]:
    return kube.container_env(rendered(node), kube.main_container(deployments(node)[workload]))


def pod_labels(deployment: Manifest) -> dict[str, str]:
    labels: dict[str, str] = deployment["spec"]["template"]["metadata"]["labels"]
    return labels


def peer(entry: dict[str, Any]) -> Any:
    """A NetworkPolicy peer as (namespace or None for its own, sorted pod labels) or a CIDR."""
    if "ipBlock" in entry:
        return ("ipBlock", entry["ipBlock"]["cidr"])
    namespace = entry.get("namespaceSelector", {}).get("matchLabels", {})
    pods = entry.get("podSelector", {})
    labels = tuple(sorted(pods.get("matchLabels", {}).items()))
    if pods.get("matchExpressions"):
        labels += tuple(json.dumps(e, sort_keys=True) for e in pods["matchExpressions"])
    return (namespace.get("kubernetes.io/metadata.name"), labels)


def policies_for(node: str, labels: dict[str, str], direction: str) -> list[Manifest]:
    return [
        p
        for p in kube.of_kind(rendered(node), "NetworkPolicy")
        if kube.selects(p["spec"]["podSelector"], labels) and direction in p["spec"]["policyTypes"]
    ]


def reachable(node: str, labels: dict[str, str], direction: str) -> set[tuple[Any, Any]]:
    """(peer, port) pairs the policies selecting these pods allow, out ("Egress") or in."""
    key, side = ("egress", "to") if direction == "Egress" else ("ingress", "from")
    pairs = set()
    for policy in policies_for(node, labels, direction):
        for rule in policy["spec"].get(key, []):
            for entry in rule[side]:
                for port in rule["ports"]:
                    pairs.add((peer(entry), port["port"]))
    return pairs


# -- rendering and schemas -----------------------------------------------------------------
def test_there_is_one_overlay_per_node_of_the_demo_federation() -> None:
    found = {p.parent.name for p in (K8S_DIR / "overlays").glob("*/kustomization.yaml")}
    assert found == set(NODES)


@pytest.mark.parametrize("name", RENDERS)
def test_every_rendered_manifest_validates_against_the_api_or_its_crd_schema(name: str) -> None:
    docs = kube.render(RENDERS[name])
    assert docs
    errors = [error for doc in docs for error in kube.schema_errors(doc)]
    assert not errors, "\n".join(errors)


@pytest.mark.parametrize(
    ("doc", "fault"),
    [
        ({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x"},
          "spec": {"replicas": "two"}}, "replicas"),
        ({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "x"},
          "spec": {"portz": []}}, "portz"),
        ({"apiVersion": "kafka.strimzi.io/v1", "kind": "KafkaUser", "metadata": {"name": "x"},
          "spec": {"authorization": {"type": "simple", "acls": [
              {"resource": {"type": "topic", "name": "t"}, "operations": ["Reed"]}]}}},
         "Reed"),
        ({"apiVersion": "postgresql.cnpg.io/v1", "kind": "Cluster", "metadata": {"name": "x"},
          "spec": {"instances": 2, "storage": {"size": "1Gi"}, "replicas": 2}}, "replicas"),
        ({"apiVersion": "example.org/v1", "kind": "Unknown", "metadata": {"name": "x"}},
         "no schema"),
    ],
    ids=["wrong-type", "unknown-field", "crd-enum", "crd-unknown-field", "unknown-kind"],
)  # fmt: skip
def test_the_schema_check_refuses_a_broken_manifest(doc: Manifest, fault: str) -> None:
    errors = list(kube.schema_errors(doc))
    assert errors and fault in " ".join(errors), errors


def is_custom(api_version: str) -> bool:
    """Not a Kubernetes API group (core, apps, policy, *.k8s.io): an operator's CRD."""
    group = api_version.rpartition("/")[0]
    return "." in group and not group.endswith(".k8s.io")


def test_the_crd_schemas_cover_every_custom_kind_the_manifests_use() -> None:
    used = {
        (doc["apiVersion"], doc["kind"])
        for path in RENDERS.values()
        for doc in kube.render(path)
        if is_custom(doc["apiVersion"])
    }
    assert {("postgresql.cnpg.io/v1", "Cluster"), ("kafka.strimzi.io/v1", "KafkaUser")} <= used
    assert used <= set(kube.crd_schemas())


# -- what differs per node -----------------------------------------------------------------
def normalized(node: str) -> str:
    text = kube.GENERATED_NAME.sub(r"\1", kube.render_text(OVERLAYS[node]))
    return re.sub(rf"(?<![a-z0-9]){re.escape(node)}(?![a-z0-9])", "<node>", text)


def test_the_overlays_differ_only_in_what_must_differ_per_node() -> None:
    first, *others = NODES
    for node in others:
        assert normalized(node) == normalized(first), node


@pytest.mark.parametrize("node", NODES)
def test_each_overlay_names_its_node_everywhere_it_is_needed(node: str) -> None:
    docs = rendered(node)
    namespaces = [d for d in docs if d["kind"] == "Namespace"]
    assert [n["metadata"]["name"] for n in namespaces] == [f"bigschool-{node}"]
    assert {d["metadata"].get("namespace") for d in docs if d["kind"] != "Namespace"} == {
        f"bigschool-{node}"
    }
    for service in SERVICES:
        seen = env(node, service)
        assert seen["BIGSCHOOL_NODE_ID"] == seen["BIGSCHOOL_ROOT_ORG"] == node, service
        assert seen["KAFKA_SASL_USERNAME"] == node, service
    assert node_of_kid(env(node, "enrollment")["BIGSCHOOL_NODE_KEY_ID"]) == node
    assert env(node, "portal")["BIGSCHOOL_PORTAL_NODE_ID"] == node
    # Every setting the base leaves open is filled in; the Secrets and the federation's
    # published files are placeholders by design (the operator's stores provide them).
    settings = {
        f"{c['metadata']['name']}/{key}": value
        for c in kube.of_kind(docs, "ConfigMap")
        if c["metadata"]["name"] != "bigschool-federation"
        for key, value in c["data"].items()
    }
    assert settings and not [key for key, value in settings.items() if "CHANGE-ME" in value]


# -- Kafka: the same topics, users and ACLs as provisioning ----------------------------------
def kafka_docs(kind: str) -> list[Manifest]:
    return kube.of_kind(kube.render(KAFKA), kind)


def test_the_kafka_resources_belong_to_the_federations_strimzi_cluster() -> None:
    for doc in kube.render(KAFKA):
        assert doc["metadata"]["namespace"] == "kafka", doc["metadata"]["name"]
        assert doc["metadata"]["labels"]["strimzi.io/cluster"] == "bigschool"


def test_there_is_a_kafka_topic_for_every_topic_provisioning_creates_with_its_layout() -> None:
    expected = {
        spec.name: (spec.partitions, REPLICAS, spec.config())
        for spec in federation_topics(NODES, PARTITIONS)
    }
    topics = {
        t["metadata"]["name"]: (t["spec"]["partitions"], t["spec"]["replicas"], t["spec"]["config"])
        for t in kafka_docs("KafkaTopic")
    }
    assert topics == expected


def test_each_nodes_kafka_user_is_granted_exactly_what_provisioning_grants_it() -> None:
    users = {u["metadata"]["name"]: u["spec"] for u in kafka_docs("KafkaUser")}
    assert set(users) == set(NODES)
    for node, spec in users.items():
        assert spec["authentication"] == {"type": "scram-sha-512"}
        granted = [
            (r["resource"]["type"], r["resource"]["name"], r["resource"]["patternType"], op)
            for r in spec["authorization"]["acls"]
            for op in r["operations"]
        ]
        assert {(r["type"], r["host"]) for r in spec["authorization"]["acls"]} == {("allow", "*")}
        provisioned = [
            (
                g.resource.name.lower(),
                g.name,
                {"LITERAL": "literal", "PREFIXED": "prefix"}[g.pattern.name],
                g.operation.name.capitalize(),
            )
            for g in node_grants(node, NODES)
        ]
        assert sorted(granted) == sorted(provisioned), node


def test_every_node_logs_in_to_kafka_as_a_user_the_kafka_resources_declare() -> None:
    users = {u["metadata"]["name"] for u in kafka_docs("KafkaUser")}
    for node in NODES:
        assert {env(node, s)["KAFKA_SASL_USERNAME"] for s in SERVICES} <= users


def test_the_generated_kafka_files_are_what_the_generator_writes_now() -> None:
    for name, documents in (
        ("topics.yaml", strimzi.topics_documents(NODES, PARTITIONS, REPLICAS)),
        ("users.yaml", strimzi.users_documents(NODES)),
    ):
        committed = list(yaml.safe_load_all((KAFKA / name).read_text(encoding="utf-8")))
        assert committed == documents, f"{name} is stale: run python -m deploy.k8s.strimzi"


def test_the_kafka_generator_refuses_a_bad_node_id(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exit_info:
        strimzi.main(["--nodes", "Bad_Node", "--out", str(tmp_path)])
    assert exit_info.value.code == 2
    assert not list(tmp_path.iterdir())


# -- databases and migrations -----------------------------------------------------------------
@pytest.mark.parametrize("node", NODES)
def test_each_service_uses_its_own_cloudnativepg_cluster_and_login(node: str) -> None:
    clusters = kube.by_name(rendered(node), "Cluster")
    used = set()
    for service in SERVICES:
        url = urlsplit(env(node, service)["BIGSCHOOL_DATABASE_URL"])
        assert url.scheme == "postgresql+asyncpg" and "ssl=require" in url.query, service
        cluster_name = url.hostname.removesuffix("-rw") if url.hostname else ""
        initdb = clusters[cluster_name]["spec"]["bootstrap"]["initdb"]
        assert (url.username, url.path.lstrip("/")) == (initdb["owner"], initdb["database"])
        # The password is the owner's, from the Secret CloudNativePG makes for the cluster.
        assert url.password == "$(DATABASE_PASSWORD)", service
        assert env(node, service)["DATABASE_PASSWORD"] == f"{cluster_name}-app/password"
        # Kubernetes expands $(VAR) only from variables defined earlier in the list.
        for container in kube.all_containers(deployments(node)[service]):
            names = [item["name"] for item in container["env"]]
            assert names.index("DATABASE_PASSWORD") < names.index("BIGSCHOOL_DATABASE_URL")
        used.add(cluster_name)
    assert used == set(clusters) and len(used) == len(SERVICES)


@pytest.mark.parametrize("node", NODES)
def test_every_service_pod_migrates_its_database_before_the_service_starts(node: str) -> None:
    docs = rendered(node)
    for service in SERVICES:
        deployment = deployments(node)[service]
        (init,) = kube.pod_spec(deployment)["initContainers"]
        main = kube.main_container(deployment)
        assert init["command"] == ["python", "-m", "deploy.k8s.migrate", service]
        assert init["image"] == main["image"]
        init_url = kube.container_env(docs, init)["BIGSCHOOL_DATABASE_URL"]
        assert init_url == env(node, service)["BIGSCHOOL_DATABASE_URL"]
        # Migrated already: the service itself must not race its siblings to do it again.
        assert env(node, service)["BIGSCHOOL_MIGRATE_ON_START"] == "false"


def test_the_migrate_command_brings_a_database_to_head_and_can_run_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = tmp_path / "awards.db"
    monkeypatch.setenv("BIGSCHOOL_DATABASE_URL", f"sqlite+aiosqlite:///{database}")
    assert migrate.main(["awards"]) == 0
    assert migrate.main(["awards"]) == 0
    with sqlite3.connect(database) as connection:
        (revision,) = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    assert revision and "outbox" in tables


def test_the_migrate_command_refuses_to_guess_the_database(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BIGSCHOOL_DATABASE_URL", raising=False)
    with pytest.raises(SystemExit) as exit_info:
        migrate.main(["awards"])
    assert exit_info.value.code == 2

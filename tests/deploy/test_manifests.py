"""The deployment files agree with the code: deploy/compose, deploy/k8s and the Dockerfile.

Plain parsing, no Docker engine or cluster. Every BIGSCHOOL_* variable the files name is
one the services' settings read (a typo would be silently ignored: ``extra="ignore"``),
every probe hits the real endpoints, each node runs each service once.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from pydantic_settings import BaseSettings

from awards.settings import AwardsSettings
from enrollment.settings import EnrollmentSettings
from notifications.settings import NotificationsSettings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_DIR = ROOT / "deploy" / "compose"
COMPOSE_FILE = COMPOSE_DIR / "compose.yaml"
K8S_DIR = ROOT / "deploy" / "k8s"
KUSTOMIZATION = K8S_DIR / "kustomization.yaml"
DOCKERFILE = ROOT / "Dockerfile"

SETTINGS: dict[str, type[BaseSettings]] = {
    "enrollment": EnrollmentSettings,
    "awards": AwardsSettings,
    "notifications": NotificationsSettings,
}
COMPOSE_NODES = {"zj": "zj", "hzsteel": "hzsteel"}  # node id -> root org
COMPOSE_PORT_BASE = {"zj": 8100, "hzsteel": 8200}  # + 1, 2, 3 in SETTINGS order
K8S_NODE = "hzsteel"
# Real fields that no deployment may set: `service` names the settings class itself.
FIXED_FIELDS = {"service"}


# -- what the settings read ---------------------------------------------------------------
def env_names(settings: type[BaseSettings]) -> set[str]:
    """Variable names pydantic-settings reads: the alias if a field has one, else prefix+name;
    a field that is itself a settings class (the KAFKA_* connection) reads its own names."""
    prefix = settings.model_config.get("env_prefix", "")
    names = set()
    for name, field in settings.model_fields.items():
        if name in FIXED_FIELDS:
            continue
        nested = field.annotation
        if isinstance(nested, type) and issubclass(nested, BaseSettings):
            names |= env_names(nested)
            continue
        alias = field.validation_alias or field.alias
        assert alias is None or isinstance(alias, str), f"{name}: alias kind not handled"
        names.add((alias or prefix + name).upper())
    return names


ALL_ENV_NAMES = set().union(*(env_names(s) for s in SETTINGS.values()))


def is_ours(name: str) -> bool:
    return name.startswith(("BIGSCHOOL_", "KAFKA_"))


# -- reading the files --------------------------------------------------------------------
def yaml_files() -> list[Path]:
    return sorted(
        p for d in (COMPOSE_DIR, K8S_DIR) for p in d.rglob("*") if p.suffix in {".yaml", ".yml"}
    )


def load(path: Path) -> list[Any]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc is not None]


def compose() -> dict[str, Any]:
    return load(COMPOSE_FILE)[0]


def compose_apps() -> dict[str, dict[str, Any]]:
    """The Big School containers: the compose services built from the Dockerfile."""
    return {name: svc for name, svc in compose()["services"].items() if "build" in svc}


def compose_env(svc: dict[str, Any]) -> dict[str, str]:
    env = svc.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.partition("=")[::2] for item in env)
    return {key: str(value) for key, value in env.items()}


def compose_service_of(svc: dict[str, Any]) -> str:
    return svc["build"]["args"]["SERVICE"]


def host_ports(svc: dict[str, Any]) -> list[tuple[int, int]]:
    """(published, target) for each port, in short ("8101:8000") or long syntax."""
    pairs = []
    for port in svc.get("ports", []):
        if isinstance(port, dict):
            pairs.append((int(port["published"]), int(port["target"])))
        else:
            *_, published, target = str(port).split(":")
            pairs.append((int(published), int(target.split("/")[0])))
    return pairs


def k8s_docs() -> list[dict[str, Any]]:
    return [doc for path in yaml_files() if path.parent == K8S_DIR for doc in load(path)]


def k8s(kind: str) -> list[dict[str, Any]]:
    return [doc for doc in k8s_docs() if doc.get("kind") == kind]


def named(kind: str) -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc for doc in k8s(kind)}


def secret_keys(name: str) -> dict[str, str]:
    secret = named("Secret").get(name, {})
    return {**secret.get("data", {}), **secret.get("stringData", {})}


def container(deployment: dict[str, Any]) -> dict[str, Any]:
    (only,) = deployment["spec"]["template"]["spec"]["containers"]
    return only


def deployment_env(deployment: dict[str, Any]) -> dict[str, str]:
    """What the container's environment holds: envFrom sources, then env entries. A missing
    ConfigMap or Secret key is left out here; a test of its own names it."""
    spec = container(deployment)
    env: dict[str, str] = {}
    for source in spec.get("envFrom", []):
        if "configMapRef" in source:
            env.update(named("ConfigMap").get(source["configMapRef"]["name"], {}).get("data", {}))
        else:
            env.update(secret_keys(source["secretRef"]["name"]))
    for item in spec.get("env", []):
        if ref := item.get("valueFrom", {}).get("secretKeyRef"):
            if ref["key"] in secret_keys(ref["name"]):
                env[item["name"]] = secret_keys(ref["name"])[ref["key"]]
        else:
            env[item["name"]] = str(item["value"])
    return {key: str(value) for key, value in env.items()}


def k8s_service_of(deployment: dict[str, Any]) -> str:
    return deployment_env(deployment)["SERVICE"]


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    instructions, current = [], ""
    for line in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        if text.endswith("\\"):
            current += text[:-1] + " "
            continue
        keyword, _, rest = (current + text).partition(" ")
        instructions.append((keyword.upper(), rest.strip()))
        current = ""
    return instructions


# Each deployed service with where it runs and what its environment holds.
DEPLOYED = [
    (f"compose:{name}", compose_service_of(svc), compose_env(svc))
    for name, svc in compose_apps().items()
] + [
    (f"k8s:{d['metadata']['name']}", k8s_service_of(d), deployment_env(d))
    for d in k8s("Deployment")
]
DEPLOYED_IDS = [label for label, *_ in DEPLOYED]
DEPLOYMENTS = k8s("Deployment")
DEPLOYMENT_IDS = [d["metadata"]["name"] for d in DEPLOYMENTS]


# -- every file ---------------------------------------------------------------------------
def test_the_deploy_folders_hold_the_compose_file_and_the_kustomization() -> None:
    assert COMPOSE_FILE in yaml_files()
    assert KUSTOMIZATION in yaml_files()


@pytest.mark.parametrize("path", yaml_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_yaml_file_under_deploy_parses_into_mappings(path: Path) -> None:
    docs = load(path)
    assert docs, "no document"
    assert all(isinstance(doc, dict) for doc in docs)
    if path.parent == K8S_DIR:
        for doc in docs:
            assert doc.get("apiVersion") and doc.get("kind"), doc
            assert doc["kind"] == "Kustomization" or doc["metadata"]["name"]


def test_every_bigschool_variable_named_in_a_manifest_is_a_settings_field() -> None:
    assert "KAFKA_BOOTSTRAP_SERVERS" in ALL_ENV_NAMES  # the aliased field is derived too
    named_in_files = {
        (name, str(path.relative_to(ROOT)))
        for path in yaml_files()
        for name in re.findall(r"\bBIGSCHOOL_[A-Z0-9_]+", path.read_text(encoding="utf-8"))
    }
    assert named_in_files
    unknown = sorted((name, where) for name, where in named_in_files if name not in ALL_ENV_NAMES)
    assert not unknown, f"not read by any settings class: {unknown}"


@pytest.mark.parametrize(("label", "service", "env"), DEPLOYED, ids=DEPLOYED_IDS)
def test_each_service_is_given_only_variables_its_own_settings_read(
    label: str, service: str, env: dict[str, str]
) -> None:
    ours = {name for name in env if is_ours(name)}
    assert not ours - env_names(SETTINGS[service]), f"{label} ({service}) ignores these"


@pytest.mark.parametrize(("label", "service", "env"), DEPLOYED, ids=DEPLOYED_IDS)
def test_each_service_is_told_its_node_database_kafka_and_token_keys(
    label: str, service: str, env: dict[str, str]
) -> None:
    # Left out, each of these falls back to a default that only suits a laptop.
    for name in ("BIGSCHOOL_NODE_ID", "BIGSCHOOL_ROOT_ORG", "KAFKA_BOOTSTRAP_SERVERS"):
        assert env.get(name), f"{label}: {name} missing"
    assert env["BIGSCHOOL_DATABASE_URL"].startswith("postgresql+asyncpg://"), label
    assert env.get("BIGSCHOOL_JWT_JWKS_PATH") or env.get("BIGSCHOOL_JWT_JWKS_URL"), label
    if service == "notifications":
        assert env.get("BIGSCHOOL_SMTP_HOST"), label


# -- compose ------------------------------------------------------------------------------
def test_compose_runs_each_service_of_each_node_exactly_once_from_the_root_dockerfile() -> None:
    apps = compose_apps()
    runs = Counter(
        (compose_env(s)["BIGSCHOOL_NODE_ID"], compose_service_of(s)) for s in apps.values()
    )
    assert runs == Counter({(node, service): 1 for node in COMPOSE_NODES for service in SETTINGS})
    for name, svc in apps.items():
        env = compose_env(svc)
        assert env["BIGSCHOOL_ROOT_ORG"] == COMPOSE_NODES[env["BIGSCHOOL_NODE_ID"]], name
        assert (COMPOSE_DIR / svc["build"]["context"]).resolve() == ROOT, name
        assert svc["build"].get("dockerfile", "Dockerfile") == "Dockerfile", name


def test_compose_publishes_every_service_on_its_own_host_port() -> None:
    published = [p for svc in compose()["services"].values() for p, _ in host_ports(svc)]
    assert len(published) == len(set(published)), sorted(published)
    for name, svc in compose_apps().items():
        env = compose_env(svc)
        node, service = env["BIGSCHOOL_NODE_ID"], compose_service_of(svc)
        expected = COMPOSE_PORT_BASE[node] + list(SETTINGS).index(service) + 1
        assert host_ports(svc) == [(expected, int(env["BIGSCHOOL_HTTP_PORT"]))], name


def test_compose_gives_each_service_of_each_node_a_database_the_init_script_creates() -> None:
    urls = [compose_env(s)["BIGSCHOOL_DATABASE_URL"] for s in compose_apps().values()]
    databases = [urlsplit(url).path.lstrip("/") for url in urls]
    assert len(databases) == len(set(databases)), databases
    sql = "\n".join(p.read_text(encoding="utf-8") for p in (COMPOSE_DIR / "initdb").glob("*.sql"))
    created = set(re.findall(r"CREATE DATABASE\s+(\w+)", sql, flags=re.IGNORECASE))
    assert set(databases) <= created
    mounts = [str(v) for v in compose()["services"]["postgres"]["volumes"]]
    assert any(m.startswith("./initdb:/docker-entrypoint-initdb.d") for m in mounts), mounts


def test_compose_calls_a_service_healthy_only_when_its_readyz_answers() -> None:
    for name, svc in compose_apps().items():
        check = " ".join(svc["healthcheck"]["test"])
        port = compose_env(svc)["BIGSCHOOL_HTTP_PORT"]
        assert f"127.0.0.1:{port}/readyz" in check, name


def test_compose_starts_a_service_only_after_the_servers_it_needs_are_healthy() -> None:
    services = compose()["services"]
    for name, svc in compose_apps().items():
        env = compose_env(svc)
        needs = {"kafka", "postgres"}
        if smtp := env.get("BIGSCHOOL_SMTP_HOST"):
            needs.add(smtp)
        depends = svc["depends_on"]
        assert needs <= set(depends), name
        for server in needs:
            assert depends[server]["condition"] == "service_healthy", (name, server)
            assert services[server].get("healthcheck"), server


def test_compose_services_find_the_token_keys_in_what_they_mount() -> None:
    for name, svc in compose_apps().items():
        jwks = Path(compose_env(svc)["BIGSCHOOL_JWT_JWKS_PATH"])
        targets = [v["target"] if isinstance(v, dict) else v.split(":")[1] for v in svc["volumes"]]
        assert any(jwks.is_relative_to(t) for t in targets), (name, jwks, targets)


# -- Kubernetes ---------------------------------------------------------------------------
def test_the_kustomization_lists_every_manifest_in_the_folder() -> None:
    (kustomization,) = load(KUSTOMIZATION)
    manifests = {p.name for p in yaml_files() if p.parent == K8S_DIR and p != KUSTOMIZATION}
    assert set(kustomization["resources"]) == manifests


def test_kubernetes_runs_one_deployment_per_service_of_its_node() -> None:
    assert sorted(k8s_service_of(d) for d in DEPLOYMENTS) == sorted(SETTINGS)
    assert {deployment_env(d)["BIGSCHOOL_NODE_ID"] for d in DEPLOYMENTS} == {K8S_NODE}
    assert {deployment_env(d)["BIGSCHOOL_ROOT_ORG"] for d in DEPLOYMENTS} == {K8S_NODE}


@pytest.mark.parametrize("deployment", DEPLOYMENTS, ids=DEPLOYMENT_IDS)
def test_every_deployment_is_ready_on_readyz_and_alive_on_healthz(
    deployment: dict[str, Any],
) -> None:
    spec = container(deployment)
    ports = {p.get("name"): p["containerPort"] for p in spec["ports"]}
    listening = int(deployment_env(deployment)["BIGSCHOOL_HTTP_PORT"])
    for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")):
        get = spec[probe]["httpGet"]
        assert get["path"] == path, probe
        assert ports.get(get["port"], get["port"]) == listening, probe


@pytest.mark.parametrize("deployment", DEPLOYMENTS, ids=DEPLOYMENT_IDS)
def test_every_deployment_uses_only_config_maps_and_secret_keys_that_exist(
    deployment: dict[str, Any],
) -> None:
    spec = container(deployment)
    for source in spec.get("envFrom", []):
        if "configMapRef" in source:
            assert source["configMapRef"]["name"] in named("ConfigMap"), source
        else:
            assert source["secretRef"]["name"] in named("Secret"), source
    for item in spec.get("env", []):
        if ref := item.get("valueFrom", {}).get("secretKeyRef"):
            assert ref["key"] in secret_keys(ref["name"]), ref


@pytest.mark.parametrize("deployment", DEPLOYMENTS, ids=DEPLOYMENT_IDS)
def test_every_deployment_runs_two_non_root_replicas_on_a_read_only_root_with_a_writable_tmp(
    deployment: dict[str, Any],
) -> None:
    pod = deployment["spec"]["template"]["spec"]
    spec = container(deployment)
    assert deployment["spec"]["replicas"] == 2
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert spec["securityContext"]["readOnlyRootFilesystem"] is True
    assert spec["securityContext"]["allowPrivilegeEscalation"] is False
    (tmp,) = [m for m in spec["volumeMounts"] if m["mountPath"] == "/tmp"]
    assert "emptyDir" in next(v for v in pod["volumes"] if v["name"] == tmp["name"])
    assert {"cpu", "memory"} <= set(spec["resources"]["requests"])
    assert "memory" in spec["resources"]["limits"]


@pytest.mark.parametrize("deployment", DEPLOYMENTS, ids=DEPLOYMENT_IDS)
def test_every_deployment_is_scraped_by_prometheus_on_its_metrics_port(
    deployment: dict[str, Any],
) -> None:
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert annotations["prometheus.io/path"] == "/metrics"
    assert annotations["prometheus.io/port"] == deployment_env(deployment)["BIGSCHOOL_HTTP_PORT"]


@pytest.mark.parametrize("deployment", DEPLOYMENTS, ids=DEPLOYMENT_IDS)
def test_every_deployment_has_a_service_and_a_disruption_budget_selecting_its_pods(
    deployment: dict[str, Any],
) -> None:
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()

    def selects(selector: dict[str, str]) -> bool:
        return bool(selector) and selector.items() <= labels.items()

    services = [s for s in k8s("Service") if selects(s["spec"]["selector"])]
    budgets = [
        b for b in k8s("PodDisruptionBudget") if selects(b["spec"]["selector"]["matchLabels"])
    ]
    assert len(services) == 1 and len(budgets) == 1, (len(services), len(budgets))
    port_names = {p.get("name") for p in container(deployment)["ports"]}
    assert {p["targetPort"] for p in services[0]["spec"]["ports"]} <= port_names
    assert budgets[0]["spec"]["minAvailable"] < deployment["spec"]["replicas"]


# -- Dockerfile ---------------------------------------------------------------------------
def test_the_dockerfile_cmd_runs_python_m_the_service_argument() -> None:
    instructions = dockerfile()
    (_, cmd), *_ = [i for i in reversed(instructions) if i[0] == "CMD"]
    command = " ".join(json.loads(cmd)) if cmd.startswith("[") else cmd
    assert re.search(r'\bpython -m "?\$\{?SERVICE\b', command), command
    assert ("ARG", 'SERVICE=""') in instructions or ("ARG", "SERVICE") in instructions
    assert ("ENV", "SERVICE=${SERVICE}") in instructions


def test_the_image_listens_on_every_interface_as_a_non_root_user_and_checks_healthz() -> None:
    instructions = dockerfile()
    assert instructions[0] == ("FROM", "python:3.11-slim")
    envs = " ".join(rest for keyword, rest in instructions if keyword == "ENV")
    assert "BIGSCHOOL_HTTP_HOST=0.0.0.0" in envs.split()
    (user,) = [rest for keyword, rest in instructions if keyword == "USER"]
    assert user.split(":")[0] not in {"0", "root"}
    (check,) = [rest for keyword, rest in instructions if keyword == "HEALTHCHECK"]
    assert "urllib" in check and "/healthz" in check

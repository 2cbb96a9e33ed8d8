"""The deployment files agree with the code: deploy/compose and the Dockerfile (deploy/k8s:
test_kubernetes.py, which uses the helpers here).

Plain parsing, no Docker engine or cluster. Every BIGSCHOOL_* variable the files name is
one the services' settings read (a typo would be silently ignored: ``extra="ignore"``),
every probe hits the real endpoints, each node runs each service once, logs in to Kafka as
its own principal and finds every file it is told of in what it mounts.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path, PurePosixPath
from typing import Any, get_args
from urllib.parse import urlsplit

import pytest
import yaml
from pydantic_settings import BaseSettings

from awards.settings import AwardsSettings
from deploy.local.kafka import server_properties
from enrollment.settings import EnrollmentSettings
from notifications.settings import NotificationsSettings
from shared.kafka.connection import KafkaSettings
from shared.orgs.signing import node_of_kid

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_DIR = ROOT / "deploy" / "compose"
COMPOSE_FILE = COMPOSE_DIR / "compose.yaml"
DOCKERFILE = ROOT / "Dockerfile"

SETTINGS: dict[str, type[BaseSettings]] = {
    "enrollment": EnrollmentSettings,
    "awards": AwardsSettings,
    "notifications": NotificationsSettings,
}
COMPOSE_NODES = {"zj": "zj", "hzsteel": "hzsteel"}  # node id -> root org
COMPOSE_PORT_BASE = {"zj": 8100, "hzsteel": 8200}  # + 1, 2, 3 in SETTINGS order
# Real fields that no deployment may set: `service` names the settings class itself.
FIXED_FIELDS = {"service"}
# The mechanism of the node principals `python -m shared.kafka.provision` creates.
NODE_SASL_MECHANISM = "SCRAM-SHA-512"


# -- what the settings read ---------------------------------------------------------------
def env_names(settings: type[BaseSettings], only_paths: bool = False) -> set[str]:
    """Variable names pydantic-settings reads: the alias if a field has one, else prefix+name;
    a field that is itself a settings class (the KAFKA_* connection) reads its own names.
    `only_paths`: just those naming a file (fields typed `Path`)."""
    prefix = settings.model_config.get("env_prefix", "")
    names = set()
    for name, field in settings.model_fields.items():
        if name in FIXED_FIELDS:
            continue
        nested = field.annotation
        if isinstance(nested, type) and issubclass(nested, BaseSettings):
            names |= env_names(nested, only_paths)
            continue
        if only_paths and not (nested is Path or Path in get_args(nested)):
            continue
        alias = field.validation_alias or field.alias
        assert alias is None or isinstance(alias, str), f"{name}: alias kind not handled"
        names.add((alias or prefix + name).upper())
    return names


ALL_ENV_NAMES = set().union(*(env_names(s) for s in SETTINGS.values()))
PATH_ENV_NAMES = set().union(*(env_names(s, only_paths=True) for s in SETTINGS.values()))


def is_ours(name: str) -> bool:
    return name.startswith(("BIGSCHOOL_", "KAFKA_"))


# -- reading the files --------------------------------------------------------------------
def yaml_files() -> list[Path]:
    return sorted(p for p in COMPOSE_DIR.rglob("*") if p.suffix in {".yaml", ".yml"})


def load(path: Path) -> list[Any]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc is not None]


def compose() -> dict[str, Any]:
    return load(COMPOSE_FILE)[0]


def compose_apps() -> dict[str, dict[str, Any]]:
    """The Big School services: built from the Dockerfile with a SERVICE to run."""
    return {
        name: svc
        for name, svc in compose()["services"].items()
        if (svc.get("build") or {}).get("args", {}).get("SERVICE")
    }


def compose_one_shots() -> dict[str, dict[str, Any]]:
    """The steps before them: the same image with a command of their own, run once."""
    return {
        name: svc
        for name, svc in compose()["services"].items()
        if "build" in svc and name not in compose_apps()
    }


def one_shot_running(text: str) -> tuple[str, dict[str, Any]]:
    (found,) = [(n, s) for n, s in compose_one_shots().items() if text in " ".join(s["command"])]
    return found


def flag(command: list[str], name: str) -> str:
    return command[command.index(name) + 1]


def compose_env(svc: dict[str, Any]) -> dict[str, str]:
    env = svc.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.partition("=")[::2] for item in env)
    return {key: str(value) for key, value in env.items()}


def compose_service_of(svc: dict[str, Any]) -> str:
    return svc["build"]["args"]["SERVICE"]


def compose_mounts(svc: dict[str, Any]) -> list[dict[str, Any]]:
    """Each mount in long syntax (type, source, target, read_only)."""
    mounts = []
    for volume in svc.get("volumes", []):
        if isinstance(volume, dict):
            mounts.append(volume)
            continue
        source, target, *mode = volume.split(":")
        kind = "bind" if source.startswith((".", "/")) else "volume"
        mounts.append(
            {"type": kind, "source": source, "target": target, "read_only": mode == ["ro"]}
        )
    return mounts


def compose_file_source(svc: dict[str, Any], path: str) -> tuple[str, str, str, bool]:
    """(mount type, source, path inside the source, read-only) of a file a container sees."""
    file = PurePosixPath(path)
    under = [m for m in compose_mounts(svc) if file.is_relative_to(m["target"])]
    assert under, f"{path} is in no mount"
    mount = max(under, key=lambda m: len(m["target"]))
    inside = str(file.relative_to(mount["target"]))
    return mount["type"], mount["source"], inside, bool(mount.get("read_only"))


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


def broker_properties(env: dict[str, str]) -> dict[str, str]:
    """server.properties as the apache/kafka image renders it from KAFKA_* variables: `_` is a
    dot, `__` an underscore, `___` a dash; a value holding "=" is dropped, and so are these
    variables of its start scripts."""
    scripts = {"KAFKA_OPTS", "KAFKA_HEAP_OPTS", "KAFKA_LOG4J_OPTS", "KAFKA_JMX_OPTS"}
    props = {}
    for name, value in env.items():
        if not name.startswith("KAFKA") or name in scripts or "=" in value:
            continue
        key = re.sub(r"[^_]_[^_]", lambda m: m[0].replace("_", "."), name[len("KAFKA_") :])
        props[key.replace("___", "-").replace("__", "_").lower()] = value
    return props


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
]
DEPLOYED_IDS = [label for label, *_ in DEPLOYED]


# -- every file ---------------------------------------------------------------------------
def test_the_compose_folder_holds_the_compose_file() -> None:
    assert COMPOSE_FILE in yaml_files()


@pytest.mark.parametrize("path", yaml_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_yaml_file_under_deploy_parses_into_mappings(path: Path) -> None:
    docs = load(path)
    assert docs, "no document"
    assert all(isinstance(doc, dict) for doc in docs)


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


@pytest.mark.parametrize(("label", "service", "env"), DEPLOYED, ids=DEPLOYED_IDS)
def test_each_service_logs_in_to_kafka_as_its_own_node_with_a_password_file(
    label: str, service: str, env: dict[str, str]
) -> None:
    assert env.get("KAFKA_SECURITY_PROTOCOL", "").startswith("SASL_"), label
    assert env.get("KAFKA_SASL_MECHANISM") == NODE_SASL_MECHANISM, label
    assert env.get("KAFKA_SASL_USERNAME") == env["BIGSCHOOL_NODE_ID"], label
    assert env.get("KAFKA_SASL_PASSWORD_FILE"), label
    assert "KAFKA_SASL_PASSWORD" not in env, f"{label}: a password in the environment"


@pytest.mark.parametrize(("label", "service", "env"), DEPLOYED, ids=DEPLOYED_IDS)
def test_each_service_checks_org_events_against_the_federation_and_only_enrollment_signs(
    label: str, service: str, env: dict[str, str]
) -> None:
    assert env.get("BIGSCHOOL_FEDERATION_JWKS_PATH"), label
    assert bool(env.get("BIGSCHOOL_NODE_KEY_PATH")) == (service == "enrollment"), label
    if kid := env.get("BIGSCHOOL_NODE_KEY_ID"):  # a key signs only for the node it names
        assert node_of_kid(kid) == env["BIGSCHOOL_NODE_ID"], label


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


def test_compose_services_find_every_file_they_are_told_of_in_a_read_only_mount() -> None:
    for name, svc in compose_apps().items():
        for variable, path in compose_env(svc).items():
            if variable in PATH_ENV_NAMES:
                *_, read_only = compose_file_source(svc, path)
                assert read_only, (name, variable)


def test_compose_runs_the_one_shot_steps_from_the_same_image_for_both_nodes() -> None:
    shots = compose_one_shots()
    assert shots
    for name, svc in shots.items():
        assert (COMPOSE_DIR / svc["build"]["context"]).resolve() == ROOT, name
        assert svc.get("restart", "no") == "no", name
        assert svc["command"], name
    _, keys = one_shot_running("generate_node_key")
    assert set(keys["command"][-1].split(",")) == set(COMPOSE_NODES)
    _, provision = one_shot_running("shared.kafka.provision")
    assert set(flag(provision["command"], "--nodes").split(",")) == set(COMPOSE_NODES)
    assert int(flag(provision["command"], "--partitions")) >= 1


def test_compose_starts_a_service_only_after_the_one_shot_steps_succeeded() -> None:
    for name, svc in compose_apps().items():
        for shot in compose_one_shots():
            assert svc["depends_on"][shot]["condition"] == "service_completed_successfully", name
    keys_step, _ = one_shot_running("generate_node_key")
    _, provision = one_shot_running("shared.kafka.provision")
    assert provision["depends_on"]["kafka"]["condition"] == "service_healthy"
    assert provision["depends_on"][keys_step]["condition"] == "service_completed_successfully"


def test_compose_services_read_their_kafka_password_where_provisioning_writes_it() -> None:
    _, provision = one_shot_running("shared.kafka.provision")
    secrets_dir = PurePosixPath(flag(provision["command"], "--secrets-dir"))
    for name, svc in compose_apps().items():
        env = compose_env(svc)
        written = secrets_dir / f"{env['BIGSCHOOL_NODE_ID']}.password"
        kind, source, inside, _ = compose_file_source(svc, env["KAFKA_SASL_PASSWORD_FILE"])
        assert kind == "volume" and source in compose()["volumes"], name
        assert (kind, source, inside) == compose_file_source(provision, str(written))[:3], name


def test_compose_services_find_the_node_keys_where_the_key_step_writes_them() -> None:
    _, keys = one_shot_running("generate_node_key")
    folder = PurePosixPath(keys["command"][-3])  # generate_node_key(folder, node) writes there
    for name, svc in compose_apps().items():
        env = compose_env(svc)
        expected = {"BIGSCHOOL_FEDERATION_JWKS_PATH": folder / "federation-jwks.json"}
        if compose_service_of(svc) == "enrollment":
            expected["BIGSCHOOL_NODE_KEY_PATH"] = folder / f"node-{env['BIGSCHOOL_NODE_ID']}.pem"
        for variable, written in expected.items():
            seen = compose_file_source(svc, env[variable])[:3]
            assert seen == compose_file_source(keys, str(written))[:3], (name, variable)


def test_compose_provisions_as_a_super_user_of_the_broker() -> None:
    _, provision = one_shot_running("shared.kafka.provision")
    env = compose_env(provision)
    assert {n for n in env if is_ours(n)} <= env_names(KafkaSettings)
    broker = broker_properties(compose_env(compose()["services"]["kafka"]))
    assert f"User:{env['KAFKA_SASL_USERNAME']}" in broker["super.users"].split(";")
    assert env["KAFKA_SASL_MECHANISM"] in broker["sasl.enabled.mechanisms"].split(",")
    assert env["KAFKA_SECURITY_PROTOCOL"].startswith("SASL_")


def test_the_compose_broker_is_secured_like_the_local_broker() -> None:
    broker = broker_properties(compose_env(compose()["services"]["kafka"]))
    local = server_properties(
        port=9092, controller_port=9093, log_dir="/", admin_password="a", controller_password="c"
    )
    same = [
        "authorizer.class.name",
        "super.users",
        "allow.everyone.if.no.acl.found",
        "auto.create.topics.enable",
        "inter.broker.listener.name",
        "controller.listener.names",
        "sasl.mechanism.inter.broker.protocol",
        "sasl.mechanism.controller.protocol",
        "listener.name.controller.sasl.enabled.mechanisms",
    ]
    assert {k: broker.get(k) for k in same} == {k: local[k] for k in same}
    enabled = local["listener.name.sasl_plaintext.sasl.enabled.mechanisms"]
    assert set(broker["sasl.enabled.mechanisms"].split(",")) == set(enabled.split(","))
    listeners = dict(p.split(":") for p in broker["listener.security.protocol.map"].split(","))
    assert all(protocol.startswith("SASL_") for protocol in listeners.values()), listeners


def test_the_compose_broker_finds_the_jaas_file_its_start_script_writes() -> None:
    kafka = compose()["services"]["kafka"]
    env = compose_env(kafka)
    # The image renders no value holding "=": such settings would silently be missing.
    dropped = {n for n, v in env.items() if n.startswith("KAFKA") and "=" in v} - {"KAFKA_OPTS"}
    assert not dropped
    jaas = re.search(r"-Djava\.security\.auth\.login\.config=(\S+)", env["KAFKA_OPTS"])
    assert jaas
    kind, source, _, read_only = compose_file_source(kafka, kafka["command"][-1])
    assert kind == "bind" and read_only
    script = (COMPOSE_DIR / source).read_text(encoding="utf-8")
    assert script.rstrip().endswith("exec /etc/kafka/docker/run")  # the image's own start
    health_config = flag(kafka["healthcheck"]["test"], "--command-config")
    assert f"> {jaas[1]} " in script and f"> {health_config} " in script


def test_compose_services_find_the_token_keys_in_what_they_mount() -> None:
    for name, svc in compose_apps().items():
        jwks = Path(compose_env(svc)["BIGSCHOOL_JWT_JWKS_PATH"])
        targets = [v["target"] if isinstance(v, dict) else v.split(":")[1] for v in svc["volumes"]]
        assert any(jwks.is_relative_to(t) for t in targets), (name, jwks, targets)


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

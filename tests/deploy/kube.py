"""Render deploy/k8s with real kustomize and validate what comes out: built-in kinds against
the Kubernetes API schemas that kubernetes-validate ships, custom resources against the
CRD schemas vendored in tests/deploy/crds (README.md there names their origin)."""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S_DIR = ROOT / "deploy" / "k8s"
CRD_DIR = Path(__file__).resolve().parent / "crds"
# The oldest Kubernetes minor the manifests promise to work on (README: "Kubernetes").
KUBERNETES_VERSION = "1.32"
# Names kustomize's generators give: <name>-<hash of the content>.
GENERATED_NAME = re.compile(r"\b(bigschool-(?:node|notifications|portal))-[a-z0-9]{10}\b")

Manifest = dict[str, Any]

# kubernetes-validate reads its schema files (several MB of definitions) again for every
# document it checks; they never change during a run, so read each once.
kubernetes_validate.utils.schema_contents = functools.cache(
    kubernetes_validate.utils.schema_contents
)


def kustomize_command() -> list[str]:
    """`kustomize build`, or kubectl's built-in copy of it (`kubectl kustomize`)."""
    if found := shutil.which("kustomize"):
        return [found, "build"]
    if found := shutil.which("kubectl"):
        return [found, "kustomize"]
    raise RuntimeError(
        "neither kustomize nor kubectl is on PATH: run scripts/bootstrap (it installs "
        "kustomize with Go when both are missing)"
    )


@functools.cache
def render_text(folder: Path) -> str:
    done = subprocess.run(
        [*kustomize_command(), str(folder)], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise AssertionError(f"kustomize could not build {folder}:\n{done.stderr}")
    return done.stdout


@functools.cache
def render(folder: Path) -> list[Manifest]:
    """The documents kustomize renders (parsed once: callers only read them)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return [doc for doc in yaml.load_all(render_text(folder), Loader=loader) if doc]


def of_kind(docs: list[Manifest], kind: str) -> list[Manifest]:
    return [doc for doc in docs if doc["kind"] == kind]


def by_name(docs: list[Manifest], kind: str) -> dict[str, Manifest]:
    return {doc["metadata"]["name"]: doc for doc in of_kind(docs, kind)}


# -- custom resource definitions -----------------------------------------------------------
def _closed(schema: Any) -> Any:
    """The CRD's schema as the API server applies it with strict field validation: an
    object that lists its properties accepts no others (unless it preserves unknown ones)."""
    if isinstance(schema, list):
        return [_closed(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    closed = {key: _closed(value) for key, value in schema.items()}
    if (
        "properties" in schema
        and "additionalProperties" not in schema
        and not schema.get("x-kubernetes-preserve-unknown-fields")
    ):
        closed["additionalProperties"] = False
    if "properties" in schema:  # property names, not schema keywords: close each value only
        closed["properties"] = {k: _closed(v) for k, v in schema["properties"].items()}
    return closed


@functools.cache
def crd_schemas() -> dict[tuple[str, str], jsonschema.Draft7Validator]:
    """(apiVersion, kind) -> validator, for every served version of every vendored CRD."""
    validators = {}
    for path in sorted(CRD_DIR.glob("*.yaml")):
        crd = yaml.safe_load(path.read_text(encoding="utf-8"))
        spec = crd["spec"]
        for version in spec["versions"]:
            if not version["served"]:
                continue
            schema = _closed(version["schema"]["openAPIV3Schema"])
            key = (f"{spec['group']}/{version['name']}", spec["names"]["kind"])
            validators[key] = jsonschema.Draft7Validator(schema)
    return validators


def schema_errors(doc: Manifest) -> Iterator[str]:
    """Why the API server would refuse `doc` (nothing when it validates)."""
    where = f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}"
    custom = crd_schemas().get((doc.get("apiVersion", ""), doc.get("kind", "")))
    if custom is not None:
        for error in custom.iter_errors(doc):
            yield f"{where}: {'.'.join(map(str, error.path))}: {error.message}"
        return
    try:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as error:
        yield f"{where}: {'.'.join(map(str, error.path))}: {error.message}"
    except kubernetes_validate.SchemaNotFoundError as error:
        yield f"{where}: no schema to check it against ({error.message})"


# -- pods -----------------------------------------------------------------------------------
def pod_spec(workload: Manifest) -> Manifest:
    spec: Manifest = workload["spec"]["template"]["spec"]
    return spec


def main_container(workload: Manifest) -> Manifest:
    (only,) = pod_spec(workload)["containers"]
    return only


def all_containers(workload: Manifest) -> list[Manifest]:
    spec = pod_spec(workload)
    return [*spec.get("initContainers", []), *spec["containers"]]


def secret_keys(docs: list[Manifest], name: str) -> dict[str, str]:
    secret = by_name(docs, "Secret").get(name, {})
    return {**secret.get("data", {}), **secret.get("stringData", {})}


def container_env(docs: list[Manifest], container: Manifest) -> dict[str, str]:
    """The container's environment: envFrom sources, then env entries. A key of a Secret the
    manifests do not hold (an operator makes it) reads as `<secret name>/<key>`."""
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            env.update(by_name(docs, "ConfigMap")[source["configMapRef"]["name"]]["data"])
        else:
            env.update(secret_keys(docs, source["secretRef"]["name"]))
    for item in container.get("env", []):
        if ref := item.get("valueFrom", {}).get("secretKeyRef"):
            keys = secret_keys(docs, ref["name"])
            env[item["name"]] = keys.get(ref["key"], f"{ref['name']}/{ref['key']}")
        else:
            env[item["name"]] = str(item["value"])
    return {key: str(value) for key, value in env.items()}


def selects(selector: Manifest, labels: dict[str, str]) -> bool:
    """Whether a label selector (matchLabels and matchExpressions) picks these labels."""
    if not selector:
        return True
    if not selector.get("matchLabels", {}).items() <= labels.items():
        return False
    for expression in selector.get("matchExpressions", []):
        value, values = labels.get(expression["key"]), expression.get("values", [])
        operator = expression["operator"]
        if operator == "In" and value not in values:
            return False
        if operator == "NotIn" and value in values:
            return False
        if operator == "Exists" and value is None:
            return False
        if operator == "DoesNotExist" and value is not None:
            return False
    return True

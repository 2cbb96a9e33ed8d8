"""The dashboard and the alert rules speak of metrics the services really export, with labels
they really have; the compose Prometheus and the Kubernetes PrometheusRule hold the same
rules; and Prometheus' own checker accepts them (`promtool`, installed by scripts/bootstrap)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import REGISTRY

import notifications.metrics  # noqa: F401  (registers the notifications metrics)
import shared.metrics  # noqa: F401  (registers the shared metrics)
from tests.deploy.kube import schema_errors

ROOT = Path(__file__).resolve().parents[2]
OBSERVABILITY = ROOT / "deploy" / "observability"
ALERTS = OBSERVABILITY / "prometheus" / "alerts.yml"
DASHBOARD = OBSERVABILITY / "grafana" / "dashboards" / "bigschool.json"
MONITORING = ROOT / "deploy" / "k8s" / "base" / "monitoring"
COMPOSE = ROOT / "deploy" / "compose" / "compose.yaml"

# Labels every scraped series gets from its target (compose: static labels; Kubernetes: the
# ServiceMonitor's relabelings and the operator's own), and the histogram's bucket label.
TARGET_LABELS = {"system", "node", "service", "instance", "job", "namespace", "pod", "le"}
SUFFIXES = {"counter": ["_total"], "histogram": ["_bucket", "_count", "_sum"], "gauge": [""]}
PROMQL_WORDS = {
    "sum", "max", "min", "avg", "count", "by", "without", "and", "or", "unless", "on",
    "rate", "increase", "delta", "deriv", "histogram_quantile", "label_values", "up",
}  # fmt: skip


def exported() -> dict[str, set[str]]:
    """Sample name -> label names, for every metric our services register."""
    names: dict[str, set[str]] = {"up": set()}
    for collector in list(REGISTRY._collector_to_names):  # the registered collectors
        labels = set(getattr(collector, "_labelnames", ()))
        kind = getattr(collector, "_type", None)
        base = getattr(collector, "_name", None)
        if not base or kind not in SUFFIXES:
            continue
        for suffix in SUFFIXES[kind]:
            names[f"{base}{suffix}"] = labels
    return names


def metrics_in(expr: str) -> set[str]:
    """The metric names an expression reads: identifiers followed by a selector, a range or
    the end of a term, that are not PromQL's own words."""
    words = set(re.findall(r"\b([a-z_][a-z0-9_]*)\s*(?=\{|\[|\)|$|\s*[=!<>]=?|\s*>)", expr))
    return {w for w in words if w.startswith("bigschool_") or w == "up"} - (PROMQL_WORDS - {"up"})


def labels_in(expr: str) -> set[str]:
    """The label names an expression matches on or groups by."""
    matchers = re.findall(r"([a-z_][a-z0-9_]*)\s*(?:=~|!~|!=|=)\s*\"", expr)
    grouped = re.findall(r"\bby\s*\(([^)]*)\)", expr)
    return set(matchers) | {g.strip() for group in grouped for g in group.split(",") if g.strip()}


def check_expression(expr: str, where: str) -> None:
    known = exported()
    used = metrics_in(expr)
    assert used, f"{where}: no metric found in {expr!r}"
    for metric in used:
        assert metric in known, f"{where}: {metric} is not exported by any service"
    allowed = TARGET_LABELS.union(*(known[m] for m in used))
    assert labels_in(expr) <= allowed, f"{where}: unknown labels {labels_in(expr) - allowed}"


def rule_groups() -> list[dict[str, Any]]:
    groups: list[dict[str, Any]] = yaml.safe_load(ALERTS.read_text(encoding="utf-8"))["groups"]
    return groups


def test_the_dashboard_parses_and_every_panel_queries_metrics_we_export() -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    panels = [p for p in dashboard["panels"] if p["type"] != "row"]
    assert len(panels) >= 12
    for panel in panels:
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            check_expression(target["expr"], panel["title"])


def test_the_dashboard_shows_everything_operations_asked_for() -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    shown = {
        metric
        for panel in dashboard["panels"]
        for target in panel.get("targets", [])
        for metric in metrics_in(target["expr"])
    }
    assert {
        "bigschool_http_requests_total",
        "bigschool_http_request_seconds_bucket",
        "bigschool_consumer_lag",
        "bigschool_outbox_backlog",
        "bigschool_outbox_oldest_age_seconds",
        "bigschool_dlq_messages_total",
        "bigschool_notification_attempts_total",
        "bigschool_held_messages_total",
        "bigschool_transient_retries_total",
        "bigschool_outbox_relay_lease",
        "bigschool_ready",
        "up",
    } <= shown


def test_every_alert_rule_reads_metrics_we_export() -> None:
    alerts = [rule for group in rule_groups() for rule in group["rules"]]
    for rule in alerts:
        check_expression(rule["expr"], rule["alert"])
        assert rule["labels"]["severity"] in {"critical", "warning", "info"}
        assert rule["annotations"]["summary"]
    names = {rule["alert"] for rule in alerts}
    assert {
        "BigSchoolConsumerLagGrowing",
        "BigSchoolOutboxStale",
        "BigSchoolDeadLetters",
        "BigSchoolDeliveryFailures",
        "BigSchoolServiceDown",
        "BigSchoolServiceNotReady",
    } <= names


def test_an_expression_naming_a_metric_we_do_not_export_is_caught() -> None:
    with pytest.raises(AssertionError, match="not exported"):
        check_expression("sum(bigschool_no_such_thing_total)", "typo")
    with pytest.raises(AssertionError, match="unknown labels"):
        check_expression('sum by (colour) (bigschool_outbox_backlog{node="zj"})', "label")


def test_compose_and_kubernetes_hold_the_same_alert_groups() -> None:
    rule = yaml.safe_load((MONITORING / "prometheusrule.yaml").read_text(encoding="utf-8"))
    assert rule["kind"] == "PrometheusRule"
    assert rule["spec"]["groups"] == rule_groups()


def test_the_monitoring_manifests_validate_and_are_listed() -> None:
    kustomization = yaml.safe_load((MONITORING / "kustomization.yaml").read_text())
    assert sorted(kustomization["resources"]) == ["prometheusrule.yaml", "servicemonitor.yaml"]
    for name in kustomization["resources"]:
        doc = yaml.safe_load((MONITORING / name).read_text(encoding="utf-8"))
        assert list(schema_errors(doc)) == [], name


def test_the_service_monitor_labels_targets_as_the_rules_group_them() -> None:
    monitor = yaml.safe_load((MONITORING / "servicemonitor.yaml").read_text(encoding="utf-8"))
    (endpoint,) = monitor["spec"]["endpoints"]
    assert endpoint["path"] == "/metrics"
    assert {r["targetLabel"] for r in endpoint["relabelings"]} == {"system", "node"}


def test_compose_runs_prometheus_and_grafana_with_the_provisioned_files() -> None:
    services = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))["services"]
    mounts = [
        str(volume).split(":")[0]
        for name in ("prometheus", "grafana")
        for volume in services[name]["volumes"]
    ]
    for mount in mounts:
        assert (COMPOSE.parent / mount).resolve().exists(), mount
    config = yaml.safe_load((OBSERVABILITY / "prometheus" / "prometheus.yml").read_text())
    targets = [
        (t, c["labels"])
        for job in config["scrape_configs"]
        for c in job["static_configs"]
        for t in c["targets"]
    ]
    bigschool = {
        n for n, s in services.items() if s.get("build", {}).get("args", {}).get("SERVICE")
    }
    assert {t.split(":")[0] for t, _ in targets} == bigschool
    assert all(labels["system"] == "bigschool" for _, labels in targets)


def test_promtool_accepts_the_rules_and_their_unit_tests_pass(tmp_path: Path) -> None:
    promtool = shutil.which("promtool")  # Debian's prometheus package (scripts/bootstrap)
    assert promtool is not None, "promtool is not on the PATH: run scripts/bootstrap"
    for args in (["check", "rules", str(ALERTS)], ["test", "rules", "alerts.test.yml"]):
        done = subprocess.run(
            [promtool, *args],
            cwd=ALERTS.parent,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stdout + done.stderr
    # The config names the rules where the container mounts them: check a copy pointing here.
    config = yaml.safe_load((ALERTS.parent / "prometheus.yml").read_text())
    config["rule_files"] = [str(ALERTS)]
    copy = tmp_path / "prometheus.yml"
    copy.write_text(yaml.safe_dump(config))
    done = subprocess.run(
        [promtool, "check", "config", str(copy)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr

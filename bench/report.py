"""Figures, the printed tables and the JSON file of one run.

A `Figure` is one measured value beside its limit measured in the same run; the ratio
value / limit is what the goals are about (a limit-free figure such as CPU per enrollment
has a ceiling instead). The end-to-end flow's goal is relative to a "before" run: its ratio
must be 10x the ratio recorded there (bench/results/before.json by default).
"""

from __future__ import annotations

import json
import math
import os
import platform
import subprocess
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench import ROOT

BEFORE = ROOT / "bench" / "results" / "before.json"


@dataclass
class Figure:
    name: str
    value: float
    unit: str
    limit_name: str | None
    limit_value: float | None
    # With a limit: the least ratio value/limit that meets the goal. Without: the most value.
    goal: float | None
    key: str = ""  # stable id across runs, e.g. "relay"
    goal_text: str = ""  # how the goal reads when it is not a plain number
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if self.limit_value is None or not self.limit_value:
            return None
        return self.value / self.limit_value

    @property
    def met(self) -> bool | None:
        if self.goal is None:
            return None
        if self.limit_value is None:
            return self.value <= self.goal
        ratio = self.ratio
        return ratio is not None and ratio >= self.goal

    def as_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["ratio"] = _round(self.ratio, 4)
        out["met"] = self.met
        out["value"] = _round(self.value, 3)
        out["limit_value"] = _round(self.limit_value, 3)
        return out


@dataclass
class Hop:
    """One hop of the end-to-end flow: how many passed it, its rate, its added latency."""

    name: str
    count: int
    rate: float  # items/s from the hop's first to its last completion
    p50_ms: float
    p99_ms: float
    note: str = ""


@dataclass
class Report:
    figures: list[Figure] = field(default_factory=list)
    hops: list[Hop] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)

    def apply_before(self, before: dict[str, Any] | None) -> None:
        """Goals relative to the before run (the flow's ratio), and the before ratios."""
        if not before:
            return
        previous = {f.get("key"): f for f in before.get("figures", [])}
        self.meta["before"] = {
            "commit": before.get("meta", {}).get("commit"),
            "file": before.get("meta", {}).get("path"),
        }
        for figure in self.figures:
            old = previous.get(figure.key)
            if old is None:
                continue
            figure.details["before_value"] = old.get("value")
            figure.details["before_ratio"] = old.get("ratio")
            if figure.key.startswith("flow") and old.get("ratio"):
                figure.goal = 10 * float(old["ratio"])


def _round(value: float | None, digits: int) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return round(value, digits)


def _num(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:,.1f}"
    return f"{value:,.2f}"


def _pct(ratio: float | None) -> str:
    if ratio is None:
        return "-"
    return f"{ratio:.1%}" if ratio < 0.1 else f"{ratio:.0%}"


def _goal(figure: Figure) -> str:
    if figure.goal is None:
        return figure.goal_text or "-"
    if figure.limit_value is None:
        return f"≤ {_num(figure.goal)} {figure.unit}"
    return f"≥ {_pct(figure.goal)}"


def _met(figure: Figure) -> str:
    return {True: "yes", False: "no", None: "-"}[figure.met]


def table(rows: list[list[str]], header: list[str]) -> str:
    """A Markdown table (reads well in a terminal and pastes into the README)."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    return "\n".join(
        [line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
        + [line(r) for r in rows]
    )


def render(report: Report) -> str:
    rows = []
    for f in report.figures:
        extra = ""
        if "p50_ms" in f.details:
            extra = f" (p50 {_num(f.details['p50_ms'])} ms, p99 {_num(f.details['p99_ms'])} ms)"
        limit = "-"
        if f.limit_name is not None:
            limit = f"{_num(f.limit_value)} {f.limit_name}"
        before = ""
        if f.details.get("before_ratio") is not None:
            before = f" (before {_pct(f.details['before_ratio'])})"
        rows.append(
            [
                f.name,
                f"{_num(f.value)} {f.unit}{extra}",
                limit,
                _pct(f.ratio) + before,
                _goal(f),
                _met(f),
            ]
        )
    out = [table(rows, ["figure", "value", "limit, same run", "ratio", "goal", "met"])]
    if report.hops:
        hop_rows = [
            [h.name, str(h.count), _num(h.rate), _num(h.p50_ms), _num(h.p99_ms), h.note]
            for h in report.hops
        ]
        out += [
            "",
            "End-to-end flow, hop by hop (rate = completions/s from the hop's first to its last; "
            "latency = time the hop adds):",
            table(hop_rows, ["hop", "n", "rate/s", "p50 ms", "p99 ms", "note"]),
        ]
    for note in report.notes:
        out.append(f"- {note}")
    for name, error in report.errors.items():
        out.append(f"- {name}: FAILED: {error}")
    return "\n".join(out)


def as_json(report: Report) -> dict[str, Any]:
    return {
        "meta": report.meta,
        "figures": [f.as_json() for f in report.figures],
        "hops": [asdict(h) for h in report.hops],
        "notes": report.notes,
        "errors": report.errors,
    }


def from_json(data: dict[str, Any]) -> Report:
    """A report read back from its JSON (for `--show`)."""
    figures = []
    for f in data.get("figures", []):
        fields = {k: f.get(k) for k in Figure.__dataclass_fields__ if k in f}
        figures.append(Figure(**fields))
    hops = [Hop(**h) for h in data.get("hops", [])]
    return Report(
        figures,
        hops,
        list(data.get("notes", [])),
        dict(data.get("errors", {})),
        dict(data.get("meta", {})),
    )


def write(report: Report, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    report.meta["path"] = str(path)
    path.write_text(json.dumps(as_json(report), indent=2, ensure_ascii=False) + "\n")


def load(path: Path) -> dict[str, Any] | None:
    try:
        data: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data


def run_meta() -> dict[str, Any]:
    """Which code ran where: the checkout's commit (and whether it had changes), the machine."""

    def git(*args: str) -> str:
        try:
            return subprocess.run(
                ["git", "-C", str(ROOT), *args],
                capture_output=True,
                text=True,
                check=False,
                timeout=10,
            ).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            return ""

    return {
        "commit": git("rev-parse", "HEAD"),
        # Changes to tracked files outside bench/ (the code measured, not the bench itself).
        "uncommitted_changes": bool(
            git("status", "--porcelain", "--untracked-files=no", "--", ".", ":!bench")
        ),
        "checkout": str(ROOT),
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "cpus": os.cpu_count(),
        "load_average_at_start": list(os.getloadavg()),
        "python": platform.python_version(),
        "machine": platform.machine(),
    }

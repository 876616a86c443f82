"""The figures of one benchmark run: a printed table and a JSON document.

Every figure has the bot's value, the value of its baseline measured in the same run, the
budget it is held to (the performance budget, README "Scaling") and whether it is within
it (None: no budget).
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Figure:
    name: str
    value: float | None
    baseline: float | None
    unit: str  # "ms", "s", "MB" or "" (a count)
    baseline_name: str
    budget: str = ""
    within: bool | None = None
    # Shown instead of the number when set (e.g. "500/500").
    value_text: str | None = None
    baseline_text: str | None = None
    # False where the baseline is a floor, not a competitor: a ratio would mean nothing.
    show_ratio: bool = True

    @property
    def ratio(self) -> float | None:
        if not self.show_ratio or self.value is None or not self.baseline:
            return None
        return self.value / self.baseline

    def shown(self) -> tuple[str, str]:
        return (
            self.value_text or _number(self.value, self.unit),
            self.baseline_text or _number(self.baseline, self.unit),
        )

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "ratio": self.ratio}


@dataclass
class Results:
    quick: bool
    figures: list[Figure] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures and all(f.within is not False for f in self.figures)

    def as_json(self) -> dict[str, Any]:
        return {
            "run": run_info(self.quick),
            "figures": [figure.as_json() for figure in self.figures],
            "details": self.details,
            "timings_seconds": self.timings,
            "failures": self.failures,
        }

    def write_json(self, path: Path) -> None:
        path.write_text(json.dumps(self.as_json(), indent=2) + "\n")


def table(results: Results) -> str:
    header = ("figure", "Vecinos", "baseline", "ratio", "budget", "ok", "baseline is")
    rows = [header]
    for figure in results.figures:
        value, baseline = figure.shown()
        ratio = "-" if figure.ratio is None else f"{figure.ratio:.2f}x"
        ok = {True: "yes", False: "NO", None: "-"}[figure.within]
        budget = figure.budget or "-"
        rows.append((figure.name, value, baseline, ratio, budget, ok, figure.baseline_name))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    lines += [f"FAILED {failure}" for failure in results.failures]
    return "\n".join(line.rstrip() for line in lines)


def _number(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "ms":
        return f"{value:.3f} ms" if value < 1 else f"{value:.1f} ms"
    if unit == "s":
        return f"{value:.2f} s"
    if unit == "MB":
        return f"{value:.0f} MB"
    return f"{value:g}"


def run_info(quick: bool) -> dict[str, Any]:
    """What the figures depend on: commit, versions and machine."""
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "quick": quick,
        "commit": _git("rev-parse", "HEAD"),
        "uncommitted_changes": bool(_git("status", "--porcelain", "--untracked-files=no")),
        "python": platform.python_version(),
        "matrix-nio": _version("matrix-nio"),
        "matrix-synapse": _version("matrix-synapse"),
        "cpus": _cpus(),
        "machine": platform.machine(),
    }


def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, check=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip()


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _cpus() -> int | None:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()

"""The pull-request model report: metrics and params against a base commit, and the gate.

`dvc metrics diff` and `dvc params diff` against the merge base with the target
branch give the numbers; the Markdown is rendered by pure functions below.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlplate_runtime.config import Settings
from mlplate_runtime.errors import ProjectError
from mlplate_runtime.models.importance import Importance, read_importance
from mlplate_runtime.models.promotion import (
    Secondary,
    decide,
    regression_exceeds,
    slice_floor_misses,
)
from mlplate_runtime.models.tasks import secondary_metric, task_for

MARKER = "<!-- mlplate_runtime-model-report -->"
TOP_FEATURES = 5  # input columns the report lists, by importance


@dataclass(frozen=True)
class Report:
    """The rendered report and whether the primary metric regressed past the threshold."""

    markdown: str
    regressed: bool


def _run(root: Path, *args: str) -> str:
    try:
        result = subprocess.run(list(args), cwd=root, capture_output=True, text=True, check=True)
    except FileNotFoundError:
        raise ProjectError(f"{args[0]} is not installed; run `make setup`") from None
    except subprocess.CalledProcessError as error:
        last = (error.stderr.strip().splitlines() or ["no output"])[-1]
        raise ProjectError(f"`{' '.join(args)}` failed: {last}") from None
    return result.stdout


def merge_base(root: Path, base: str) -> str:
    """The commit where this branch left ``base``."""
    if base.startswith("-") or not base.strip():
        raise ProjectError(f"BASE={base!r} is not a git ref; pass BASE=<branch or commit>")
    try:
        return _run(root, "git", "merge-base", "HEAD", base).strip()
    except ProjectError:
        raise ProjectError(
            f"cannot find the base {base!r}; fetch it (git fetch origin main) or pass BASE=<ref>"
        ) from None


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def _metrics_table(metrics_diff: dict[str, dict[str, Any]], primary: str, base: str) -> list[str]:
    """Every metric, base vs this branch, the gate's metric first and in bold."""
    lines = ["", f"### Metrics (base `{base[:12]}` → this branch)", ""]
    lines += ["| metric | base | this branch | change |", "| --- | --- | --- | --- |"]
    for name in sorted(metrics_diff, key=lambda metric: (metric != primary, metric)):
        values = metrics_diff[name]
        change = values.get("diff")
        label = f"**{name}**" if name == primary else name
        delta = f"{change:+.4f}" if isinstance(change, float) else _fmt(change)
        lines.append(
            f"| {label} | {_fmt(values.get('old'))} | {_fmt(values.get('new'))} | {delta} |"
        )
    return lines


def _params_table(params_diff: dict[str, dict[str, Any]]) -> list[str]:
    """The parameters this branch changed."""
    lines = ["", "### Parameters changed", ""]
    if not params_diff:
        return [*lines, "No parameter changes."]
    lines += ["| parameter | base | this branch |", "| --- | --- | --- |"]
    for name in sorted(params_diff):
        values = params_diff[name]
        lines.append(f"| `{name}` | {_fmt(values.get('old'))} | {_fmt(values.get('new'))} |")
    return lines


@dataclass(frozen=True)
class SliceChange:
    """One slice's size on this branch and its primary metric on the base and this branch."""

    name: str
    n: int | None
    old: float | None
    new: float | None


def slice_changes(slices_diff: Mapping[str, Mapping[str, Any]], primary: str) -> list[SliceChange]:
    """The slices of this branch from DVC's flattened diff of reports/slices.json
    (`slices.<name>.<metric>`: {old, new})."""
    found: dict[str, dict[str, Any]] = {}
    for key, values in slices_diff.items():
        parts = key.split(".")
        if len(parts) == 3 and parts[0] == "slices":
            found.setdefault(parts[1], {})[parts[2]] = values
    return [
        SliceChange(
            name,
            (metrics.get("n") or {}).get("new"),
            (metrics.get(primary) or {}).get("old"),
            (metrics.get(primary) or {}).get("new"),
        )
        for name, metrics in found.items()
        if (metrics.get("n") or {}).get("new") is not None
    ]


def _slice_lines(
    slices: list[SliceChange], floors: Mapping[str, float], primary: str, higher_is_better: bool
) -> list[str]:
    """The slices' primary metric, base vs this branch, and the floors this branch misses."""
    if not slices:
        return []
    lines = ["", f"### Slices (`{primary}`)", ""]
    lines += ["| slice | n | base | this branch | floor |", "| --- | --- | --- | --- | --- |"]
    for change in slices:
        floor = floors.get(change.name)
        lines.append(
            f"| {change.name} | {_fmt(change.n)} | {_fmt(change.old)} | {_fmt(change.new)} | "
            f"{'-' if floor is None else f'{floor:g}'} |"
        )
    misses = slice_floor_misses(
        {change.name: change.new for change in slices},
        floors,
        metric=primary,
        higher_is_better=higher_is_better,
    )
    if misses:
        lines += [
            "",
            f"**Slice floors missed:** {'; '.join(misses)}: the gate keeps this model "
            "as challenger whatever its overall score (`promotion.slice_floors`).",
        ]
    return lines


def _importance_lines(importance: Importance | None) -> list[str]:
    """The input columns the model relies on most (permutation importance on the holdout)."""
    if importance is None or not importance.features:
        return []
    lines = ["", f"### Top inputs (permutation importance, `{importance.metric}`)", ""]
    lines += ["| column | importance |", "| --- | --- |"]
    for column in importance.features[:TOP_FEATURES]:
        name = column.feature.replace("|", "\\|")
        lines.append(f"| `{name}` | {_fmt(column.importance)} |")
    return lines


def render_report(
    metrics_diff: dict[str, dict[str, Any]],
    params_diff: dict[str, dict[str, Any]],
    *,
    base: str,
    primary: str,
    min_delta: float,
    max_regression: float,
    higher_is_better: bool = True,
    secondary: str | None = None,
    secondary_higher_is_better: bool = False,
    slices: list[SliceChange] | None = None,
    slice_floors: Mapping[str, float] | None = None,
    importance: Importance | None = None,
) -> Report:
    """Render the Markdown report from flattened DVC diffs ({name: {old, new}}); a tie on the
    primary metric goes to ``secondary``, as in the gate."""
    higher = higher_is_better
    entry = metrics_diff.get(primary)
    if entry is None or entry.get("new") is None:
        raise ProjectError(f"metric {primary!r} is missing from the current metrics; run dvc repro")
    new, old = entry["new"], entry.get("old")
    lines = [MARKER]
    if old is None:
        regressed = False
        lines += [
            f"## Model report: `{primary}` = {new:.4f} (no baseline on `{base[:12]}`)",
            "",
            "**Gate: passed** (nothing to compare with).",
            "",
            "**On merge:** the first model becomes champion.",
        ]
    else:
        regressed = regression_exceeds(
            new, old, max_regression=max_regression, higher_is_better=higher
        )
        tie_break = metrics_diff.get(secondary or "", {})
        decision = decide(
            new,
            old,
            metric=primary,
            min_delta=min_delta,
            higher_is_better=higher,
            secondary=Secondary(
                secondary,
                tie_break.get("new"),
                tie_break.get("old"),
                secondary_higher_is_better,
            )
            if secondary
            else None,
        )
        gate = "failed" if regressed else "passed"
        lines += [
            f"## Model report: `{primary}` {new:.4f} ({new - old:+.4f} vs base)",
            "",
            f"**Gate: {gate}**: `{primary}` moved from {old:.4f} to {new:.4f}; "
            f"the largest allowed regression is {max_regression}.",
            "",
            "**On merge:** "
            + ("would be promoted to champion" if decision.promote else "would stay challenger")
            + f" ({decision.reason}).",
        ]
    lines += _slice_lines(slices or [], slice_floors or {}, primary, higher) + _importance_lines(
        importance
    )
    lines += _metrics_table(metrics_diff, primary, base) + _params_table(params_diff)
    return Report("\n".join(lines) + "\n", regressed)


def _flatten(diff: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Merge DVC's per-file diffs into one {name: values} mapping."""
    flat: dict[str, dict[str, Any]] = {}
    for per_file in diff.values():
        flat.update(per_file)
    return flat


def pull_request_report(settings: Settings, *, base: str, output: Path) -> Report:
    """Compare the workspace with the merge base of ``base``; write the Markdown report."""
    root = settings.root
    rev = merge_base(root, base)
    metrics_by_file = json.loads(
        _run(root, "dvc", "metrics", "diff", rev, "--all", "--json") or "{}"
    )
    evaluate = settings.params.evaluate
    slices_diff = metrics_by_file.pop(evaluate.slices_path.as_posix(), {})  # a section of its own
    metrics = _flatten(metrics_by_file)
    params = _flatten(json.loads(_run(root, "dvc", "params", "diff", rev, "--json") or "{}"))
    promotion = settings.params.promotion
    task = task_for(settings)
    tie_breaker = secondary_metric(settings, task)
    report = render_report(
        metrics,
        params,
        base=rev,
        primary=settings.params.evaluate.primary_metric,
        min_delta=promotion.min_delta,
        max_regression=promotion.max_regression,
        higher_is_better=task.higher_is_better[settings.params.evaluate.primary_metric],
        secondary=tie_breaker,
        secondary_higher_is_better=task.higher_is_better[tie_breaker],
        slices=slice_changes(slices_diff, evaluate.primary_metric),
        slice_floors=promotion.slice_floors,
        importance=read_importance(settings.path(evaluate.importance_path)),
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(report.markdown)
    return report

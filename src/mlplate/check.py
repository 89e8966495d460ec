"""How far a generated project has drifted from the template and the team preset.

Template-managed files (the plumbing every project shares) must match what the
template renders for the project's own answers; everything else (source code,
data schema, params.yaml, docs, README, and ``local.mk``, the place for local
Makefile settings) is the team's to edit. The team preset (the project's copy, or
the central one given with ``--preset``) is policy: a recorded answer that
contradicts a lock, or a deleted preset file, is a violation, and the reference is
rendered with the locked answers, so tampering cannot hide an edit. `check` also
looks for required pieces and counts the template releases the project is behind. It also
reports what an update may have left: files no release renders for the project any more,
conflict markers, and a runtime pin or wheel that is not the template's.
"""

from __future__ import annotations

import configparser
import difflib
import fnmatch
import re
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from mlplate.answers_file import ANSWERS_FILE, read_project_answers, recorded_answers
from mlplate.eject import ejected_parts
from mlplate.errors import MlplateError
from mlplate.git import git
from mlplate.presets import PRESET_FILE, Preset, project_preset
from mlplate.reference import render_release
from mlplate.source import is_own_source
from mlplate.versions import available_versions, check_version, versions_behind

# What the template owns and a team leaves as generated. Since v0.2.32 the template's targets
# are in mlplate.mk and the Makefile is the team's; before, the Makefile was the template's.
MANAGED = (
    "mlplate.mk",
    ".github/workflows/*.yml",
    ".gitlab-ci.yml",
    ".pre-commit-config.yaml",
    "Dockerfile",
    ".dockerignore",
    "pipeline.Dockerfile",
    ".dvc/config",
)
REQUIRED_STAGES = ("validate", "prepare", "featurize", "train", "evaluate")


@dataclass
class CheckReport:
    """Findings; ``violations`` make `mlplate check` exit 1."""

    version: str
    latest: str
    versions_behind: int
    changed: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    preset_violations: list[str] = field(default_factory=list)
    ejected: list[str] = field(default_factory=list)  # runtime parts the team owns: not drift
    not_rendered: list[str] = field(default_factory=list)  # left by an earlier release
    conflicts: list[str] = field(default_factory=list)
    runtime: list[str] = field(default_factory=list)  # pin or wheel unlike the template's
    diffs: dict[str, str] = field(default_factory=dict)

    @property
    def violations(self) -> int:
        return sum(
            len(found)
            for found in (
                self.changed,
                self.deleted,
                self.missing,
                self.preset_violations,
                self.not_rendered,
                self.conflicts,
                self.runtime,
            )
        )

    def as_dict(self, *, with_diff: bool = False) -> dict[str, Any]:
        content = {**asdict(self), "violations": self.violations}
        if not with_diff:
            content.pop("diffs")
        return content

    def as_text(self, *, with_diff: bool = False) -> str:
        lines = [f"template {self.version} (latest {self.latest}, {self.versions_behind} behind)"]
        for path in self.changed:
            lines.append(f"changed template-managed file: {path}")
            if with_diff and path in self.diffs:
                lines.append(self.diffs[path].rstrip("\n"))
        lines += [f"deleted template-managed file: {path}" for path in self.deleted]
        lines += [f"missing required piece: {item}" for item in self.missing]
        lines += [f"preset violation: {item}" for item in self.preset_violations]
        lines += [
            f"no longer rendered by the template: {path} (delete it, or move what you need)"
            for path in self.not_rendered
        ]
        lines += [f"unresolved conflict: {path}" for path in self.conflicts]
        lines += [f"runtime: {item}" for item in self.runtime]
        lines += [f"ejected (the project's own): {part}" for part in self.ejected]
        lines.append(
            "ok: the project follows the template"
            if not self.violations
            else f"{self.violations} violation(s)"
        )
        return "\n".join(lines)


def _is_managed(relative: str, reference: Path) -> bool:
    if relative == "Makefile":
        return not (reference / "mlplate.mk").is_file()
    return any(fnmatch.fnmatch(relative, pattern) for pattern in MANAGED)


def _dvc_structure(path: Path) -> dict[str, list[str]]:
    parser = configparser.ConfigParser()
    try:
        parser.read_string(path.read_text())
    except (configparser.Error, UnicodeDecodeError):
        return {"unreadable": []}
    return {section: sorted(parser[section]) for section in parser.sections()}


def _required_pieces(project: Path) -> list[str]:
    import yaml

    missing = []
    dvc_yaml = project / "dvc.yaml"
    try:
        pipeline = yaml.safe_load(dvc_yaml.read_text()) if dvc_yaml.exists() else {}
    except yaml.YAMLError:
        pipeline = {}
    stages = pipeline.get("stages", {}) if isinstance(pipeline, dict) else {}
    missing += [
        f"pipeline stage {name!r} in dvc.yaml" for name in REQUIRED_STAGES if name not in stages
    ]
    if not list((project / "tests").glob("test_*.py")):
        missing.append("tests (tests/test_*.py)")
    # The training harness that tags runs with lineage: the runtime's, or (projects before
    # the thin layout of v0.2.32) the project's own copy.
    pyproject = project / "pyproject.toml"
    on_runtime = pyproject.is_file() and "mlplate-runtime" in pyproject.read_text()
    train = list(project.glob("src/*/models/train.py"))
    if not on_runtime and (not train or "lineage_tags(" not in train[0].read_text()):
        missing.append("the training harness: mlplate-runtime in pyproject.toml's dependencies")
    return missing


def _deleted_preset(project: Path) -> str | None:
    """The commit that last had the preset file, if git history has it and the tree does not."""
    if (project / PRESET_FILE).exists():
        return None
    try:
        return git("log", "-1", "--format=%h", "--", PRESET_FILE, cwd=project).strip() or None
    except MlplateError:  # not a git repository: nothing to tell
        return None


def _preset_findings(
    project: Path, answers: dict[str, Any], central: Preset | None
) -> tuple[list[str], dict[str, Any]]:
    """Preset violations, and the answers with every lock applied (the reference's answers)."""
    findings: list[str] = []
    if (commit := _deleted_preset(project)) is not None:
        findings.append(
            f"{PRESET_FILE} was deleted; restore it with `git checkout {commit} -- {PRESET_FILE}`"
        )
    enforced = dict(answers)
    for preset in (project_preset(project), central):
        if preset is None:
            continue
        findings += [
            f"{violation} (tampered {ANSWERS_FILE}?)" for violation in preset.violations(answers)
        ]
        enforced.update(preset.locked)
    return findings, enforced


def _unified_diff(reference: Path, mine: Path, relative: str) -> str:
    def lines(path: Path) -> list[str]:
        try:
            return path.read_text().splitlines(keepends=True)
        except UnicodeDecodeError:
            return ["(binary file)\n"]

    return "".join(
        difflib.unified_diff(
            lines(reference), lines(mine), f"template/{relative}", f"project/{relative}"
        )
    )


def check(project: Path, *, central: Preset | None = None) -> CheckReport:
    """Compare ``project`` with the template at its recorded version and the team preset."""
    project = Path(project)
    answers = read_project_answers(project)
    version = str(answers["_commit"])
    versions = available_versions(answers)
    check_version(version, versions, role="recorded", own=is_own_source(answers["_src_path"]))
    report = CheckReport(
        version=version,
        latest=versions[-1] if versions else version,
        versions_behind=versions_behind(version, versions),
    )
    report.preset_violations, enforced = _preset_findings(
        project, recorded_answers(answers), central
    )
    from mlplate.answers import resolve_answers

    try:
        data = resolve_answers(enforced)
    except MlplateError as error:
        raise MlplateError(
            f"{ANSWERS_FILE} holds an invalid answer: {str(error).splitlines()[0]}"
        ) from None
    with tempfile.TemporaryDirectory() as work:
        reference = render_release(answers, data, version, Path(work) / "reference")
        for path in sorted(reference.rglob("*")):
            relative = path.relative_to(reference).as_posix()
            if not path.is_file() or not _is_managed(relative, reference):
                continue
            mine = project / relative
            if not mine.exists():
                report.deleted.append(relative)
            elif relative == ".dvc/config":
                if _dvc_structure(mine) != _dvc_structure(path):
                    report.changed.append(relative)
                    report.diffs[relative] = _unified_diff(path, mine, relative)
            elif mine.read_bytes() != path.read_bytes():
                report.changed.append(relative)
                report.diffs[relative] = _unified_diff(path, mine, relative)
        report.ejected = ejected_parts(project)
        if is_own_source(answers["_src_path"]):
            report.not_rendered = _not_rendered(project, reference, answers, report.ejected)
        report.runtime = _runtime_problems(project, reference, version)
    report.missing = _required_pieces(project)
    report.conflicts = _conflicts(project)
    return report


def _project_files(project: Path) -> list[str]:
    """Tracked and untracked (not ignored) files under ``project``, relative to it."""
    try:
        listed = git(
            "ls-files", "--cached", "--others", "--exclude-standard", "--", ".", cwd=project
        )
    except MlplateError:  # not a git repository: nothing to compare
        return []
    return sorted({line for line in listed.splitlines() if (project / line).is_file()})


def _not_rendered(
    project: Path, reference: Path, answers: dict[str, Any], ejected: list[str]
) -> list[str]:
    """Files an earlier release rendered that the project's release does not (for its answers)."""
    from mlplate.answers import derived_names
    from mlplate.history import ever_rendered

    package = derived_names({"project_name": answers.get("project_name", project.name)})[1]
    earlier = {path.replace("{{cookiecutter.__package_name}}", package) for path in ever_rendered()}
    owned = tuple(f"src/{package}/{part}" for part in ejected)  # ejected parts are the team's
    return [
        path
        for path in _project_files(project)
        if path in earlier and not (reference / path).exists() and not path.startswith(owned)
    ]


def _conflicts(project: Path) -> list[str]:
    from mlplate.update import conflicts_in

    return conflicts_in(project, _project_files(project))


RUNTIME_PIN = re.compile(r'"mlplate-runtime(?:\[[^\]]*\])?==([^"]+)"')


def _runtime_problems(project: Path, reference: Path, version: str) -> list[str]:
    """The runtime version the project pins, and the wheel it carries, against the template's."""
    pins = []
    for root in (reference, project):
        pyproject = root / "pyproject.toml"
        text = pyproject.read_text(encoding="utf-8") if pyproject.is_file() else ""
        pins.append(sorted(set(RUNTIME_PIN.findall(text))))
    expected, pinned = pins
    if not expected:  # a release before the runtime
        return []
    problems = []
    if pinned != expected:
        problems.append(
            f"pyproject.toml pins mlplate-runtime {', '.join(pinned) or 'nowhere'}; template "
            f"{version} runs {expected[0]} (restore the pin, or `mlplate update`)"
        )
    wheels = project / ".mlplate" / "wheels"
    carried = sorted(wheel.name for wheel in wheels.glob("mlplate_runtime-*.whl"))
    if carried and not any(name.startswith(f"mlplate_runtime-{expected[0]}-") for name in carried):
        problems.append(
            f".mlplate/wheels holds {', '.join(carried)}, not mlplate-runtime {expected[0]}; "
            "run `mlplate update` to put the right wheel there"
        )
    return problems

"""`mlplate eject PART`: hand one part of the runtime to the project that wants to own it.

The part's modules are copied from the runtime wheel of this release into
``src/<package>/<part>``, and pyproject.toml declares them (entry point group
``mlplate.ejected``), so the runtime imports the project's copy wherever it imports the part.
Updates and `mlplate check` leave the copy alone: it is the team's from then on.
"""

from __future__ import annotations

import re
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from mlplate import __version__
from mlplate.answers_file import read_project_answers
from mlplate.errors import MlplateError
from mlplate.runtime_wheel import runtime_wheel

# What a team may take over, with what it holds (the runtime's module or package of that name).
PARTS = {
    "serving": "the FastAPI app: routes, request schemas, batching, prediction log, metrics",
    "monitoring": "drift tests, the monitoring job, its HTML report, champion vs challenger",
    "alerts": "the chat webhook alerts",
    "report": "the pull-request model report and regression gate",
    "model_card": "the model card, data card and pipeline pages",
}
ENTRY_POINTS = '[project.entry-points."mlplate.ejected"]'


@dataclass(frozen=True)
class Ejected:
    """What `eject` wrote."""

    part: str
    package: str
    files: list[str]


def ejected_parts(project: Path) -> list[str]:
    """The parts ``project`` declares as its own (pyproject.toml)."""
    pyproject = project / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8") if pyproject.is_file() else ""
    if ENTRY_POINTS not in text:
        return []
    section = text.split(ENTRY_POINTS, 1)[1].split("\n[", 1)[0]
    return re.findall(r"^([a-z_]+) = ", section, flags=re.MULTILINE)


def _package(project: Path) -> str:
    from mlplate.answers import derived_names

    answers = read_project_answers(project)
    return derived_names({"project_name": answers.get("project_name", project.name)})[1]


def _declare(pyproject: Path, part: str, package: str, *, is_package: bool) -> None:
    text = pyproject.read_text(encoding="utf-8")
    line = f'{part} = "{package}.{part}"\n'
    if ENTRY_POINTS in text:
        text = text.replace(f"{ENTRY_POINTS}\n", f"{ENTRY_POINTS}\n{line}", 1)
    else:
        text = (
            text.rstrip("\n")
            + "\n\n# Parts of mlplate-runtime this project owns (`mlplate eject`): the runtime\n"
            + f"# imports these modules in place of its own.\n{ENTRY_POINTS}\n{line}"
        )
    # The copy keeps the runtime's import order and was tested with the runtime.
    files = f"src/{package}/{part}/*" if is_package else f"src/{package}/{part}.py"
    text = text.replace(
        "[tool.ruff.lint.per-file-ignores]\n",
        f'[tool.ruff.lint.per-file-ignores]\n"{files}" = ["I001"]\n',
        1,
    )
    omitted = f'    "{files}",  # ejected from mlplate-runtime {__version__}, tested there\n'
    if "\nomit = [\n" in text:
        text = text.replace("\nomit = [\n", f"\nomit = [\n{omitted}", 1)
    else:
        start = "[tool.coverage.run]\n"
        note = "# Drop an entry once tests of your own cover it.\n"
        text = text.replace(start, f"{start}{note}omit = [\n{omitted}]\n", 1)
    pyproject.write_text(text, encoding="utf-8")


def _part_sources(part: str) -> dict[str, str]:
    """The part's source files in this release's runtime wheel (wheel path -> text)."""
    with tempfile.TemporaryDirectory() as work, zipfile.ZipFile(runtime_wheel(Path(work))) as wheel:
        return {
            name: wheel.read(name).decode("utf-8")
            for name in wheel.namelist()
            if name == f"mlplate_runtime/{part}.py" or name.startswith(f"mlplate_runtime/{part}/")
        }


def eject(project: Path, part: str) -> Ejected:
    """Copy ``part`` of the runtime into ``project`` and declare it; nothing is written on error."""
    project = Path(project)
    if part not in PARTS:
        raise MlplateError(f"no runtime part {part!r}; parts: {', '.join(sorted(PARTS))}")
    pyproject = project / "pyproject.toml"
    if not pyproject.is_file() or "mlplate-runtime" not in pyproject.read_text(encoding="utf-8"):
        raise MlplateError(
            f"{project} does not run on mlplate-runtime; run `mlplate update` first (v0.2.32+)"
        )
    package = _package(project)
    if part in ejected_parts(project):
        raise MlplateError(f"{part} is already the project's (src/{package}/{part})")
    header = (
        f"# Ejected from mlplate-runtime {__version__} by `mlplate eject {part}`: this project owns\n"
        "# it now, and the runtime imports it in place of its own (pyproject.toml).\n"
    )
    sources = {
        name.removeprefix("mlplate_runtime/"): text for name, text in _part_sources(part).items()
    }
    targets = {project / "src" / package / name: content for name, content in sources.items()}
    clash = [str(path) for path in targets if path.exists()]
    if clash:
        raise MlplateError(f"{clash[0]} exists; move it away to eject {part}")
    for target, content in targets.items():
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(header + content, encoding="utf-8")
    _declare(pyproject, part, package, is_package=any("/" in name for name in sources))
    return Ejected(part, package, sorted(path.relative_to(project).as_posix() for path in targets))

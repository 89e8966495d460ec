"""params.yaml as files use it: change values in place (keeping comments and layout, 2-space
indents), and read dvc.yaml with its ``${key}`` references filled in from params.yaml."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from mlplate_runtime.errors import ProjectError

PLAIN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_./-]*")
REFERENCE = re.compile(r"\$\{\s*([A-Za-z0-9_.]+)\s*\}")  # DVC's ${data.raw_path}
LINE = re.compile(r"^(?P<indent> *)(?P<key>[^:#\s][^:#]*):(?P<value>[^#\n]*?)(?P<comment>\s+#.*)?$")


def _scalar(value: object) -> str:
    """A YAML scalar: plain when YAML reads it back unchanged, else double-quoted (JSON)."""
    if isinstance(value, str) and PLAIN.fullmatch(value) and yaml.safe_load(value) == value:
        return value
    return json.dumps(value)


def _leaf_line(lines: list[str], key: str) -> int:
    start, end = 0, len(lines)
    parts = key.split(".")
    for depth, part in enumerate(parts):
        indent = " " * (2 * depth)
        for index in range(start, end):
            found = LINE.match(lines[index].rstrip("\n"))
            if found and found["indent"] == indent and found["key"] == part:
                start = index + 1
                if depth == len(parts) - 1:
                    return index
                end = next(
                    (
                        later
                        for later in range(index + 1, end)
                        if lines[later].strip()
                        and not lines[later].lstrip().startswith("#")
                        and len(lines[later]) - len(lines[later].lstrip(" ")) <= len(indent)
                    ),
                    end,
                )
                break
        else:
            raise ProjectError(f"params.yaml has no key {key!r}")
    raise ProjectError(f"params.yaml has no key {key!r}")


def _new_line(lines: list[str], key: str) -> int:
    """Add a line for ``key`` first in its section (which must exist); return its index."""
    parent, _, leaf = key.rpartition(".")
    section = _leaf_line(lines, parent) if parent else -1
    found = LINE.match(lines[section].rstrip("\n")) if parent else None
    if found is None or found["value"].strip():  # no section, or one written inline ({...})
        raise ProjectError(f"params.yaml has no section to add {key!r} to; add it by hand")
    lines.insert(section + 1, f"{'  ' * (parent.count('.') + 1)}{leaf}: null\n")
    return section + 1


def set_values(path: Path, values: dict[str, object], *, create: bool = False) -> None:
    """Set dotted keys (``data.raw_path``) to new values; the keys must exist, unless
    ``create`` adds the missing ones to their (existing) section."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    for key, value in values.items():
        try:
            index = _leaf_line(lines, key)
        except ProjectError:
            if not create:
                raise
            index = _new_line(lines, key)
        found = LINE.match(lines[index].rstrip("\n"))
        if found is None:
            raise ProjectError(f"{path}: cannot read the line of {key!r}; edit it by hand")
        comment = found["comment"] or ""
        lines[index] = f"{found['indent']}{found['key']}: {_scalar(value)}{comment}\n"
    path.write_text("".join(lines), encoding="utf-8")


def read_pipeline(root: Path) -> dict[str, Any]:
    """dvc.yaml as DVC reads it: each ``${key}`` replaced by that key's value in params.yaml."""
    params = yaml.safe_load((root / "params.yaml").read_text(encoding="utf-8"))

    def value(match: re.Match[str]) -> str:
        node: Any = params
        for part in match.group(1).split("."):
            if not isinstance(node, dict) or part not in node:
                raise ProjectError(f"dvc.yaml uses {match.group(0)}, which params.yaml lacks")
            node = node[part]
        return str(node)

    text = REFERENCE.sub(value, (root / "dvc.yaml").read_text(encoding="utf-8"))
    return dict(yaml.safe_load(text))

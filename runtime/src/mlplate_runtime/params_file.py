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


def _add_leaf(lines: list[str], key: str) -> int:
    """Insert ``key`` (empty) at the end of its section, which must exist; return its line."""
    parent, _, leaf = key.rpartition(".")
    if not parent:
        raise ProjectError(f"params.yaml has no key {key!r}")
    start = _leaf_line(lines, parent)
    indent = " " * (2 * parent.count(".") + 2)
    end = start + 1
    for index in range(start + 1, len(lines)):
        text = lines[index]
        if text.strip() and not text.lstrip().startswith("#"):
            if len(text) - len(text.lstrip(" ")) < len(indent):
                break
            end = index + 1
    lines.insert(end, f"{indent}{leaf}: null\n")
    return end


def set_values(path: Path, values: dict[str, object], *, add: bool = False) -> None:
    """Set dotted keys (``data.raw_path``) to new values; the keys must exist, or with ``add``
    their section (the key is added at its end)."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    for key, value in values.items():
        try:
            index = _leaf_line(lines, key)
        except ProjectError:
            if not add:
                raise
            index = _add_leaf(lines, key)
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

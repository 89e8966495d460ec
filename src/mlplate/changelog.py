"""What each template version changes in generated projects, from CHANGELOG.md."""

from __future__ import annotations

import re
from pathlib import Path

from mlplate.release_tags import version_key

PACKAGED = Path(__file__).parent / "CHANGELOG.md"
SOURCE = Path(__file__).parents[2] / "CHANGELOG.md"
HEADING = re.compile(r"^## (v\d+\.\d+\.\d+)\s*$", re.MULTILINE)


def sections(text: str) -> dict[str, str]:
    """Map each version heading (`## vX.Y.Z`) to its body."""
    found = list(HEADING.finditer(text))
    return {
        match.group(1): text[
            match.end() : found[i + 1].start() if i + 1 < len(found) else len(text)
        ].strip()
        for i, match in enumerate(found)
    }


def changes_between(old: str, new: str, text: str | None = None) -> str:
    """The changelog entries of the versions after ``old`` up to and including ``new``."""
    if text is None:
        path = PACKAGED if PACKAGED.exists() else SOURCE
        text = path.read_text() if path.exists() else ""
    if not (HEADING.match(f"## {old}") and HEADING.match(f"## {new}")):
        return ""
    picked = [
        f"## {tag}\n\n{body}"
        for tag, body in sorted(
            sections(text).items(), key=lambda item: version_key(item[0]), reverse=True
        )
        if version_key(old) < version_key(tag) <= version_key(new)
    ]
    return "\n\n".join(picked)

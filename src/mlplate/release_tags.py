"""Release names (vX.Y.Z) and their order: a leaf module every other one may import."""

from __future__ import annotations

import re

RELEASE = re.compile(r"^v\d+\.\d+\.\d+$")


def version_key(tag: str) -> tuple[int, ...]:
    """Sort key of a vX.Y.Z release tag (the one ordering of releases)."""
    return tuple(int(part) for part in tag[1:].split("."))

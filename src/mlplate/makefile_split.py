"""The Makefile's move to the thin layout: the team's own targets follow it.

Until v0.2.32 the Makefile was the template's, and a team added its targets to it. From then
on the template's targets live in mlplate.mk and the Makefile is the team's. copier merges the
two Makefiles line by line and conflicts on every file, so an update that crosses that release
takes the new Makefile and appends what the team had added to the old one. A team that also
changed the template's own lines keeps copier's conflict, to settle by hand.
"""

from __future__ import annotations

import difflib
from pathlib import Path

from mlplate.git import git

CARRIED = "# Targets of the team's, carried from the Makefile of {version} by `mlplate update`.\n"


def added_lines(base: str, ours: str) -> list[str] | None:
    """The blocks the team added to ``base``; None if it also changed or removed lines."""
    before, after = base.splitlines(keepends=True), ours.splitlines(keepends=True)
    added: list[str] = []
    for tag, _, _, start, end in difflib.SequenceMatcher(None, before, after).get_opcodes():
        if tag == "insert":
            block = after[start:end]
            added += [*block, "\n"] if block[-1].strip() else block
        elif tag != "equal":
            return None
    return added


def carry_team_targets(
    project: Path, old: Path, new: Path, committed: bytes | None, from_version: str
) -> bool:
    """Rewrite the project's Makefile as the new template's plus the team's additions, when
    the update moves it to the thin layout (``old`` and ``new`` are the two releases' renders).
    Return whether it did."""
    if committed is None or (old / "mlplate.mk").exists() or not (new / "mlplate.mk").exists():
        return False
    if not (old / "Makefile").is_file() or not (new / "Makefile").is_file():
        return False
    added = added_lines((old / "Makefile").read_text(encoding="utf-8"), committed.decode("utf-8"))
    if added is None:
        return False
    text = (new / "Makefile").read_text(encoding="utf-8")
    if added:
        text = text.rstrip("\n") + "\n\n" + CARRIED.format(version=from_version)
        text += "".join(added).strip("\n") + "\n"
    (project / "Makefile").write_text(text, encoding="utf-8")
    git("add", "--", "Makefile", cwd=project)  # copier left it unmerged in the index
    return True

"""Post the model report on a GitLab merge request as one note, updated on later pushes."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

from mlplate_runtime.errors import ProjectError


def _call(method: str, url: str, token: str, body: dict[str, Any] | None = None) -> Any:
    if not url.startswith(("https://", "http://")):  # never file: or another scheme
        raise ProjectError(f"the GitLab API address {url!r} is not an http(s) URL")
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 (checked)
    request.add_header("PRIVATE-TOKEN", token)
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return json.loads(response.read() or b"null")
    except OSError as error:
        raise ProjectError(f"GitLab API {method} {url} failed: {error}") from None


def upsert_note(*, api_url: str, project_id: str, mr_iid: str, token: str, body: str) -> str:
    """Create the report note, or update the one whose first line matches; return which."""
    marker = body.splitlines()[0]
    notes_url = f"{api_url.rstrip('/')}/projects/{project_id}/merge_requests/{mr_iid}/notes"
    for note in _call("GET", f"{notes_url}?per_page=100", token) or []:
        if str(note.get("body", "")).startswith(marker):
            _call("PUT", f"{notes_url}/{note['id']}", token, {"body": body})
            return "updated"
    _call("POST", notes_url, token, {"body": body})
    return "created"

"""Chat alerts (Slack-compatible webhook JSON): drift alarms, gate failures, failed runs.

Off unless ALERT_WEBHOOK_URL is set (a CI secret: the URL is a credential and is never
printed). Delivery is best effort: a webhook that fails is one warning line on stderr and
never changes what the command that raised the alert decided, nor its exit code.
"""

from __future__ import annotations

import http.client
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import Any

from mlplate_runtime.redact import redact

WEBHOOK_ENV = "ALERT_WEBHOOK_URL"


def alert_payload(
    project: str, event: str, message: str, details: Mapping[str, Any] | None = None
) -> dict[str, str]:
    """The JSON body: Slack's `text` (Mattermost, Rocket.Chat and Teams workflows read it too)."""
    lines = [f"*{project}*: {event}", message]
    lines += [f"- {key}: {value}" for key, value in (details or {}).items()]
    return {"text": "\n".join(lines)}


def send_alert(
    project: str,
    event: str,
    message: str,
    details: Mapping[str, Any] | None = None,
    *,
    timeout: float = 10.0,
) -> bool:
    """Post the alert to ALERT_WEBHOOK_URL; False when it is off or was not delivered."""
    url = os.environ.get(WEBHOOK_ENV, "").strip()
    if not url:
        return False
    if not url.startswith(("https://", "http://")):
        _warn(f"{WEBHOOK_ENV} is not an http(s) URL")
        return False
    if any(character.isspace() or ord(character) < 32 for character in url) or not (
        urllib.parse.urlsplit(url).hostname
    ):
        _warn(f"{WEBHOOK_ENV} is not a valid URL (https://host/path, no spaces); fix the secret")
        return False
    body = json.dumps(alert_payload(project, event, message, details)).encode()
    headers = {"Content-Type": "application/json"}
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout):  # noqa: S310 (http(s) checked above)
            return True
    except urllib.error.HTTPError as error:
        _warn(f"the webhook answered {error.code}")
    except (urllib.error.URLError, OSError, ValueError, http.client.HTTPException) as error:
        reason = redact(str(getattr(error, "reason", error)))
        _warn(f"the webhook cannot be reached ({reason})")
    return False


def _warn(reason: str) -> None:
    print(f"warning: alert not sent: {reason}", file=sys.stderr)

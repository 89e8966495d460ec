"""Credentials out of every message: URI user info, query-string secrets and path tokens.

A tracking URI may carry a password (https://user:secret@host) or a token in its path, and a
webhook URL is itself a credential; errors from libraries repeat URLs verbatim. Whatever the
runtime prints, logs or serves (/ready) goes through ``redact``.
"""

from __future__ import annotations

import re

_URL = re.compile(r"\b([a-zA-Z][a-zA-Z0-9+.-]*://)([^\s'\"<>]+)")
_SECRET_QUERY = re.compile(
    r"(?i)\b(token|access_token|api_key|apikey|key|sig|signature|password|secret|auth)=[^&\s]+"
)
# A path segment that looks like a generated secret: long, letters and digits mixed.
_TOKEN_SEGMENT = re.compile(r"^(?=[A-Za-z0-9_-]*\d)(?=[A-Za-z0-9_-]*[A-Za-z])[A-Za-z0-9_-]{20,}$")


def _clean(match: re.Match[str]) -> str:
    scheme, rest = match.group(1), match.group(2)
    authority, slash, path = rest.partition("/")
    if "@" in authority:
        authority = "***@" + authority.rsplit("@", 1)[1]
    path, question, query = path.partition("?")
    segments = ["***" if _TOKEN_SEGMENT.match(part) else part for part in path.split("/")]
    query = _SECRET_QUERY.sub(lambda found: f"{found.group(1)}=***", query)
    return f"{scheme}{authority}{slash}{'/'.join(segments)}{question}{query}"


def redact(text: str) -> str:
    """``text`` with the credentials of every URL in it replaced by ***."""
    return _URL.sub(_clean, text)


def safe_uri(uri: str) -> str:
    """A URI as it may be shown: redacted (see ``redact``)."""
    return redact(uri)

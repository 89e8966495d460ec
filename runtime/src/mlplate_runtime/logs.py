"""Where the runtime's log records go: human lines for commands, JSON lines for the serving app.

Every runtime module logs through ``logging.getLogger(__name__)``; this module only decides
the level and the format. MLPLATE_LOG_LEVEL (DEBUG, INFO, WARNING, ERROR) sets the level:
WARNING by default for commands, whose own results are one-line text on stdout and stderr,
and INFO for the serving app. MLPLATE_LOG_FORMAT (``text`` or ``json``) overrides the format.
"""

from __future__ import annotations

import json
import logging
import logging.config
import os
import time
from typing import Any

from mlplate_runtime.errors import ProjectError
from mlplate_runtime.redact import redact

LEVEL_VARIABLE = "MLPLATE_LOG_LEVEL"
FORMAT_VARIABLE = "MLPLATE_LOG_FORMAT"
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
FORMATS = ("text", "json")
# Loggers whose records the runtime routes: its own, the project's package (its extension
# modules may log) and, in the app, the web server's.
SERVER_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")
# Attributes every LogRecord has: anything else was passed by the caller as `extra=`.
_RECORD_FIELDS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "color_message",  # uvicorn's coloured copy of the message
}


class JsonLines(logging.Formatter):
    """One JSON object per record: time (UTC), level, logger, message, and the caller's extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}+00:00",
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        access = record.name == "uvicorn.access" and isinstance(record.args, tuple)
        if access and len(record.args) == 5:  # type: ignore[arg-type]
            # uvicorn's access line: client, method, path, HTTP version, status
            client, method, path, _, status = record.args  # type: ignore[misc]
            entry.update(client=client, method=method, path=path, status=status)
        entry.update(
            {key: value for key, value in vars(record).items() if key not in _RECORD_FIELDS}
        )
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, default=str)


class RedactedText(logging.Formatter):
    """The text format, with credentials in URLs redacted."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def _choice(variable: str, default: str, allowed: tuple[str, ...]) -> str:
    value = (os.environ.get(variable) or default).strip()
    if value.upper() in allowed:
        return value.upper()
    if value.lower() in allowed:
        return value.lower()
    raise ProjectError(f"{variable}={value!r} is not one of {', '.join(allowed)}; fix or unset it")


def level(default: str = "WARNING") -> str:
    """The level MLPLATE_LOG_LEVEL asks for (a clear error for a level that does not exist)."""
    return _choice(LEVEL_VARIABLE, default, LEVELS)


def log_format(default: str = "text") -> str:
    """The format MLPLATE_LOG_FORMAT asks for: text or json."""
    return _choice(FORMAT_VARIABLE, default, FORMATS)


def config(*, default_level: str, default_format: str, server: bool = False) -> dict[str, Any]:
    """A logging.config dictionary: the runtime's and the project's loggers (and, for the app,
    uvicorn's) write to stderr at the chosen level in the chosen format."""
    from mlplate_runtime.project import current_project

    chosen_level, chosen_format = level(default_level), log_format(default_format)
    handler = {
        "class": "logging.StreamHandler",
        "formatter": chosen_format,
        "stream": "ext://sys.stderr",
    }
    names = ["mlplate_runtime"]
    package = current_project().package
    if package:
        names.append(package)
    if server:
        names.extend(SERVER_LOGGERS)
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "text": {"()": RedactedText, "fmt": "%(levelname)s %(name)s: %(message)s"},
            "json": {"()": JsonLines},
        },
        "handlers": {"stderr": handler},
        "loggers": {
            name: {"handlers": ["stderr"], "level": chosen_level, "propagate": False}
            for name in names
        },
    }


def configure(*, default_level: str = "WARNING", default_format: str = "text") -> None:
    """Set up logging for a command (human text on stderr, WARNING unless asked otherwise)."""
    logging.config.dictConfig(config(default_level=default_level, default_format=default_format))


def server_config() -> dict[str, Any]:
    """The app's logging (uvicorn's log_config): JSON lines at INFO unless asked otherwise."""
    return config(default_level="INFO", default_format="json", server=True)


def configure_server_once() -> None:
    """Give the app JSON logging when nothing configured it (uvicorn started by hand, or a test
    client): the runtime's logger gets a handler only if it has none."""
    if not logging.getLogger("mlplate_runtime").handlers:
        logging.config.dictConfig(server_config())

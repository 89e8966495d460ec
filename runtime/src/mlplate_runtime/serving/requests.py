"""What arrives: body size limit, SageMaker request parsing, and the 4xx answers for bad input.

Every invalid request becomes a 4xx that names the problem: field-level 422s (even when the
rejected input held Infinity or NaN), 422 for JSON nested too deeply, 413 for a body over
MAX_REQUEST_BYTES (refused before it is read).
"""

import csv
import io
import json
import math
from typing import Any

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from mlplate_runtime.data.contract import Contract


def invalid(message: str, loc: tuple[str, ...] = ("body",)) -> RequestValidationError:
    """A 422 for the client, in FastAPI's field-level error format."""
    return RequestValidationError([{"loc": loc, "msg": message, "type": "value_error"}])


def _json_safe(value: Any) -> Any:
    """Echoed input made JSON-safe: infinities and NaN as text (JSON has no such numbers)."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(item) for item in value]
    return value


async def validation_error(request: Request, error: Exception) -> JSONResponse:
    """422 with field-level details, even when the rejected input held Infinity or NaN."""
    if not isinstance(error, RequestValidationError):
        raise error
    return JSONResponse(status_code=422, content={"detail": bounded(list(error.errors()))})


MAX_ERRORS_SHOWN = 50
MAX_INPUT_CHARS = 200


def bounded(errors: list[Any]) -> list[Any]:
    """The first MAX_ERRORS_SHOWN errors, each echoing at most MAX_INPUT_CHARS of its input: a
    422 names the problems without sending a large body back."""
    shown = []
    for error in jsonable_encoder(_json_safe(errors[:MAX_ERRORS_SHOWN])):
        if "input" in error:
            text = json.dumps(error["input"], default=str)
            if len(text) > MAX_INPUT_CHARS:
                error["input"] = f"{text[:MAX_INPUT_CHARS]}... ({len(text):,} characters)"
        shown.append(error)
    if len(errors) > MAX_ERRORS_SHOWN:
        more = len(errors) - MAX_ERRORS_SHOWN
        shown.append({"loc": ["body"], "msg": f"and {more:,} more problems", "type": "value_error"})
    return shown


async def nested_too_deeply(request: Request, error: Exception) -> JSONResponse:
    """A body nested beyond Python's recursion limit is the client's error, not a 500."""
    detail = [{"loc": ["body"], "msg": "the JSON is nested too deeply", "type": "value_error"}]
    return JSONResponse(status_code=422, content={"detail": detail})


async def http_error(request: Request, error: Exception) -> Response:
    """FastAPI's HTTP errors as they are, but a body too deeply nested to parse: the same 422 on
    /predict (FastAPI parses it, and calls the RecursionError a 400) as on /invocations."""
    from fastapi.exception_handlers import http_exception_handler
    from starlette.exceptions import HTTPException

    if isinstance(error, HTTPException) and isinstance(error.__cause__, RecursionError):
        return await nested_too_deeply(request, error)
    return await http_exception_handler(request, error)  # type: ignore[arg-type]


class BodyLimit:
    """Refuse bodies over ``max_bytes`` with 413, before the app reads them (ASGI middleware)."""

    def __init__(self, app: Any, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_bytes:
            return await self._refuse(send)
        received = 0

        async def counted() -> Any:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                raise _TooLarge
            return message

        try:
            await self.app(scope, counted, send)
        except _TooLarge:
            await self._refuse(send)

    async def _refuse(self, send: Any) -> None:
        limit = f"the request body is larger than {self.max_bytes} bytes (MAX_REQUEST_BYTES)"
        body = json.dumps({"detail": limit}).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass


def as_input(record: BaseModel, features: set[str]) -> dict[str, Any]:
    """A validated record under its column names: every feature, other columns when given."""
    values = record.model_dump(by_alias=True)
    return {key: value for key, value in values.items() if key in features or value is not None}


def _typed(value: str, kind: str) -> Any:
    """A CSV cell as a number where the contract wants one (text otherwise: validation says so)."""
    if kind in ("numeric", "integer"):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def _header(row: list[str], contract: Contract) -> list[str] | None:
    """The column names of a first CSV line that names distinct contract columns, else None.

    Any of the contract's columns counts (id, sensitive, the target), so the first lines of
    the dataset's own CSV are a valid body, as they are for batch scoring.
    """
    names = [cell.strip() for cell in row]
    if names and len(set(names)) == len(names) and set(names) <= set(contract.columns):
        return names
    return None


def _csv_records(body: bytes, contract: Contract) -> list[dict[str, Any]]:
    """Records from CSV, with or without a header row of contract column names."""
    try:
        # utf-8-sig: spreadsheets save "CSV UTF-8" with a byte-order mark before the header.
        rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    except (UnicodeDecodeError, csv.Error) as error:
        raise invalid(f"malformed CSV: {error}") from None
    rows = [row for row in rows if row]
    header = _header(rows[0], contract) if rows else None
    if header is None:
        header = list(contract.features)
    else:
        rows = rows[1:]
    for number, row in enumerate(rows, start=1):
        if len(row) != len(header):
            raise invalid(
                f"CSV row {number} has {len(row)} values; expected {len(header)} ({', '.join(header)})"
            )
    kinds = {name: spec.type for name, spec in contract.columns.items()}
    # The target is what the model answers, never an input: its column is left out.
    kept = [(index, name) for index, name in enumerate(header) if name != contract.target]
    return [
        {
            name: (_typed(row[index], kinds.get(name, "")) if row[index] != "" else None)
            for index, name in kept
        }
        for row in rows
    ]


def _json_records(body: bytes) -> list[Any]:
    """Records from JSON: a list, or {"instances": [...]} / {"records": [...]}."""
    try:
        payload = json.loads(body or b"null")
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise invalid(f"malformed JSON: {error}") from None
    except RecursionError:
        raise invalid("the JSON is nested too deeply") from None
    if isinstance(payload, dict):
        payload = payload.get("instances", payload.get("records"))
    if not isinstance(payload, list):
        raise invalid('expected a list of records, or {"instances": [...]}')
    return payload


def parse_invocation(body: bytes, content_type: str, contract: Contract) -> list[Any]:
    """Records from a SageMaker request: JSON ({"instances"|"records": [...]} or a list) or CSV."""
    if content_type.startswith("text/csv"):
        return _csv_records(body, contract)
    if content_type.startswith("application/json") or not content_type:
        return _json_records(body)
    raise invalid(f"unsupported content type {content_type!r}; use application/json or text/csv")

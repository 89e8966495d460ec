"""The FastAPI app: health, readiness, metadata, predictions, SageMaker-compatible routes.

Start it with `make serve` (uvicorn), or `serve` (the SageMaker contract, port 8080). It
loads the `champion` alias from the MLflow registry (or MODEL_URI), retrying with backoff
until it can; CANARY_FRACTION and SHADOW bring in the `challenger`. Every invalid request,
including one the model cannot score, is a 4xx that names the problem; bodies larger than
MAX_REQUEST_BYTES are refused before they are read.
"""

import asyncio
import csv
import gc
import io
import json
import math
import random
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import numpy as np
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, TypeAdapter, ValidationError

from {{ cookiecutter.__package_name }}.config import (
    ServingSettings,
    Settings,
    load_serving_settings,
    load_settings,
)
from {{ cookiecutter.__package_name }}.serving.batching import MicroBatcher
from {{ cookiecutter.__package_name }}.serving.models import LoadedModel, load_models
from {{ cookiecutter.__package_name }}.serving.prediction_log import PredictionLogger
from {{ cookiecutter.__package_name }}.serving.schemas import record_model, request_model

Loader = Callable[[Settings, ServingSettings], tuple[LoadedModel, LoadedModel | None]]


class ServingState:
    """What the routes share: the loaded models, the logger, the routing options."""

    def __init__(self, serving: ServingSettings) -> None:
        self.serving = serving
        self.champion: LoadedModel | None = None
        self.challenger: LoadedModel | None = None
        self.not_ready_reason = "model not loaded yet"
        self.logger = PredictionLogger(serving.prediction_log)
        self.random = random.Random()
        self.batchers: dict[str, MicroBatcher] = {}
        self.canary_disabled: str | None = None

    def load(self, settings: Settings, loader: Loader) -> None:
        try:
            self.champion, self.challenger = loader(settings, self.serving)
        except Exception as error:  # any failure leaves the app alive and not ready
            self.not_ready_reason = f"cannot load the model: {type(error).__name__}: {error}"
            return
        # The model's objects live as long as the process: keep them out of the garbage
        # collector's full passes, which otherwise stall requests for hundreds of ms.
        gc.collect()
        gc.freeze()
        challenger = self.challenger
        if (
            challenger is not None
            and challenger.gate_passed is False
            and self.serving.canary_fraction > 0
            and not self.serving.canary_allow_failed
        ):
            self.canary_disabled = (
                f"challenger version {challenger.version} failed the promotion gate "
                f"({challenger.gate_reason}); set CANARY_ALLOW_FAILED=1 to send it traffic anyway"
            )

    @property
    def canary_fraction(self) -> float:
        """The share of requests the challenger answers (0 when its canary is disabled)."""
        return 0.0 if self.canary_disabled else self.serving.canary_fraction

    def batcher(self, model: LoadedModel) -> MicroBatcher:
        """The batching queue of one model (created on first use, inside the event loop)."""
        if model.role not in self.batchers:
            self.batchers[model.role] = MicroBatcher(model.score)
        return self.batchers[model.role]

    async def predict(self, records: list[dict[str, Any]]) -> dict[str, Any]:
        """Score with the champion (or the challenger for the canary share) and log it."""
        assert self.champion is not None
        request_id = uuid.uuid4().hex
        answering = self.champion
        if self.challenger is not None and self.random.random() < self.canary_fraction:
            answering = self.challenger
        scores = await self.batcher(answering).score(records)
        now = time.time()
        answers = answering.task.answers(scores)
        self.logger.log(
            [
                self._entry(request_id, index, record, answering, answer, row, now, shadow=False)
                for index, (record, answer, row) in enumerate(
                    zip(records, answers, scores, strict=True)
                )
            ]
        )
        if self.serving.shadow and self.challenger is not None and answering is self.champion:
            await self._shadow(request_id, records, now)
        return {
            "request_id": request_id,
            "model": answering.role,
            "model_version": answering.version,
            "predictions": [
                {"record_id": f"{request_id}-{index}", **answer}
                for index, answer in enumerate(answers)
            ],
        }

    async def _shadow(self, request_id: str, records: list[dict[str, Any]], now: float) -> None:
        """Score with the challenger and log it; the caller only sees the champion's answer."""
        assert self.challenger is not None
        try:
            scores = await self.batcher(self.challenger).score(records)
        except Exception:  # a failing shadow model must never fail the request
            return
        answers = self.challenger.task.answers(scores)
        self.logger.log(
            [
                self._entry(
                    request_id, index, record, self.challenger, answer, row, now, shadow=True
                )
                for index, (record, answer, row) in enumerate(
                    zip(records, answers, scores, strict=True)
                )
            ]
        )

    @staticmethod
    def _entry(
        request_id, index, record, model, answer, row, now, *, shadow: bool
    ) -> dict[str, Any]:
        """One prediction-log line: the inputs, the answer, and the raw scores for monitoring."""
        return {
            "timestamp": now,
            "request_id": request_id,
            "record_id": f"{request_id}-{index}",
            "model": model.role,
            "model_version": model.version,
            "shadow": shadow,
            "features": record,
            "prediction": answer.get("label", answer.get("prediction")),
            "scores": [round(float(value), 6) for value in np.atleast_1d(row)],
        }


async def answer(state: ServingState, records: list[dict[str, Any]]) -> dict[str, Any]:
    """Predictions for validated records; a record the model cannot score is the client's 422."""
    try:
        return await state.predict(records)
    except (ValueError, TypeError, OverflowError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise _invalid(f"these records cannot be scored: {reason}") from None


def _not_ready(state: ServingState) -> JSONResponse:
    return JSONResponse(
        status_code=503, content={"status": "not ready", "reason": state.not_ready_reason}
    )


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
    assert isinstance(error, RequestValidationError)
    return JSONResponse(
        status_code=422, content={"detail": jsonable_encoder(_json_safe(list(error.errors())))}
    )


async def nested_too_deeply(request: Request, error: Exception) -> JSONResponse:
    """A body nested beyond Python's recursion limit is the client's error, not a 500."""
    detail = [{"loc": ["body"], "msg": "the JSON is nested too deeply", "type": "value_error"}]
    return JSONResponse(status_code=422, content={"detail": detail})


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
        body = json.dumps(
            {
                "detail": f"the request body is larger than {self.max_bytes} bytes (MAX_REQUEST_BYTES)"
            }
        ).encode()
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


def _invalid(message: str, loc: tuple[str, ...] = ("body",)) -> RequestValidationError:
    return RequestValidationError([{"loc": loc, "msg": message, "type": "value_error"}])


def _typed(value: str, kind: str) -> Any:
    """A CSV cell as a number where the contract wants one (text otherwise: validation says so)."""
    if kind in ("numeric", "integer"):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def parse_invocation(body: bytes, content_type: str, contract: Any) -> list[Any]:
    """Records from a SageMaker request: JSON ({"instances"|"records": [...]} or a list) or CSV."""
    columns = contract.features
    if content_type.startswith("text/csv"):
        try:
            rows = list(csv.reader(io.StringIO(body.decode("utf-8"))))
        except (UnicodeDecodeError, csv.Error) as error:
            raise _invalid(f"malformed CSV: {error}") from None
        rows = [row for row in rows if row]
        if rows and set(rows[0]) <= set(columns) and len(set(rows[0])) == len(rows[0]):
            header, rows = rows[0], rows[1:]
        else:
            header = list(columns)
        for number, row in enumerate(rows, start=1):
            if len(row) != len(header):
                raise _invalid(
                    f"CSV row {number} has {len(row)} values; expected {len(header)} ({', '.join(header)})"
                )
        kinds = {name: spec.type for name, spec in contract.columns.items()}
        return [
            {
                key: (_typed(value, kinds.get(key, "")) if value != "" else None)
                for key, value in zip(header, row, strict=True)
            }
            for row in rows
        ]
    if content_type.startswith("application/json") or not content_type:
        try:
            payload = json.loads(body or b"null")
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise _invalid(f"malformed JSON: {error}") from None
        except RecursionError:
            raise _invalid("the JSON is nested too deeply") from None
        if isinstance(payload, dict):
            payload = payload.get("instances", payload.get("records"))
        if not isinstance(payload, list):
            raise _invalid('expected a list of records, or {"instances": [...]}')
        return payload
    raise _invalid(f"unsupported content type {content_type!r}; use application/json or text/csv")


def create_app(
    settings: Settings | None = None,
    serving: ServingSettings | None = None,
    *,
    loader: Loader = load_models,
) -> FastAPI:
    """Build the app; the model loads at start-up (readiness reports any failure)."""
    settings = settings or load_settings()
    serving = serving or load_serving_settings(settings)
    state = ServingState(serving)
    Record = record_model(settings.contract)
    features = set(settings.contract.features)
    PredictRequest = request_model(Record, serving.max_batch_size)
    batch_adapter = TypeAdapter(list[Record])  # type: ignore[valid-type]

    async def load_until_ready() -> None:
        """Retry a failed load with exponential backoff until the registry answers."""
        delay = serving.load_retry_seconds
        while state.champion is None:
            await asyncio.sleep(delay)
            await asyncio.to_thread(state.load, settings, loader)
            delay = min(delay * 2, 60.0)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state.logger.start()
        state.load(settings, loader)
        retrying = asyncio.create_task(load_until_ready())
        yield
        retrying.cancel()
        state.logger.stop()

    app = FastAPI(title="{{ cookiecutter.project_name }}", lifespan=lifespan)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(RecursionError, nested_too_deeply)
    app.add_middleware(BodyLimit, max_bytes=serving.max_request_bytes)
    app.state.serving = state

    @app.get("/health")
    def health() -> dict[str, str]:
        """The process is alive."""
        return {"status": "ok"}

    @app.get("/ready")
    def ready() -> Any:
        """The model is loaded and can answer; how the prediction log is doing (ok or degraded)."""
        if state.champion is None:
            return _not_ready(state)
        return {"status": "ready", "prediction_log": state.logger.status()}

    @app.get("/metadata")
    def metadata() -> Any:
        """Which model answers: name, version, run, lineage; canary and shadow settings."""
        if state.champion is None:
            return _not_ready(state)
        return {
            "model": settings.params.mlflow.registered_model,
            "champion": state.champion.metadata(),
            "challenger": state.challenger.metadata() if state.challenger else None,
            "canary_fraction": state.canary_fraction,
            "canary_disabled": state.canary_disabled,
            "shadow": serving.shadow,
            "max_batch_size": serving.max_batch_size,
        }

    @app.post("/predict")
    async def predict(request: PredictRequest) -> Any:  # type: ignore[valid-type]
        """Score a batch of records."""
        if state.champion is None:
            return _not_ready(state)
        records = [as_input(record, features) for record in request.records]  # type: ignore[attr-defined]
        return await answer(state, records)

    @app.get("/ping")
    def ping() -> Any:
        """SageMaker health check."""
        return {"status": "ok"} if state.champion else _not_ready(state)

    @app.post("/invocations")
    async def invocations(request: Request) -> Any:
        """SageMaker inference: JSON or CSV records in, predictions out."""
        if state.champion is None:
            return _not_ready(state)
        # Parsing a large body happens in a worker thread: other requests keep being answered.
        raw = await asyncio.to_thread(
            parse_invocation,
            await request.body(),
            request.headers.get("content-type", ""),
            settings.contract,
        )
        if not raw:
            raise _invalid("the batch is empty; send at least one record")
        if len(raw) > serving.max_batch_size:
            raise _invalid(
                f"the batch has {len(raw)} records; the limit is {serving.max_batch_size}"
            )
        try:
            validated = await asyncio.to_thread(batch_adapter.validate_python, raw)
        except ValidationError as error:
            raise RequestValidationError(error.errors(include_url=False)) from None
        return await answer(state, [as_input(record, features) for record in validated])

    return app

"""The FastAPI app: health, readiness, metadata, metrics, predictions, SageMaker-compatible routes.

Start it with `make serve` (uvicorn), or `serve` (the SageMaker contract, port 8080). It
loads the `champion` alias from the MLflow registry (or MODEL_URI), retrying with backoff
until it can, and loads it again when the alias moves (a promotion or a rollback; checked every
MODEL_RELOAD_SECONDS); CANARY_FRACTION and SHADOW bring in the `challenger`. Every invalid request,
including one the model cannot score, is a 4xx that names the problem (see serving.requests).
"""

import asyncio
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import TypeAdapter, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from mlplate_runtime.config import (
    ServingSettings,
    Settings,
    load_serving_settings,
    load_settings,
)
from mlplate_runtime.logs import configure_server_once
from mlplate_runtime.models.tasks import task_for
from mlplate_runtime.project import current_project
from mlplate_runtime.serving.metrics import CONTENT_TYPE, RequestMetrics, UnusualInputs
from mlplate_runtime.serving.models import alias_versions, load_models
from mlplate_runtime.serving.requests import (
    BodyLimit,
    as_input,
    http_error,
    invalid,
    nested_too_deeply,
    parse_invocation,
    validation_error,
)
from mlplate_runtime.serving.schemas import record_model, request_model
from mlplate_runtime.serving.state import Loader, Probe, ServingState


async def answer(state: ServingState, records: list[dict[str, Any]]) -> dict[str, Any]:
    """Predictions for validated records; a record the model cannot score is the client's 422."""
    try:
        return await state.predict(records)
    except (ValueError, TypeError, OverflowError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise invalid(f"these records cannot be scored: {reason}") from None


def _not_ready(state: ServingState) -> JSONResponse:
    return JSONResponse(
        status_code=503, content={"status": "not ready", "reason": state.not_ready_reason}
    )


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"description": "The body cannot be decoded (not UTF-8 JSON)"},
    413: {"description": "The body is larger than MAX_REQUEST_BYTES"},
    422: {
        "description": "Invalid records: one message per field, or why they cannot be scored",
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/HTTPValidationError"}}
        },
    },
    503: {"description": "The model is not loaded (yet): the reason is given"},
}


def invocations_body(limit: int) -> dict[str, Any]:
    """The documented /invocations body: JSON records (a list or under "instances") or CSV."""
    records = {
        "type": "array",
        "items": {"$ref": "#/components/schemas/Record"},
        "minItems": 1,
        "maxItems": limit,
    }
    return {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [
                        records,
                        {
                            "type": "object",
                            "properties": {"instances": records},
                            "required": ["instances"],
                        },
                    ]
                }
            },
            "text/csv": {
                "schema": {
                    "type": "string",
                    "description": "One record per line: the contract's feature columns in "
                    "order, or any of its columns in the order a header line names them (the "
                    "target's column is ignored)",
                }
            },
        },
    }


# What /metrics counts a request as when its client went away before sending it all (nginx's
# code for "client closed request"): not the server's error.
CLIENT_CLOSED_REQUEST = 499

# How long start-up waits for the first load before listening anyway: a slow or unreachable
# tracking store must not keep /health silent (the load goes on in the background).
STARTUP_WAIT_SECONDS = 10.0


def _lifespan(state: ServingState, settings: Settings, loader: Loader, probe: Probe) -> Any:
    """Start the prediction log and load the model, retrying with backoff until it loads; then
    load it again whenever its alias moves (checked every MODEL_RELOAD_SECONDS)."""

    async def load_until_ready(first: asyncio.Future[None]) -> None:
        await first
        delay = state.serving.load_retry_seconds
        while state.champion is None:
            await asyncio.sleep(delay)
            await asyncio.to_thread(state.load, settings, loader)
            delay = min(delay * 2, 60.0)
        while state.serving.reload_seconds > 0:
            await asyncio.sleep(state.serving.reload_seconds)
            await asyncio.to_thread(state.reload, settings, loader, probe)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state.logger.start()
        first = asyncio.ensure_future(asyncio.to_thread(state.load, settings, loader))
        loaded, _ = await asyncio.wait({first}, timeout=STARTUP_WAIT_SECONDS)
        if not loaded:
            state.not_ready_reason = "the model is still loading (is the tracking store slow?)"
            logging.getLogger(__name__).warning(
                "listening before the model loaded: %s", state.not_ready_reason
            )
        retrying = asyncio.create_task(load_until_ready(first))
        yield
        retrying.cancel()
        state.logger.stop()

    return lifespan


def _operations_routes(app: FastAPI, state: ServingState, settings: Settings) -> None:
    """Liveness, readiness, metadata and metrics."""

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

    @app.get("/ping")
    def ping() -> Any:
        """SageMaker health check."""
        return {"status": "ok"} if state.champion else _not_ready(state)

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
            "shadow": state.serving.shadow,
            "max_batch_size": state.serving.max_batch_size,
        }

    @app.get("/metrics", response_class=Response)
    def metrics() -> Response:
        """Prometheus metrics (text exposition format)."""
        return Response(state.metrics.render(), media_type=CONTENT_TYPE)


def _prediction_routes(app: FastAPI, state: ServingState, settings: Settings) -> None:
    """/predict (validated JSON) and /invocations (SageMaker: JSON or CSV)."""
    Record = record_model(settings.contract)
    features = set(settings.contract.features)
    limit = state.serving.max_batch_size
    PredictRequest = request_model(Record, limit)
    batch_adapter = TypeAdapter(list[Record])  # type: ignore[valid-type]
    unusual = UnusualInputs(settings.contract, state.metrics.registry)

    @app.post("/predict", responses=ERROR_RESPONSES)
    async def predict(request: PredictRequest) -> Any:  # type: ignore[valid-type]
        """Score a batch of records."""
        if state.champion is None:
            return _not_ready(state)
        records = [as_input(record, features) for record in request.records]  # type: ignore[attr-defined]
        unusual.observe(records)
        return await answer(state, records)

    @app.post(
        "/invocations",
        responses=ERROR_RESPONSES,
        openapi_extra={"requestBody": invocations_body(limit)},
    )
    async def invocations(request: Request) -> Any:
        """SageMaker inference: JSON or CSV records in, predictions out."""
        if state.champion is None:
            return _not_ready(state)
        try:
            body = await request.body()
        except ClientDisconnect:  # the client left mid-body: nobody to answer, not an error
            return Response(status_code=CLIENT_CLOSED_REQUEST)
        # Parsing a large body happens in a worker thread: other requests keep being answered.
        raw = await asyncio.to_thread(
            parse_invocation, body, request.headers.get("content-type", ""), settings.contract
        )
        if not raw:
            raise invalid("the batch is empty; send at least one record")
        if len(raw) > limit:
            raise invalid(f"the batch has {len(raw)} records; the limit is {limit}")
        try:
            validated = await asyncio.to_thread(batch_adapter.validate_python, raw)
        except ValidationError as error:
            raise RequestValidationError(error.errors(include_url=False)) from None
        records = [as_input(record, features) for record in validated]
        unusual.observe(records)
        return await answer(state, records)


def _project_routes(app: FastAPI) -> list[str]:
    """Add the routes of the project's own routes.py (``router = APIRouter()``), after the
    runtime's: a project route cannot replace /predict, /health or any other runtime route."""
    from fastapi import APIRouter

    from mlplate_runtime.errors import ProjectError
    from mlplate_runtime.project import team_module

    module = team_module("routes")
    if module is None:
        return []
    router = getattr(module, "router", None)
    if not isinstance(router, APIRouter):
        raise ProjectError("routes.py must define `router = APIRouter()` with the project's routes")
    taken = {route.path for route in app.routes}  # type: ignore[attr-defined]
    clash = sorted(route.path for route in router.routes if route.path in taken)  # type: ignore[attr-defined]
    if clash:
        raise ProjectError(f"routes.py: {clash} are the runtime's routes; give yours other paths")
    app.include_router(router)
    logging.getLogger(__name__).info("serving the project's routes from routes.py")
    return [route.path for route in router.routes]  # type: ignore[attr-defined]


def create_app(
    settings: Settings | None = None,
    serving: ServingSettings | None = None,
    *,
    loader: Loader = load_models,
    probe: Probe = alias_versions,
) -> FastAPI:
    """Build the app; the model loads at start-up (readiness reports any failure), and again
    when ``probe`` finds its alias moved."""
    configure_server_once()
    # The app retries a failed load itself (with backoff): MLflow's own retries, minutes long
    # by default, would only keep a load of an unreachable store hanging.
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "1")
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "10")
    settings = settings or load_settings()
    serving = serving or load_serving_settings(settings)
    state = ServingState(serving, classification=task_for(settings).name != "regression")
    lifespan = _lifespan(state, settings, loader, probe)
    app = FastAPI(title=current_project().name, lifespan=lifespan)
    app.state.serving = state
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(RecursionError, nested_too_deeply)
    app.add_exception_handler(StarletteHTTPException, http_error)
    _operations_routes(app, state, settings)
    _prediction_routes(app, state, settings)
    if settings.params.feature_store is not None:  # the feature_store answer `feast`
        from mlplate_runtime.serving.by_id import by_id_routes

        by_id_routes(app, state, settings, ERROR_RESPONSES)
    runtime_routes = [route.path for route in app.routes]  # type: ignore[attr-defined]
    routes = frozenset([*runtime_routes, *_project_routes(app)])
    app.add_middleware(BodyLimit, max_bytes=serving.max_request_bytes)
    app.add_middleware(RequestMetrics, metrics=state.metrics, routes=routes)  # outermost
    return app

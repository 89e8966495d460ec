"""POST /predict/by-id: score entities by id, their features read from the online store.

The caller sends ids only; the model inputs are the values `make features` materialized
(Feast's online store, as feature_store.yaml configures it). An id the store does not know is
a 404 naming it; a store that cannot answer (not built yet, unreachable) is a 503.
"""

# No `from __future__ import annotations`: FastAPI reads the request model from the
# route's real annotation (a class built at start-up, not a module-level name).
import asyncio
from typing import Annotated, Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, Strict, create_model

from mlplate_runtime.config import Settings
from mlplate_runtime.errors import ProjectError
from mlplate_runtime.features.store import OnlineFeatures
from mlplate_runtime.serving.state import ServingState

BY_ID_RESPONSES: dict[int | str, dict[str, Any]] = {
    404: {"description": "An id has no features in the online store: the ids are given"},
    503: {"description": "The model or the feature store cannot answer (yet): the reason is given"},
}


def ids_request(settings: Settings, limit: int) -> type[BaseModel]:
    """The request body: 1 to ``limit`` ids, typed as the contract's id column."""
    features = OnlineFeatures(settings)
    integer = settings.contract.columns[features.key].type == "integer"
    # Integer ids are the store's 64-bit keys: a larger number is the client's error (422).
    int64 = Field(ge=-(2**63), le=2**63 - 1)
    kind: Any = Annotated[int, Strict(), int64] if integer else Annotated[str, Field(min_length=1)]
    return create_model(
        "IdsRequest",
        ids=(list[kind], Field(min_length=1, max_length=limit, description=features.key)),
    )


def by_id_routes(
    app: FastAPI, state: ServingState, settings: Settings, responses: dict[int | str, Any]
) -> None:
    """Add the route; ``responses`` are the app's documented error responses."""
    features = OnlineFeatures(settings)
    IdsRequest = ids_request(settings, state.serving.max_batch_size)

    @app.post("/predict/by-id", responses={**responses, **BY_ID_RESPONSES})
    async def predict_by_id(request: IdsRequest) -> Any:  # type: ignore[valid-type]
        """Score entities by id: their features come from the feature store."""
        if state.champion is None:
            return JSONResponse(status_code=503, content={"detail": state.not_ready_reason})
        ids = list(request.ids)  # type: ignore[attr-defined]
        try:
            records, unknown = await asyncio.to_thread(features.lookup, ids)
        except ProjectError as error:
            return JSONResponse(status_code=503, content={"detail": str(error)})
        if unknown:
            shown = ", ".join(repr(value) for value in unknown[:5])
            return JSONResponse(
                status_code=404,
                content={"detail": f"no features for {features.key} {shown} in the feature store"},
            )
        return {"ids": ids, **await state.predict(records)}

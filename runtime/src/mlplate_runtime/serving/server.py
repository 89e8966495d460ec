"""`serve`: run the API the way SageMaker starts a container (`docker run <image> serve`).

It listens on 0.0.0.0 and PORT (8080 by default, SageMaker's port) and answers /ping and
/invocations beside the other routes; the image's default command is the same. It logs JSON
lines (MLPLATE_LOG_LEVEL, MLPLATE_LOG_FORMAT: see mlplate_runtime.logs).
"""

from __future__ import annotations

import os


def main() -> None:
    """Start uvicorn with the app factory; arguments (SageMaker passes `serve`) are ignored."""
    import uvicorn

    from mlplate_runtime.config import serving_numbers
    from mlplate_runtime.errors import ProjectError
    from mlplate_runtime.logs import server_config

    try:
        log_config = server_config()
        serving_numbers()  # a bad setting: one line here, not a traceback from inside uvicorn
    except ProjectError as error:
        raise SystemExit(f"error: {error}") from None
    uvicorn.run(
        "mlplate_runtime.serving.app:create_app",
        factory=True,
        host=os.environ.get("HOST", "0.0.0.0"),  # noqa: S104 (a container's port is published)
        port=int(os.environ.get("PORT", "8080")),
        log_config=log_config,
    )

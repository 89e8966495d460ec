"""The registry lock: one promotion gate at a time reads the champion and moves the alias.

MLflow has no compare-and-set for aliases, but every store refuses a second registered model
of the same name (a unique key), so creating one is an atomic test-and-set that works alike on
SQLite, a database and an `mlflow server`. The lock is the model ``<name>.gate-lock``; it exists
only while a gate runs. A holder that died leaves it behind: it is taken over once stale.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from mlplate_runtime.errors import ProjectError

LOCK_SUFFIX = ".gate-lock"
WAIT_SECONDS = 300.0  # how long a gate waits for another one to finish
STALE_SECONDS = 900.0  # a lock older than this was left by a gate that died
log = logging.getLogger(__name__)


def lock_name(model: str) -> str:
    """The registered model that holds the gate lock of ``model``."""
    return f"{model}{LOCK_SUFFIX}"


def _take(client: Any, name: str) -> bool:
    from mlflow.exceptions import MlflowException

    holder = f"held by the promotion gate on {socket.gethostname()}, pid {os.getpid()}"
    try:
        client.create_registered_model(name, description=holder)
    except MlflowException as error:
        # Taken; or taken and released between MLflow's insert and its look-up of the holder.
        if error.error_code in {"RESOURCE_ALREADY_EXISTS", "RESOURCE_DOES_NOT_EXIST"}:
            return False
        raise
    return True


def _drop_if_stale(client: Any, name: str, stale_seconds: float) -> None:
    from mlflow.exceptions import MlflowException

    try:
        created = client.get_registered_model(name).creation_timestamp / 1000
        if time.time() - created > stale_seconds:
            log.warning(
                "taking over %s, left %.0f s ago by a gate that died", name, time.time() - created
            )
            client.delete_registered_model(name)
    except MlflowException:
        pass  # released meanwhile, or another gate took it over


@contextmanager
def gate_lock(
    client: Any,
    model: str,
    *,
    wait_seconds: float = WAIT_SECONDS,
    stale_seconds: float = STALE_SECONDS,
) -> Iterator[None]:
    """Hold ``model``'s gate lock for the block; wait (with jittered backoff) while another has it."""
    name = lock_name(model)
    deadline = time.monotonic() + wait_seconds
    delay = 0.05
    while not _take(client, name):
        _drop_if_stale(client, name, stale_seconds)
        if time.monotonic() > deadline:
            raise ProjectError(
                f"another `make register` of {model!r} has held the registry lock for over "
                f"{wait_seconds:.0f} s; run it again later, or delete the registered model "
                f"{name!r} if that run died"
            )
        time.sleep(delay * (1 + random.random()))  # noqa: S311 - jitter, not security
        delay = min(delay * 2, 1.0)
    try:
        yield
    finally:
        from mlflow.exceptions import MlflowException

        try:
            client.delete_registered_model(name)
        except MlflowException:
            log.warning("could not release %s; the next gate takes it over once stale", name)

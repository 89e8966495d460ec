"""This project's Feast objects, for the feast CLI (`feast -c feature_repo apply`, `feast ui`).

The package builds them from data/contract.yaml and params.yaml, as `make features` does:
an entity for the contract's id column and a feature view of its feature columns.
"""

from pathlib import Path

from mlplate_runtime.config import load_settings
from mlplate_runtime.features.store import definitions

PARAMS = Path(__file__).resolve().parents[1] / "params.yaml"
entity, feature_view = definitions(load_settings(PARAMS))

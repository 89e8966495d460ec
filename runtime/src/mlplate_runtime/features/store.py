"""The Feast feature store: its objects from the data contract, the `features` stage, and reads.

The entity is the contract's id column; one feature view holds the contract's feature
columns. The `features` stage writes the feature table (both prepared splits, each row
stamped with params.yaml `feature_store.as_of`), registers the objects (`feast apply`) and
materializes the values into the online store. Training and evaluation read their frame
through a point-in-time join (`get_historical_features`): labels and ids come from the split,
feature values from the store as of the label's time. The API looks features up by id in the
online store. Where the registry and online store live is Feast's own feature_store.yaml.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, get_args

import pandas as pd

from mlplate_runtime.config import FeatureStoreParams, Settings, Split
from mlplate_runtime.data.contract import Contract
from mlplate_runtime.errors import ProjectError
from mlplate_runtime.features.build import feature_matrix

if TYPE_CHECKING:
    from feast import Entity, FeatureStore, FeatureView

TIMESTAMP = "event_timestamp"


@contextmanager
def _typeguard_off() -> Iterator[None]:
    """Make typeguard's @typechecked a no-op while feast loads.

    feast decorates a few hundred functions with it, and each is parsed, rewritten and
    recompiled at import: about 5 s in every process that reads the store (training,
    evaluation, the app). typeguard means these checks for development, not production (they
    are off under `python -O`); the runtime's calls into feast are covered by its own tests.
    """
    try:
        import typeguard
    except ImportError:  # a feast without typeguard: nothing to switch off
        yield
        return
    original = typeguard.typechecked

    def passthrough(target: Any = None, **_options: Any) -> Any:
        return target if target is not None else (lambda function: function)

    typeguard.typechecked = passthrough  # type: ignore[assignment]
    try:
        yield
    finally:
        typeguard.typechecked = original


def _feast() -> Any:
    """The feast package, imported without typeguard's instrumentation (see above)."""
    if "feast" not in sys.modules:
        with _typeguard_off():
            for module in ("feast", "feast.feature_store", "feast.types"):
                importlib.import_module(module)
    return sys.modules["feast"]


def _params(settings: Settings) -> FeatureStoreParams:
    if settings.params.feature_store is None:
        raise ProjectError("params.yaml has no feature_store section")
    return settings.params.feature_store


def id_column(contract: Contract) -> str:
    """The entity's join key: the one column with role: id."""
    ids = [name for name, spec in contract.columns.items() if spec.role == "id"]
    if len(ids) != 1:
        found = f"columns {ids} have" if ids else "no column has"
        raise ProjectError(
            f"the feature store needs one id column, but {found} role: id in the contract; "
            "give exactly one column role: id"
        )
    return ids[0]


def view_name(contract: Contract) -> str:
    """The feature view's name, from the dataset's name."""
    return re.sub(r"\W+", "_", contract.name).strip("_").lower() + "_features"


def feature_refs(contract: Contract) -> list[str]:
    """`view:feature` references of every model input."""
    return [f"{view_name(contract)}:{name}" for name in contract.features]


def open_store(settings: Settings) -> FeatureStore:
    """The project's store, configured by feature_store.yaml in the repository folder."""
    feast = _feast()
    repo = settings.path(_params(settings).repo_path)
    if not (repo / "feature_store.yaml").is_file():
        raise ProjectError(f"{repo / 'feature_store.yaml'} does not exist")
    with _typeguard_off():  # the store loads its providers' modules now
        return feast.FeatureStore(repo_path=str(repo))


def definitions(settings: Settings) -> tuple[Entity, FeatureView]:
    """The entity and feature view the contract describes."""
    _feast()
    from feast import Entity, FeatureView, Field, FileSource, ValueType
    from feast.types import Float64, String

    contract, params = settings.contract, _params(settings)
    key = id_column(contract)
    integer_key = contract.columns[key].type == "integer"
    entity = Entity(
        name=key,
        join_keys=[key],
        value_type=ValueType.INT64 if integer_key else ValueType.STRING,
        description=contract.columns[key].description or f"{contract.name} id",
    )
    table = os.path.relpath(settings.path(params.table_path), settings.path(params.repo_path))
    source = FileSource(name=f"{view_name(contract)}_source", path=table, timestamp_field=TIMESTAMP)
    schema = [
        Field(name=name, dtype=Float64 if contract.columns[name].is_numeric else String)
        for name in contract.features
    ]
    view = FeatureView(
        name=view_name(contract),
        entities=[entity],
        ttl=timedelta(days=params.ttl_days),
        schema=schema,
        source=source,
        online=True,
        description=f"Model inputs of {contract.name} (data/contract.yaml)",
    )
    return entity, view


def _keys(values: pd.Series, contract: Contract) -> pd.Series:
    """Id values typed as the entity's join key."""
    if contract.columns[id_column(contract)].type == "integer":
        return values.astype("int64")
    return values.astype(str)


def feature_table(settings: Settings) -> pd.DataFrame:
    """Id, model inputs and event time of every prepared row (both splits)."""
    contract = settings.contract
    key = id_column(contract)
    frame = pd.concat(
        [pd.read_csv(settings.features(split)) for split in get_args(Split)], ignore_index=True
    )
    duplicated = frame[key][frame[key].duplicated()]
    if not duplicated.empty:
        raise ProjectError(
            f"id column {key!r} repeats {duplicated.iloc[0]!r}: a feature store needs one row "
            "per id and event time"
        )
    table = feature_matrix(frame, contract)
    table.insert(0, key, _keys(frame[key], contract))
    table[TIMESTAMP] = _params(settings).as_of
    return table


def build_store(settings: Settings) -> int:
    """Run the stage: write the feature table, apply the definitions, materialize; rows written."""
    params = _params(settings)
    table = feature_table(settings)
    path = settings.path(params.table_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    table.to_parquet(path, index=False)
    store = open_store(settings)
    store.apply(list(definitions(settings)))
    end = max(datetime.now(params.as_of.tzinfo), params.as_of + timedelta(seconds=1))
    store.materialize(params.as_of - timedelta(days=params.ttl_days), end)
    return len(table)


def historical_features(settings: Settings, split: Split) -> pd.DataFrame:
    """A split with its model inputs read from the store as of params `feature_store.as_of`."""
    contract, params = settings.contract, _params(settings)
    key = id_column(contract)
    split_frame = pd.read_csv(settings.features(split))
    labels = split_frame.drop(columns=[name for name in contract.features if name in split_frame])
    labels[key] = _keys(labels[key], contract)
    entities = pd.DataFrame({key: labels[key], TIMESTAMP: params.as_of})
    joined = (
        open_store(settings)
        .get_historical_features(entity_df=entities, features=feature_refs(contract))
        .to_df()
        .drop(columns=[TIMESTAMP])
        .drop_duplicates(subset=[key])
    )
    frame = labels.merge(joined, on=key, how="left", validate="one_to_one")
    missing = frame[list(contract.features)].isna().all(axis=1)
    if missing.any():
        raise ProjectError(
            f"{int(missing.sum())} {split} rows have no feature values in the store as of "
            f"{params.as_of.isoformat()} (ttl {params.ttl_days} days), e.g. {key} "
            f"{frame[key][missing].iloc[0]!r}; run `make features`"
        )
    return frame[list(split_frame.columns)]


class OnlineFeatures:
    """Model inputs by id from the online store (opened at the first lookup)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.key = id_column(settings.contract)
        self._store: FeatureStore | None = None

    def lookup(self, ids: list[Any]) -> tuple[list[dict[str, Any]], list[Any]]:
        """The records of the ids the store knows, and the ids it does not know."""
        contract = self.settings.contract
        try:
            if self._store is None:
                self._store = open_store(self.settings)
            found = self._store.get_online_features(
                features=feature_refs(contract), entity_rows=[{self.key: value} for value in ids]
            ).to_dict()
        except ProjectError:
            raise
        except Exception as error:  # Feast's errors (no registry, no table...) have many types
            reason = (
                str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            )
            raise ProjectError(
                f"the feature store cannot answer ({reason}); run `make features`"
            ) from None
        records, unknown = [], []
        for index, value in enumerate(ids):
            record = {name: found[name][index] for name in contract.features}
            if all(item is None for item in record.values()):
                unknown.append(value)
            else:
                records.append(record)
        return records, unknown

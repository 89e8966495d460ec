"""Every stage on data made from the contract, with a temporary MLflow store; bad data stops early."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from mlplate_runtime.data.contract import ColumnSpec
from mlplate_runtime.data.prepare import check_raw_data, prepare
from mlplate_runtime.data.synthetic import write_table
from mlplate_runtime.data.versioning import ensure_raw_data, pointer_path
from mlplate_runtime.errors import DataValidationError, ProjectError
from mlplate_runtime.features.build import featurize
from mlplate_runtime.models.evaluate import evaluate
from mlplate_runtime.models.registry import champion_lineage, register
from mlplate_runtime.models.train import train
from support import with_slices


def run_pipeline(settings, frame, after_prepare=None):
    write_table(settings.path(settings.params.data.raw_path), frame)
    check_raw_data(settings)
    prepare(settings)
    if after_prepare is not None:
        after_prepare(settings)
    featurize(settings)
    if settings.params.feature_store is not None:
        from mlplate_runtime.features.store import build_store

        build_store(settings)  # the feature_store stage: train and evaluate read through it
    run_info = train(settings)
    metrics = evaluate(settings)
    return run_info, metrics


def test_pipeline_trains_evaluates_and_registers_a_champion(settings, sample):
    run_info, metrics = run_pipeline(settings, sample)
    contract, params = settings.contract, settings.params
    if contract.task == "regression":
        assert 0.5 < metrics["r2"] <= 1.0  # the synthetic target follows the features
    else:
        assert 0.7 < metrics["roc_auc"] <= 1.0
    written = json.loads(settings.path(params.evaluate.metrics_path).read_text())
    assert written["n_test"] == pytest.approx(
        len(sample) * params.data.test_size, abs=len(contract.classes) + 1
    )
    if contract.task == "classification":  # each class's precision, recall, F1, support
        per_class = written["per_class"]
        assert list(per_class) == [str(label) for label in contract.classes]
        assert sum(values["support"] for values in per_class.values()) == written["n_test"]
    fairness = json.loads(settings.path(params.evaluate.fairness_path).read_text())["groups_by"]
    assert set(fairness) == set(contract.sensitive)
    plots = settings.path(params.evaluate.plots_dir)
    png = "residuals.png" if contract.task == "regression" else "confusion_matrix.png"
    assert (plots / png).stat().st_size > 0
    assert "lineage.params_hash" in run_info["tags"]

    report = register(settings, allow_uncommitted=True)
    assert report["promote"] and report["alias_set"] == "champion"
    lineage = champion_lineage(settings)
    assert lineage["run_id"] == run_info["run_id"]
    assert lineage["params_hash"] == settings.params_hash

    again = register(settings, allow_uncommitted=True)  # same run: no new version, stays champion
    assert again["candidate_version"] == report["candidate_version"]
    from mlflow import MlflowClient

    name, version = settings.params.mlflow.registered_model, str(report["candidate_version"])
    tags = MlflowClient(settings.tracking_uri).get_model_version(name, version).tags
    assert "promoted_at" in tags  # the history `make rollback` walks back
    assert "previous_champion" not in tags  # the first champion replaced none


def test_a_candidate_with_other_inputs_is_refused_before_anything_is_registered(settings, sample):
    run_pipeline(settings, sample)
    register(settings, allow_uncommitted=True)
    contract = settings.contract
    dropped = contract.features[0]
    columns = {**contract.columns, dropped: ColumnSpec(type="categorical", role="ignored")}
    changed = settings.model_copy(
        update={"contract": contract.model_copy(update={"columns": columns})}
    )
    run_pipeline(changed, sample)
    from mlflow import MlflowClient

    name = settings.params.mlflow.registered_model
    before = len(MlflowClient(settings.tracking_uri).search_model_versions(f"name='{name}'"))
    with pytest.raises(
        ProjectError,
        match=rf"no longer has \[{re.escape(repr(dropped))}\].*mlflow.registered_model",
    ):
        register(changed, allow_uncommitted=True)
    assert (
        len(MlflowClient(settings.tracking_uri).search_model_versions(f"name='{name}'")) == before
    )


def test_uncommitted_training_is_not_promoted_without_the_override(settings, sample):
    run_info, _ = run_pipeline(settings, sample)
    run_file = settings.path(settings.params.train.run_info_path)
    run_info["tags"]["lineage.git_dirty"] = "true"
    run_file.write_text(json.dumps(run_info))
    report = register(settings)
    assert not report["promote"] and report["alias_set"] == "challenger"
    assert "uncommitted" in report["reason"]


def _outputs(settings):
    data = settings.params.data
    return {
        path: sorted(p.name for p in settings.path(path).iterdir())
        for path in (data.prepared_dir, data.features_dir)
        if settings.path(path).exists()
    }


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        (lambda frame, c: frame.drop(columns=[c.features[0]]), "missing column"),
        (lambda frame, c: frame.head(5), "at least 20 are needed"),
        (lambda frame, c: frame.iloc[0:0], "has no rows"),
    ],
)
def test_invalid_data_stops_before_prepare_and_keeps_previous_outputs(
    settings, sample, breakage, message
):
    write_table(settings.path(settings.params.data.raw_path), sample)
    prepare(settings)
    featurize(settings)
    before = _outputs(settings)
    write_table(settings.path(settings.params.data.raw_path), breakage(sample, settings.contract))
    with pytest.raises(DataValidationError, match=message):
        check_raw_data(settings)
    with pytest.raises(DataValidationError, match=message):
        prepare(settings)
    assert _outputs(settings) == before


def test_a_numeric_feature_with_infinity_is_named_with_its_line(settings, sample):
    numeric = [
        n
        for n in settings.contract.numeric_features
        if settings.contract.columns[n].type == "numeric"
    ]
    if not numeric:
        pytest.skip("the contract has no float feature")
    broken = sample.copy()
    broken.loc[3, numeric[0]] = float("inf")
    write_table(settings.path(settings.params.data.raw_path), broken)
    with pytest.raises(
        DataValidationError, match=re.escape(f"'{numeric[0]}': infinite values at lines 5")
    ):
        check_raw_data(settings)


def test_a_single_class_is_refused(settings, sample):
    if settings.contract.task != "classification":
        pytest.skip("regression has no classes")
    write_table(
        settings.path(settings.params.data.raw_path),
        sample.assign(**{settings.contract.target: settings.contract.classes[0]}),
    )
    with pytest.raises(DataValidationError, match="single class"):
        check_raw_data(settings)


def with_raw_path(settings, raw_path):
    data = settings.params.data.model_copy(update={"raw_path": raw_path})
    return settings.model_copy(update={"params": settings.params.model_copy(update={"data": data})})


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("data.csv", b"", "is empty"),
        ("data.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00", "is not a text file"),
        ("data.csv", b"a,b,a\n1,2,3\n", "duplicated column names ['a']"),
        ("data.csv", b"a,b\n\xff\xfe,1\n", "not UTF-8"),
        ("data.parquet", b"a,b\n1,2\n", "not a readable Parquet file"),
    ],
)
def test_files_that_are_not_tables_get_one_line(settings, name, content, message):
    settings = with_raw_path(settings, settings.params.data.raw_path.with_name(name))
    raw = settings.path(settings.params.data.raw_path)
    raw.parent.mkdir(parents=True)
    raw.write_bytes(content)
    with pytest.raises(DataValidationError) as error:
        check_raw_data(settings)
    assert message in str(error.value) and "\n" not in str(error.value)


def test_a_tracked_file_missing_here_asks_for_make_pull_and_writes_nothing(settings):
    user_data = settings.model_copy(
        update={"contract": settings.contract.model_copy(update={"example": False})}
    )
    pointer = pointer_path(user_data)
    pointer.parent.mkdir(parents=True, exist_ok=True)
    pointer.write_text("outs:\n- md5: 0123456789abcdef0123456789abcdef.dir\n  path: raw\n")
    with pytest.raises(ProjectError, match="make pull"):
        ensure_raw_data(user_data)
    assert not settings.path(settings.params.data.raw_path).exists()
    assert pointer.read_text().startswith("outs:\n- md5: 0123456789abcdef")


def test_without_the_example_a_missing_file_asks_for_use_data(settings):
    user_data = settings.model_copy(
        update={"contract": settings.contract.model_copy(update={"example": False})}
    )
    with pytest.raises(ProjectError, match="make use-data"):
        ensure_raw_data(user_data)


def test_parquet_raw_data_runs_the_pipeline(settings, sample):
    as_parquet = with_raw_path(settings, settings.params.data.raw_path.with_suffix(".parquet"))
    write_table(as_parquet.path(as_parquet.params.data.raw_path), sample)
    assert check_raw_data(as_parquet) == {
        "rows": len(sample),
        "columns": len(sample.columns),
        "rows_without_target": 0,
    }
    n_train, n_test = prepare(as_parquet)
    assert n_train + n_test == len(sample)


def test_a_metric_that_is_not_a_number_stops_evaluation_and_registration(settings, sample):
    if settings.contract.task != "classification":
        pytest.skip("regression metrics are defined on any holdout")
    evaluate_params = settings.params.evaluate.model_copy(update={"primary_metric": "roc_auc"})
    params = settings.params.model_copy(update={"evaluate": evaluate_params})
    settings = settings.model_copy(update={"params": params})
    run_pipeline(settings, sample)
    holdout = settings.path(params.data.features_dir / "test.csv")
    frame = pd.read_csv(holdout)
    target = settings.contract.target
    frame[frame[target].astype(str) == str(frame[target].iloc[0])].to_csv(holdout, index=False)
    with pytest.raises(ProjectError, match="roc_auc is not a number"):
        evaluate(settings)
    settings.path(params.evaluate.metrics_path).write_text(json.dumps({"roc_auc": float("nan")}))
    with pytest.raises(ProjectError, match="nothing registered"):
        register(settings, allow_uncommitted=True)


def test_a_model_that_is_not_what_dvc_lock_records_is_never_registered(settings, sample):
    """A stage run outside DVC (or killed mid-way) leaves a model that dvc.lock and the
    metrics do not describe: registering it would log another model's score."""
    import hashlib

    import yaml
    from mlflow import MlflowClient

    run_pipeline(settings, sample)
    params = settings.params
    outs = {
        "train": params.train.model_path,
        "evaluate": params.evaluate.metrics_path,
    }
    lock = {
        "schema": "2.0",
        "stages": {
            stage: {
                "cmd": f"demo {stage}",
                "outs": [
                    {
                        "path": path.as_posix(),
                        "hash": "md5",
                        "md5": hashlib.md5(
                            settings.path(path).read_bytes(), usedforsecurity=False
                        ).hexdigest(),
                    }
                ],
            }
            for stage, path in outs.items()
        },
    }
    (settings.root / "dvc.lock").write_text(yaml.safe_dump(lock))
    model = settings.path(params.train.model_path)
    model.write_bytes(model.read_bytes() + b"\n")  # retrained outside the pipeline
    with pytest.raises(
        ProjectError, match=r"model.skops is not what dvc.lock records for stage 'train'"
    ):
        register(settings, allow_uncommitted=True)
    name = params.mlflow.registered_model
    assert MlflowClient(settings.tracking_uri).search_model_versions(f"name='{name}'") == []
    model.write_bytes(model.read_bytes()[:-1])  # back to what the lock records
    assert register(settings, allow_uncommitted=True)["promote"]


def test_a_header_longer_than_the_first_read_is_read_whole(tmp_path):
    """The header check reads the whole first line: a name cut at the read's end is not a
    duplicate, and a real duplicate far along the line is still found."""
    from mlplate_runtime.data.ingest import SNIFF_BYTES, read_table

    names = [f"c{index}" for index in range(SNIFF_BYTES // 3)]  # cut anywhere: "c12" of "c1234"
    wide = tmp_path / "wide.csv"
    wide.write_text(",".join(names) + "\n" + ",".join("1" for _ in names) + "\n")
    assert len(read_table(wide).columns) == len(names)
    names[-1] = names[0]
    wide.write_text(",".join(names) + "\n" + ",".join("1" for _ in names) + "\n")
    with pytest.raises(DataValidationError, match=r"duplicated column names \['c0'\]"):
        read_table(wide)


def test_a_model_no_better_than_a_constant_is_registered_without_the_champion_alias(
    settings, sample
):
    """The first model too must beat the baseline (mean or class prior) on the holdout; one
    that does not stays challenger, and serving says there is no champion."""
    from mlplate_runtime.models.loaded import load_model

    metric = settings.params.evaluate.primary_metric
    run_pipeline(settings, sample)
    metrics = json.loads(settings.path(settings.params.evaluate.metrics_path).read_text())
    baseline = metrics["baseline"]
    assert baseline["strategy"] in ("mean", "prior") and metric in baseline
    if settings.contract.task == "regression":
        assert abs(baseline["r2"]) < 0.1  # the mean of the training target
    else:
        assert baseline["roc_auc"] == pytest.approx(0.5)  # a constant score ranks nothing
    demanding = settings.params.promotion.model_copy(update={"min_delta": 1e9})
    strict = settings.model_copy(
        update={"params": settings.params.model_copy(update={"promotion": demanding})}
    )
    report = register(strict, allow_uncommitted=True)
    assert not report["promote"] and report["alias_set"] == "challenger"
    assert "does not beat the baseline" in report["reason"] and report["baseline"] is not None
    with pytest.raises(LookupError, match="no champion yet"):
        load_model(settings, role="champion", uri=None)


def test_a_tie_on_the_primary_metric_is_decided_by_the_secondary_one(settings, sample):
    """A retrained copy of the champion ties on every metric and stays challenger; a candidate
    that ties on the primary metric (at the ceiling, say) but is better on the secondary one
    becomes champion, against the champion's secondary metric scored on the same holdout."""
    from mlplate_runtime.models.tasks import secondary_metric, task_for

    run_pipeline(settings, sample)
    assert register(settings, allow_uncommitted=True)["alias_set"] == "champion"
    metrics_path = settings.path(settings.params.evaluate.metrics_path)
    champion = json.loads(metrics_path.read_text())
    task = task_for(settings)
    primary, secondary = settings.params.evaluate.primary_metric, secondary_metric(settings, task)

    train(settings)  # the same model again: a new run and version, the same scores
    evaluate(settings)
    copy = register(settings, allow_uncommitted=True)
    assert not copy["promote"] and copy["alias_set"] == "challenger"
    assert f"{primary} ties with the champion" in copy["reason"]
    assert f"{secondary} stays the same" in copy["reason"]
    assert copy["secondary"]["metric"] == secondary
    assert copy["secondary"]["champion"] == pytest.approx(champion[secondary])

    # Evaluated better on the secondary metric only (the primary one at the champion's value).
    step = 0.01 if task.higher_is_better[secondary] else -0.01
    better = {**champion, secondary: champion[secondary] + step}
    metrics_path.write_text(json.dumps(better))
    report = register(settings, allow_uncommitted=True)
    assert report["promote"] and report["alias_set"] == "champion"
    assert report["candidate_version"] == copy["candidate_version"]
    assert report["reason"].startswith(f"{primary} ties with the champion at ")
    assert f"{champion[secondary]:.4f} to {better[secondary]:.4f} (better)" in report["reason"]
    written = json.loads(settings.path(settings.params.promotion.report_path).read_text())
    assert written["secondary"] == {
        "metric": secondary,
        "candidate": pytest.approx(better[secondary]),
        "champion": pytest.approx(champion[secondary]),
        "higher_is_better": task.higher_is_better[secondary],
    }


def test_evaluate_scores_each_slice_and_ranks_the_inputs_and_a_missed_floor_blocks_the_gate(
    settings, sample
):
    from mlflow import MlflowClient

    from mlplate_runtime.models.evaluate import load_holdout
    from mlplate_runtime.models.tasks import task_for

    contract, task = settings.contract, task_for(settings)
    numeric, category = contract.numeric_features[0], contract.categorical_features[0]
    value = str(contract.columns[category].categories[0])
    cut = float(sample[numeric].median())
    slices = {
        "group": f"{category} == {json.dumps(value)}",
        "high": f"{numeric} > {cut} and {category} != {json.dumps(value)}",
        "none": f"{numeric} > 1e12",
    }
    primary = settings.params.evaluate.primary_metric
    higher = task.higher_is_better[primary]
    unreachable = {"group": 2.0 if higher else -1.0}
    sliced = with_slices(settings, slices, unreachable)
    run_info, metrics = run_pipeline(sliced, sample)

    holdout = load_holdout(sliced)
    in_group = holdout[category].astype(str) == value
    high = (holdout[numeric] > cut) & ~in_group
    written = json.loads(sliced.path(sliced.params.evaluate.slices_path).read_text())["slices"]
    assert written["group"]["n"] == in_group.sum() > 0
    assert written["high"]["n"] == high.sum() > 0
    assert written["none"] == {"n": 0, **dict.fromkeys(task.higher_is_better)}
    assert written["group"][primary] != metrics[primary]  # a subgroup, not the whole holdout

    importance = json.loads(sliced.path(sliced.params.evaluate.importance_path).read_text())
    ranked = [column["importance"] for column in importance["features"]]
    assert {column["feature"] for column in importance["features"]} == set(contract.features)
    assert ranked == sorted(ranked, reverse=True) and ranked[0] > 0
    assert importance["metric"] == primary and importance["rows"] == len(holdout)

    report = register(sliced, allow_uncommitted=True)
    assert not report["promote"] and report["alias_set"] == "challenger"
    assert report["reason"].startswith(f"slice 'group' has {primary} ")
    assert "(promotion.slice_floors): not promoted" in report["reason"]
    logged = {
        a.path for a in MlflowClient(settings.tracking_uri).list_artifacts(run_info["run_id"])
    }
    assert {"slices.json", "importance.json"} <= logged

    reachable = with_slices(settings, slices, {"group": -1.0 if higher else 1e12})
    assert register(reachable, allow_uncommitted=True)["promote"]


def test_a_time_split_holds_out_the_latest_rows_and_counts_missing_times_as_earliest():
    from mlplate_runtime.data.contract import parse_datetimes
    from mlplate_runtime.data.prepare import latest_rows

    times = parse_datetimes(
        pd.Series(["2024-01-03", "2199-12-31", None, "2024-01-02", "2024-01-05"], dtype=object)
    )
    assert latest_rows(times, test_size=0.4).tolist() == [False, True, False, False, True]


def test_a_time_split_needs_a_datetime_column_the_contract_keeps(settings):
    from mlplate_runtime.data.prepare import time_column

    contract = settings.contract
    name = contract.features[0]
    ignored = contract.columns[name].model_copy(update={"type": "datetime", "role": "ignored"})
    dated = settings.model_copy(
        update={
            "contract": contract.model_copy(
                update={"columns": {**contract.columns, name: ignored}}
            ),
            "params": settings.params.model_copy(
                update={
                    "data": settings.params.data.model_copy(
                        update={"split": "time", "time_column": name}
                    )
                }
            ),
        }
    )
    with pytest.raises(ProjectError, match="give it role id"):
        time_column(dated)


def test_a_time_split_that_holds_out_a_whole_class_says_so(settings, caplog):
    from mlplate_runtime.data.prepare import _warn_of_unseen_classes

    if settings.contract.task != "classification":
        pytest.skip("regression has no classes")
    classes = [str(c) for c in settings.contract.classes]
    codes = np.array([0] * 8 + [1] * 2)  # each labelled row's class, a position in classes
    held_out = np.array([False] * 8 + [True] * 2)  # the second class only came lately
    with caplog.at_level("WARNING"):
        _warn_of_unseen_classes(settings, classes, codes, held_out)
    assert f"classes ['{classes[1]}']" in caplog.text and "never sees them" in caplog.text
    caplog.clear()
    mixed = np.array([False] * 7 + [True, False, True])  # each class in training too
    _warn_of_unseen_classes(settings, classes, codes, mixed)
    assert caplog.text == ""

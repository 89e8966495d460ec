# The template's targets (one entry point per action: CI runs these same targets), included by
# the Makefile. `mlplate update` replaces this file: put your own targets in the Makefile and
# local settings (PYTHON, HOST, PORT, BASE, DVC_REMOTE_URL...) in local.mk, which this file
# reads first and `mlplate check` does not compare with the template.
-include local.mk
PYTHON ?= python3
VENV := .venv
# The project folder reaches the shell only through PATH (an environment variable, never
# parsed), so spaces or shell syntax in a parent folder's name are harmless.
BIN := $(CURDIR)/$(VENV)/bin
PKG := {{ cookiecutter.__package_name }}
HOST ?= 127.0.0.1
PORT ?= 8000
# CI (or you) may point DVC at another remote without editing .dvc/config.
DVC_REMOTE_URL ?=
REMOTE_FLAG := $(if $(DVC_REMOTE_URL),--remote ci,)
BASE ?= origin/main
export PATH := $(BIN):$(PATH)
export MLFLOW_DISABLE_TELEMETRY := true

.PHONY: help
help:  ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}' \
	  | sed -e 's|$$(HOST)|$(HOST)|g' -e 's|$$(PORT)|$(PORT)|g'

# uv installs 10-20x faster than pip. Where it is not on PATH, `make setup` puts it in .venv
# first (~3 s) and runs it from there.
UV := $(or $(shell command -v uv 2>/dev/null),$(BIN)/python -m uv)
# mlplate-runtime's wheel, put here by mlplate (no public index holds it).
WHEELS := .mlplate/wheels

.PHONY: uv
uv:
	@$(UV) --version >/dev/null 2>&1 || { $(PYTHON) -m venv $(VENV) && $(BIN)/python -m pip install --quiet uv; }

.PHONY: setup
setup: uv  ## Create .venv with the project and its dev dependencies (uv.lock's exact versions once locked)
	@if [ -f uv.lock ]; then \
	  $(UV) sync --quiet --locked --inexact --extra dev --compile-bytecode --python $(PYTHON) \
	    || { echo "error: uv.lock does not match pyproject.toml; run 'make lock' and commit uv.lock" >&2; exit 1; }; \
	else \
	  $(UV) venv --quiet --allow-existing --python $(PYTHON) $(VENV) && \
	  $(UV) pip install --quiet --compile-bytecode --python $(VENV)/bin/python \
	    --find-links $(WHEELS) -e '.[dev]' \
	    || { echo "error: cannot install the project; if mlplate-runtime was not found, run 'mlplate update' (it puts the runtime in $(WHEELS)) or set UV_INDEX to an index that holds it" >&2; exit 1; }; \
	fi

.PHONY: lock
lock: uv  ## Pin every dependency in uv.lock; commit it, and setup, CI and the images install exactly those
	$(UV) lock --quiet

.PHONY: venv
venv:
	@test -x $(VENV)/bin/$(PKG) || { echo "error: $(VENV) is not set up; run 'make setup' first" >&2; exit 1; }

.PHONY: data
data: venv  ## Check the raw data against data/contract.yaml and track it with DVC (never overwrites it)
	$(PKG) data

.PHONY: ingest
# DATA (and use-data's other values) reach the command through the environment, never the
# shell; set here (=, not ?=), so a DATA_FILE left in the shell's environment never wins.
ingest: export DATA_FILE = $(value DATA)
ingest: venv  ## Take a new drop of the same dataset: DATA=drop.csv (validated before it replaces data/raw)
	@if [ -z "$$DATA_FILE" ]; then echo "error: give the new file: make ingest DATA=path/to/drop.csv" >&2; exit 1; fi
	$(PKG) ingest

.PHONY: use-data
use-data: export DATA_FILE = $(value DATA)
use-data: export DATA_TARGET = $(value TARGET)
use-data: export DATA_TASK = $(value TASK)
use-data: export DATA_SENSITIVE = $(value SENSITIVE)
use-data: export DATA_EXCLUDE = $(value EXCLUDE)
use-data: venv  ## Adopt your dataset: DATA=file.csv TARGET=column [TASK=classification|regression] [SENSITIVE=a,b] [EXCLUDE=c,d]
	@if [ -z "$$DATA_FILE" ] || [ -z "$$DATA_TARGET" ]; then \
	  echo "error: give the file and the column to predict: make use-data DATA=path/to/file.csv TARGET=column" >&2; exit 1; fi
	$(PKG) use-data

.PHONY: repro
repro: venv  ## Run the pipeline stages whose code, data or params changed
	@$(PKG) check-params >/dev/null  # the project's own checks first: DVC's parser has no limits
	dvc repro

.PHONY: tune
tune: venv  ## Search hyperparameters (params.yaml tune:, CV on the training split); APPLY=1 writes the best
	$(PKG) tune $(if $(APPLY),--apply)

.PHONY: register
register: venv  ## Register the model; promote it to champion only through the gate (ALLOW_UNCOMMITTED=1)
	$(PKG) register $(if $(ALLOW_UNCOMMITTED),--allow-uncommitted)

.PHONY: all
all: data repro register  ## Data, pipeline and promotion gate: the whole thing

.PHONY: train-report
# CI gives the base branch as REPORT_BASE in the environment: it reaches the command without
# passing through the shell or make (make expands variables given on its command line).
train-report: export REPORT_BASE ?= $(value BASE)
train-report: data repro  ## Pull-request check: diff metrics/params with BASE, report, regression gate
	$(PKG) report

.PHONY: alert
# EVENT and MESSAGE reach the command through the environment, never through the shell.
alert: export ALERT_EVENT ?= $(value EVENT)
alert: export ALERT_MESSAGE ?= $(value MESSAGE)
alert: venv  ## Send EVENT (and MESSAGE) to the chat webhook in ALERT_WEBHOOK_URL (nothing when unset)
	$(PKG) alert

.PHONY: predict-batch
# INPUT, OUTPUT and ENGINE reach the command through the environment, never through the shell
# (as MODEL_URI and SPARK_MASTER, read from it by the command).
predict-batch: export BATCH_INPUT ?= $(value INPUT)
predict-batch: export BATCH_OUTPUT ?= $(value OUTPUT)
predict-batch: export BATCH_ENGINE ?= $(value ENGINE)
predict-batch: venv  ## Score a file with the champion: INPUT=in.csv OUTPUT=out.parquet [MODEL_URI=] [OVERWRITE=1] [ENGINE=spark]
	@if [ -z "$$BATCH_INPUT" ] || [ -z "$$BATCH_OUTPUT" ]; then \
	  echo "error: give the files: make predict-batch INPUT=path/to/records.csv OUTPUT=path/to/predictions.parquet" >&2; exit 1; fi
	$(PKG) predict-batch $(if $(OVERWRITE),--overwrite)

.PHONY: monitor
# CURRENT (a batch, e.g. predict-batch's OUTPUT) reaches the command through the environment.
monitor: export MONITOR_CURRENT ?= $(value CURRENT)
monitor: venv  ## Drift and data-quality report on current data (CURRENT=file); fails on a drift alarm
	$(PKG) monitor

.PHONY: drift-alarm
drift-alarm: venv  ## Succeed only if the last `make monitor` raised the drift alarm (CI retrains on it)
	$(PKG) drift-alarm

.PHONY: simulate-drift
simulate-drift: venv  ## Write a drifted batch so `make monitor` raises the alarm
	$(PKG) simulate-drift

{%- if cookiecutter.serving == 'fastapi' %}
.PHONY: serve
serve: venv  ## Serve the champion on http://$(HOST):$(PORT) (MODEL_URI, CANARY_FRACTION, SHADOW)
	HOST=$(HOST) PORT=$(PORT) serve

.PHONY: compare-models
compare-models: venv  ## Champion vs challenger on labeled served traffic (data/monitoring/feedback.csv)
	$(PKG) compare-models
{% endif %}
{% if cookiecutter.docs -%}
.PHONY: model-card
model-card: venv  ## Regenerate the model card, data card and pipeline pages from reports and the registry
	$(PKG) model-card

.PHONY: docs
docs: model-card  ## Build the documentation site into site/ (strict)
	NO_MKDOCS_2_WARNING=1 mkdocs build --strict --quiet --site-dir site

.PHONY: docs-serve
docs-serve: model-card  ## Serve the documentation on http://127.0.0.1:8001
	NO_MKDOCS_2_WARNING=1 mkdocs serve --dev-addr 127.0.0.1:8001

{% endif -%}
{% if cookiecutter.mlflow_tracking == 'server' -%}
# A self-hosted MLflow server for the team: SQLite metadata, artifacts proxied by the server
# (clients need no storage credentials). Put a database such as PostgreSQL behind
# MLFLOW_BACKEND_STORE_URI for many concurrent writers.
MLFLOW_HOST ?= 127.0.0.1
MLFLOW_PORT ?= 5000
MLFLOW_BACKEND_STORE_URI ?= sqlite:///mlflow-server.db
{%- if cookiecutter.dvc_remote == 's3' %}
MLFLOW_ARTIFACTS_DESTINATION ?= s3://{{ cookiecutter.s3_bucket }}/{{ cookiecutter.__project_slug }}/mlflow
{%- if cookiecutter.s3_endpoint_url %}
MLFLOW_S3_ENDPOINT_URL ?= {{ cookiecutter.s3_endpoint_url }}
export MLFLOW_S3_ENDPOINT_URL
{%- endif %}
{%- else %}
MLFLOW_ARTIFACTS_DESTINATION ?= ./mlflow-artifacts
{%- endif %}

.PHONY: mlflow-server
mlflow-server: venv  ## Start an MLflow server on MLFLOW_HOST:MLFLOW_PORT (artifacts in MLFLOW_ARTIFACTS_DESTINATION)
	mlflow server --host $(MLFLOW_HOST) --port $(MLFLOW_PORT) --workers 1 \
	  --backend-store-uri $(MLFLOW_BACKEND_STORE_URI) \
	  --artifacts-destination $(MLFLOW_ARTIFACTS_DESTINATION)

{% endif -%}
{% if cookiecutter.orchestrator != 'none' -%}
{% if cookiecutter.orchestrator == 'kubeflow' -%}
# Kubeflow Pipelines (and Vertex AI Pipelines): pipeline.yaml, the KFP IR.
KFP_IMAGE ?= {{ cookiecutter.__project_slug }}-pipeline:latest
PIPELINE_IMAGE ?= $(KFP_IMAGE)
PIPELINE_FILE := pipeline.yaml
BATCH_PIPELINE_FILE := batch-pipeline.yaml
{% elif cookiecutter.orchestrator == 'azureml' -%}
# Azure ML: azureml-pipeline.yml, a CLI v2 pipeline job; AZUREML_COMPUTE runs its steps.
PIPELINE_IMAGE ?= {{ cookiecutter.__project_slug }}-pipeline:latest
AZUREML_COMPUTE ?= azureml:cpu-cluster
PIPELINE_FILE := azureml-pipeline.yml
BATCH_PIPELINE_FILE := azureml-batch.yml
{% else -%}
# SageMaker Pipelines: sagemaker-pipeline.json, the pipeline definition.
PIPELINE_IMAGE ?= {{ cookiecutter.__project_slug }}-pipeline:latest
PIPELINE_FILE := sagemaker-pipeline.json
BATCH_PIPELINE_FILE := sagemaker-batch.json
{% endif -%}

.PHONY: pipeline-image
pipeline-image:  ## Build the image every pipeline step runs in (pipeline.Dockerfile), tagged PIPELINE_IMAGE
	docker build --file pipeline.Dockerfile --build-arg GIT_COMMIT=$$(git rev-parse HEAD) --tag $(PIPELINE_IMAGE) .

.PHONY: pipeline
pipeline: venv  ## Compile dvc.yaml (PIPELINE_FILE) and the batch job (BATCH_PIPELINE_FILE) for the orchestrator, steps in PIPELINE_IMAGE
{%- if cookiecutter.orchestrator == 'kubeflow' %}
	$(PKG) kfp-compile --image $(PIPELINE_IMAGE) --output $(PIPELINE_FILE) --batch-output $(BATCH_PIPELINE_FILE)
{%- elif cookiecutter.orchestrator == 'azureml' %}
	$(PKG) azureml-compile --image $(PIPELINE_IMAGE) --compute $(AZUREML_COMPUTE) --output $(PIPELINE_FILE) --batch-output $(BATCH_PIPELINE_FILE)
{%- else %}
	$(PKG) sagemaker-compile --image $(PIPELINE_IMAGE) --output $(PIPELINE_FILE) --batch-output $(BATCH_PIPELINE_FILE)
{%- endif %}
{%- if cookiecutter.orchestrator == 'kubeflow' %}

.PHONY: kfp-image
kfp-image: pipeline-image  ## Same as pipeline-image (the name before 0.2.16)

.PHONY: kfp-compile
kfp-compile: pipeline  ## Same as pipeline (the name before 0.2.16)
{%- endif %}

{% endif -%}
{% if cookiecutter.feature_store == 'feast' -%}
.PHONY: features
features: venv  ## Feature store: write the feature table, feast apply, materialize the online store (a dvc.yaml stage)
	dvc repro feature_store

{% endif -%}
.PHONY: lineage
lineage: venv  ## Show which commit, data and params produced the champion
	$(PKG) lineage

.PHONY: rollback
# VERSION and REASON reach the command through the environment, never through the shell; only
# from make's command line, so a VERSION variable in the environment cannot choose the model.
rollback: export ROLLBACK_VERSION ?= $(if $(filter command line,$(origin VERSION)),$(value VERSION))
rollback: export ROLLBACK_REASON ?= $(value REASON)
rollback: venv  ## Move `champion` back to the previous champion (or VERSION=n), recording who and why (REASON=)
	$(PKG) rollback

.PHONY: test
test: venv  ## Run the test suite with coverage (fails under the floor in pyproject.toml)
	pytest --cov --cov-report=term

{% if cookiecutter.pre_commit -%}
.PHONY: hooks
hooks: venv  ## Install the git hooks (pre-commit, DVC)
	pre-commit install

.PHONY: pre-commit
pre-commit: venv  ## Run every pre-commit hook on every file
	pre-commit run --all-files

{% endif -%}
.PHONY: lint
lint: venv  ## Check style, formatting, security rules and types
	ruff check .
	ruff format --check .
	mypy

.PHONY: format
format: venv  ## Fix style and formatting
	ruff check --fix .
	ruff format .

.PHONY: ci
ci: lint test all  ## What CI runs: lint, tests, pipeline, gate

.PHONY: remote
remote: venv
	@if [ -n "$(DVC_REMOTE_URL)" ]; then dvc remote add --local --force ci "$(DVC_REMOTE_URL)"; fi

.PHONY: push
push: remote  ## Upload data and models to the DVC remote (DVC_REMOTE_URL overrides it)
	dvc push $(REMOTE_FLAG)

.PHONY: pull
pull: remote  ## Download data and models from the DVC remote (DVC_REMOTE_URL overrides it)
	dvc pull $(REMOTE_FLAG)

{% if cookiecutter.dvc_remote == 's3' -%}
.PHONY: ci-pull
ci-pull: pull  ## In CI: pull data and models from the S3 remote (AWS_* credentials from CI secrets)

.PHONY: ci-push
ci-push: push  ## In CI: push data and models to the S3 remote
{%- else -%}
ci-pull: venv  ## In CI: pull data and models when DVC_REMOTE_URL is set
	@if [ -n "$(DVC_REMOTE_URL)" ]; then $(MAKE) pull; else echo "DVC_REMOTE_URL not set: nothing to pull"; fi

ci-push: venv  ## In CI: push data and models when DVC_REMOTE_URL is set
	@if [ -n "$(DVC_REMOTE_URL)" ]; then $(MAKE) push; else echo "DVC_REMOTE_URL not set: nothing to push"; fi
{%- endif %}

.PHONY: ci-champion
ci-champion: venv  ## In CI: with no shared registry (MLFLOW_TRACKING_URI unset), train a champion in the job
	@if [ -n "$$MLFLOW_TRACKING_URI" ]; then echo "champion: the shared registry's"; else $(MAKE) all; fi

{% if cookiecutter.ci == 'gitlab' -%}
.PHONY: mr-comment
mr-comment: venv  ## In GitLab CI: post reports/pr_report.md as one merge-request note
	$(PKG) comment-mr reports/pr_report.md

{% endif -%}

.PHONY: clean
clean:  ## Remove caches and build output (keeps data, models and mlflow.db)
	rm -rf build dist site .pytest_cache .ruff_cache

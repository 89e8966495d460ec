# mlplate's own entry points. `make test` is what CI runs (.ci/run): it installs everything the
# tests need (Python packages with uv, and where missing headless Chromium and actionlint:
# .ci/tools), then runs the generator's and template's tests and the runtime's tests.
PYTHON ?= python3
UV := $(PYTHON) -m uv
RUNTIME_EXTRAS := serving,s3,kubeflow,feast,azureml,sagemaker,spark,test
export MLFLOW_DISABLE_TELEMETRY := true
export UV_PYTHON_DOWNLOADS := never

.PHONY: setup
setup:  ## Install mlplate (.venv) and the runtime with every extra (runtime/.venv), editable
	.ci/tools
	$(PYTHON) -m pip install --quiet uv
	$(MAKE) --no-print-directory -j2 setup-mlplate setup-runtime  # two installs at once

.PHONY: setup-mlplate
setup-mlplate:
	$(UV) venv --quiet --allow-existing --python $(PYTHON) .venv
	$(UV) pip install --quiet --compile-bytecode --python .venv/bin/python -e '.[test]'

.PHONY: setup-runtime
setup-runtime:
	$(UV) venv --quiet --allow-existing --python $(PYTHON) runtime/.venv
	$(UV) pip install --quiet --compile-bytecode --python runtime/.venv/bin/python -e 'runtime[$(RUNTIME_EXTRAS)]'

.PHONY: test
test: setup  ## Everything CI runs: mlplate's tests, then the runtime's (classification, regression)
	$(MAKE) --no-print-directory test-mlplate
	$(MAKE) --no-print-directory test-runtime

.PHONY: test-mlplate
test-mlplate:  ## The generator's and template's tests (generated projects built and run)
	.venv/bin/pytest -n 2 --dist loadscope

# The regression project runs again the modules whose behaviour follows the task (metrics,
# the gate's direction, answers, reports, drift of predictions); the rest does not read it.
TASK_MODULES := test_pipeline test_serving test_record_inputs test_batch test_monitoring test_model_card \
	test_compare_models test_store test_report

.PHONY: test-runtime
# The Spark tests (test_spark_batch, in the first run only) share one SparkSession on one worker.
test-runtime:  ## The runtime's tests against the classification and the regression project
	cd runtime && .venv/bin/pytest -n 2 --dist loadgroup -p no:cacheprovider
	cd runtime && MLPLATE_TEST_PROJECT=regression .venv/bin/pytest -n 2 -p no:cacheprovider \
	  $(foreach module,$(TASK_MODULES),tests/$(module).py)

"""Fixtures from mlplate's runtime: settings on temporary folders (`settings`), data made from
data/contract.yaml (`sample`), one MLflow store per session, and the `smoke` run."""

pytest_plugins = ["mlplate_runtime.testing"]

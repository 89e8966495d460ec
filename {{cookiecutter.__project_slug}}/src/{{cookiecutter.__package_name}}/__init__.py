"""{{ cookiecutter.project_name }}: this team's ML code, run by mlplate's runtime.

features.py (derived columns) and model.py (the estimator) are the places to change; the
pipeline, registry, serving and monitoring come from mlplate-runtime (see README.md,
"Where to change what").
"""

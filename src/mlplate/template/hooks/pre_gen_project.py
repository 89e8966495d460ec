"""Validate the answers before cookiecutter writes anything.

Cookiecutter renders this file with Jinja, which fills ANSWERS_JSON below;
the rest is plain Python. mlplate imports this module and calls
``answer_errors`` itself, so the CLI and the hook apply the same rules.
On an invalid answer the hook prints one line per problem and exits 1;
cookiecutter then removes the half-made project folder.
"""

from __future__ import annotations

import json
import keyword
import re
import sys

ANSWERS_JSON = r"""{{ cookiecutter | tojson }}"""

# Import names the generated project uses: a package of the same name would shadow them.
RESERVED_PACKAGE_NAMES = frozenset(
    {
        "boto3",
        "conftest",
        "cookiecutter",
        "copier",
        "data",
        "docs",
        "dvc",
        "fastapi",
        "httpx",
        "joblib",
        "kfp",
        "matplotlib",
        "mkdocs",
        "mlflow",
        "mlplate",
        "models",
        "numpy",
        "pandas",
        "pip",
        "pydantic",
        "pytest",
        "reports",
        "ruff",
        "scipy",
        "setuptools",
        "skops",
        "sklearn",
        "scikit_learn",
        "src",
        "starlette",
        "test",
        "tests",
        "typer",
        "uvicorn",
        "yaml",
    }
)
NAME_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9 _-]*$")
# Generated code is formatted for package names up to this length (ruff's line length).
MAX_NAME_LENGTH = 40
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
# S3 bucket naming rules: 3-63 lowercase letters, digits, dots and hyphens, alphanumeric ends.
BUCKET_PATTERN = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
URL_PATTERN = re.compile(r"^https?://[^\s/\"'\\]+(/[^\s\"'\\]*)?$")


def derive_names(project_name: str) -> tuple[str, str]:
    """Return (project_slug, package_name) derived from a project name."""
    slug = project_name.strip().lower().replace(" ", "-").replace("_", "-")
    return slug, slug.replace("-", "_")


def answer_errors(answers: dict) -> list[str]:
    """Return one message per invalid answer, each saying how to fix it."""
    errors = []
    name = str(answers.get("project_name", "")).strip()
    if not NAME_PATTERN.match(name):
        errors.append(
            f"project_name {name!r} is invalid: start with a letter and use only "
            "letters, digits, spaces, '-' or '_' (for example --data project_name=churn-model)"
        )
    elif len(name) > MAX_NAME_LENGTH:
        errors.append(
            f"project_name {name!r} is {len(name)} characters long; use at most {MAX_NAME_LENGTH}"
        )
    else:
        _, package = derive_names(name)
        reason = None
        if keyword.iskeyword(package) or keyword.issoftkeyword(package):
            reason = "a Python keyword"
        elif package in sys.stdlib_module_names:
            reason = "a standard-library module"
        elif package in RESERVED_PACKAGE_NAMES:
            reason = "a module the generated project imports or uses"
        if reason:
            errors.append(
                f"project_name {name!r} gives package name {package!r}, which is {reason}; "
                f"choose a more specific name (for example {package}-model)"
            )
    for key in ("description", "author_name"):  # quoted for each file format they land in
        text = str(answers.get(key, ""))
        if "\n" in text or "\r" in text:
            errors.append(f"{key} must be one line; put longer text in the README")
    email = str(answers.get("author_email", ""))
    if not EMAIL_PATTERN.match(email):
        errors.append(f"author_email {email!r} is not an email address; use name@domain.tld")
    return errors + infrastructure_errors(answers)


def infrastructure_errors(answers: dict) -> list[str]:
    """Check the S3 bucket, S3 endpoint and MLflow server URL when the answers use them."""
    errors = []
    if answers.get("dvc_remote") == "s3":
        bucket = str(answers.get("s3_bucket", ""))
        if not BUCKET_PATTERN.match(bucket) or ".." in bucket:
            errors.append(
                f"s3_bucket {bucket!r} is not a valid bucket name; use 3-63 lowercase letters, "
                "digits, '.' or '-' (for example --data s3_bucket=team-ml-data)"
            )
        endpoint = str(answers.get("s3_endpoint_url", ""))
        if endpoint and not URL_PATTERN.match(endpoint):
            errors.append(
                f"s3_endpoint_url {endpoint!r} is not an http(s) URL; use for example "
                "http://minio.internal:9000, or leave it empty for AWS S3"
            )
    if answers.get("mlflow_tracking") == "server":
        uri = str(answers.get("mlflow_tracking_uri", ""))
        if not URL_PATTERN.match(uri):
            errors.append(
                f"mlflow_tracking_uri {uri!r} is not an http(s) URL; use for example "
                "http://mlflow.internal:5000"
            )
    return errors


def main() -> int:
    errors = answer_errors(json.loads(ANSWERS_JSON))
    for error in errors:
        print(f"error: {error}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())

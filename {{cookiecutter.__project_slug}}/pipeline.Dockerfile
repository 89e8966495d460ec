# Pipeline image: every step of the compiled pipeline runs `{{ cookiecutter.__package_name }} pipeline-step <stage>` here.
# Build with `make pipeline-image PIPELINE_IMAGE=registry.example.com/{{ cookiecutter.__project_slug }}-pipeline:TAG`.
# Steps pull DVC-tracked data from the project's remote (unless the platform mounts it) and
# log to MLflow: give them MLFLOW_TRACKING_URI and the storage credentials from the
# platform's secrets or the role they run as, never in this file.
ARG PYTHON_VERSION={{ cookiecutter.python_version }}

FROM python:${PYTHON_VERSION}-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /build
# With a committed uv.lock (`make lock`), the image gets exactly its versions (hash-checked).
COPY --from=ghcr.io/astral-sh/uv:0.9 /uv /usr/local/bin/uv
COPY pyproject.toml uv.loc[k] README.md LICENSE ./
# mlplate-runtime's wheel (put there by mlplate; no public index holds it).
COPY .mlplate/wheels ./.mlplate/wheels
COPY src ./src
RUN python -m venv /opt/venv \
    && if [ -f uv.lock ]; then \
         uv export --frozen --no-dev --no-emit-project --output-file requirements.txt \
         && /opt/venv/bin/pip install --no-cache-dir --require-hashes --find-links .mlplate/wheels -r requirements.txt \
         && /opt/venv/bin/pip install --no-cache-dir --no-deps .; \
       else /opt/venv/bin/pip install --no-cache-dir --find-links .mlplate/wheels .; fi

FROM python:${PYTHON_VERSION}-slim AS runtime
# The commit the image is built from: runs and model versions are tagged with it.
ARG GIT_COMMIT=unknown
RUN groupadd --gid 10001 app && useradd --create-home --uid 10001 --gid 10001 app
COPY --from=build /opt/venv /opt/venv
WORKDIR /home/app/project
COPY --chown=app:app dvc.yaml params.yaml ./
COPY --chown=app:app .dvc/config .dvc/config
COPY --chown=app:app data/raw.dvc data/contract.yaml data/
{%- if cookiecutter.feature_store == 'feast' %}
COPY --chown=app:app feature_repo feature_repo/
{%- endif %}
COPY --chown=app:app src ./src
ENV PATH="/opt/venv/bin:${PATH}" \
    PYTHONUNBUFFERED=1 \
    MLFLOW_DISABLE_TELEMETRY=true \
    LINEAGE_GIT_COMMIT=${GIT_COMMIT} \
    PIPELINE_ROOT=/home/app/project
USER 10001:10001
CMD ["{{ cookiecutter.__package_name }}", "--help"]

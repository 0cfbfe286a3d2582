# syntax=docker/dockerfile:1.7
# One multi-target Dockerfile for every Berth service, built from the same uv.lock as the tests.
#   docker build --target service --build-arg SERVICE=cluster-manager -t berth/cluster-manager:0.1.0 .
#   docker build --target debug   --build-arg SERVICE=cluster-manager -t berth/cluster-manager:0.1.0-debug .
ARG PYTHON_IMAGE=python:3.11.11-slim-bookworm
ARG UV_IMAGE=ghcr.io/astral-sh/uv:0.5.31

FROM ${UV_IMAGE} AS uv

FROM ${PYTHON_IMAGE} AS build
ARG SERVICE
COPY --from=uv /uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never
WORKDIR /src
COPY pyproject.toml uv.lock README.md ./
COPY libs ./libs
COPY services ./services
COPY src ./src
RUN test -n "${SERVICE}" || (echo "--build-arg SERVICE=<service> is required" >&2; exit 1)
RUN uv sync --frozen --no-dev --no-editable --package "berth-${SERVICE}" --python /usr/local/bin/python3 \
    && rm -rf /src/.venv/lib/python3.11/site-packages/*/tests

FROM ${PYTHON_IMAGE} AS service
ARG SERVICE
ENV PATH=/app/.venv/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 \
    BERTH_SERVICE=${SERVICE} BERTH_DATA_DIR=/var/lib/berth BERTH_HTTP_HOST=0.0.0.0 BERTH_HTTP_PORT=9000
RUN groupadd --gid 10001 berth && useradd --uid 10001 --gid berth --no-create-home --shell /usr/sbin/nologin berth \
    && mkdir -p /var/lib/berth && chown 10001:10001 /var/lib/berth
COPY --from=build --chown=0:0 /src/.venv /app/.venv
USER 10001:10001
WORKDIR /var/lib/berth
EXPOSE 9000 8080
# One process per container; the runtime drains on SIGTERM and exits 0.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/bin/sh", "-c", "exec berth-${BERTH_SERVICE}"]

# The dev loop's target (Tiltfile): watchfiles restarts the service when live_update syncs code.
FROM service AS dev
USER 0:0
RUN /usr/local/bin/python3 -m pip install --no-cache-dir --target /opt/devtools "watchfiles==1.0.4"
ENV PYTHONPATH=/opt/devtools
USER 10001:10001
ENTRYPOINT ["/bin/sh", "-c", "exec python -m watchfiles --filter python \"berth-${BERTH_SERVICE}\" /app/.venv/lib/python3.11/site-packages"]

# The seed's recommended troubleshooting tools, only in this target.
FROM service AS debug
USER 0:0
RUN apt-get update && apt-get install -y --no-install-recommends \
      curl ca-certificates dnsutils iproute2 iputils-ping netcat-openbsd procps tcpdump strace less vim-tiny \
    && rm -rf /var/lib/apt/lists/*
USER 10001:10001

# syntax=docker/dockerfile:1
#
# One image for every Big School service. SERVICE picks the one a container runs:
#
#   docker build --build-arg SERVICE=enrollment -t bigschool-enrollment .
#   docker run -e SERVICE=awards ... bigschool-enrollment    # SERVICE can also be set at run time
#
# Everything else is configured by BIGSCHOOL_* and KAFKA_* variables at run time
# (README.md, "Running a single service").
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

WORKDIR /app

# A CJK font: certificates print members' Chinese names (enrollment, BIGSCHOOL_CERTIFICATE_FONT).
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-wqy-microhei \
    && rm -rf /var/lib/apt/lists/*

# Third-party dependencies first, read from pyproject.toml: this layer is rebuilt only
# when the dependencies change, not on every code change.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install --no-cache-dir -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# The project itself (packages shared, deploy, enrollment, awards, notifications).
# Installed in place (-e) on purpose: each service finds its Alembic migrations at
# services/<service>/migrations relative to its source file, and a wheel built by a plain
# `pip install .` ships no migrations (every service would look for site-packages/../migrations).
# Once the migrations are package data, drop the -e.
COPY . .
RUN pip install --no-cache-dir --no-deps -e . \
    && python -m compileall -q shared deploy services \
    && groupadd --system --gid 10001 bigschool \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /tmp \
        --shell /usr/sbin/nologin bigschool

# Listen on every interface inside the container; one port for every service, since each
# container has its own network namespace.
ENV BIGSCHOOL_HTTP_HOST=0.0.0.0 \
    BIGSCHOOL_HTTP_PORT=8000 \
    HOME=/tmp
EXPOSE 8000

# Late, so that the three services' images share every layer above.
ARG SERVICE=""
ENV SERVICE=${SERVICE}

# Liveness only: /readyz (database and Kafka reachable) is for orchestrators' readiness.
# slim has no curl, so ask with the interpreter that is there anyway.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('BIGSCHOOL_HTTP_PORT', '8000'), timeout=4)"]

# Numeric, so that Kubernetes' runAsNonRoot can check it.
USER 10001:10001

# exec: python becomes PID 1 and receives SIGTERM, so the service drains and stops cleanly.
CMD ["sh", "-c", "exec python -m \"${SERVICE:?set SERVICE to enrollment, awards or notifications}\""]

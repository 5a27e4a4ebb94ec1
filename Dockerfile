# The imageuploader image: web app, Dramatiq workers and CLI share it
# (docker-compose.yml picks the command). Build: `docker compose build`.
# Needs BuildKit (the default builder since Docker 23) for the uv cache mounts.

# ---- builder: resolve the locked environment with uv into /app/.venv ----
FROM python:3.11.14-slim-bookworm AS builder

# uv from PyPI (pinned) rather than copied out of a registry image we cannot verify.
RUN pip install --no-cache-dir --disable-pip-version-check uv==0.13.9

# Use the image's own CPython (never a downloaded one), put the venv where the
# runtime stage expects it, copy files out of the cache mount, precompile.
ENV UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python3.11 \
    UV_PROJECT_ENVIRONMENT=/app/.venv \
    UV_LINK_MODE=copy \
    UV_COMPILE_BYTECODE=1

WORKDIR /app

# Dependencies first: this layer is rebuilt only when the lock file changes.
COPY pyproject.toml uv.lock README.md ./
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-install-project

# Then the project itself, installed editable: its .pth puts /app and /app/src
# on sys.path, which keeps workers/ importable. The build reads templates/ and
# static/ too (the wheel carries them inside the package).
COPY piccolo_conf.py ./
COPY src/ src/
COPY workers/ workers/
COPY templates/ templates/
COPY static/ static/
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev

# ---- runtime: the venv and the source, no build tools, a non-root user ----
FROM python:3.11.14-slim-bookworm AS runtime

ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOST=0.0.0.0 \
    PORT=8000 \
    DATA_DIR=/app/data

# A fixed uid/gid so volumes and orchestrators (runAsNonRoot) see a stable owner.
RUN groupadd --system --gid 10001 app \
 && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home \
      --shell /usr/sbin/nologin app

WORKDIR /app

# Same paths as in the builder: the venv's scripts and .pth files point at /app.
COPY --from=builder /app/.venv /app/.venv
COPY pyproject.toml piccolo_conf.py ./
COPY src/ src/
COPY workers/ workers/
COPY templates/ templates/
COPY static/ static/

# Code stays root-owned (read-only to the app); bytecode is compiled now
# because the app user cannot write __pycache__. DATA_DIR is the only
# writable place (production keeps its state in PostgreSQL, Redis and MinIO).
RUN python -m compileall -q src workers piccolo_conf.py \
 && mkdir -p /app/data \
 && chown app:app /app/data

USER 10001:10001

EXPOSE 8000

# /health answers 503 when the database, broker, storage or cache is down; urlopen
# raises on it, so the container turns unhealthy. Only curl-free stdlib here.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('PORT', '8000') + '/health', timeout=4)"]

CMD ["imageuploader", "serve"]

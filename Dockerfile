# The Python that the locks are resolved for and that CI tests on.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# WeasyPrint renders the action-plan PDFs with Pango and HarfBuzz.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
# The runtime dependencies, exactly as locked (versions and hashes), then the app itself.
COPY requirements-runtime.lock ./
RUN pip install --require-hashes -r requirements-runtime.lock
COPY pyproject.toml README.md manage.py ./
COPY config config
COPY questionnaires questionnaires
COPY reviews reviews
COPY actions actions
COPY templates templates
COPY static static
# The image includes the optional AWS extra (its packages are in the runtime lock).
RUN pip install --no-deps -e ".[aws]"
RUN DEBUG=false SECRET_KEY=collectstatic-only-not-a-secret-0123456789abcdefghijklmnop \
    python manage.py collectstatic --noinput

RUN useradd --create-home --uid 1000 pillarwise && mkdir -p /app/media && chown pillarwise /app/media
USER pillarwise

EXPOSE 8000
# One ASGI process per core: each holds its live-session event streams on its event loop.
CMD ["gunicorn", "config.asgi:application", "--worker-class", "uvicorn_worker.UvicornWorker", \
     "--bind", "0.0.0.0:8000", "--keep-alive", "10", "--graceful-timeout", "20", "--access-logfile", "-"]

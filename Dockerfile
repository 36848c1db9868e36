FROM python:3.12-slim

# The image serves every mode: `run` (the default: every configured platform, the schedule and
# the outbox), `serve` (Slack over HTTP and the public pages; several behind one address), and
# the organizer's commands (`docker compose run --rm run undersigned petition list`).
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DATABASE_URL=sqlite:////data/undersigned.db \
    MATRIX_STORE=/matrix-store \
    UNDERSIGNED_HEARTBEAT_FILE=/tmp/undersigned.heartbeat

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY adapters ./adapters
COPY storage ./storage
COPY runtime ./runtime
RUN pip install '.[matrix]' \
    && useradd --create-home --uid 10001 undersigned \
    && mkdir -m 0700 /data /matrix-store \
    && chown undersigned /data /matrix-store

USER undersigned
# Relative paths (the kept log heads, a generated key with SQLite) land in the data volume.
WORKDIR /data
# The database (SQLite) or what each instance keeps beside it. /matrix-store (the Matrix
# device's keys) is mounted by whoever runs Matrix: `run` in docker-compose.yml.
VOLUME ["/data"]
# Slack over HTTP, the public pages of published campaigns, /healthz and /readyz
EXPOSE 3000
# Alive: /healthz where the bot listens, else its heartbeat file (Discord or Matrix alone
# open no port). Readiness (the database) is /readyz: a restart would not bring it back.
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
    CMD ["undersigned", "health"]
CMD ["undersigned", "run"]

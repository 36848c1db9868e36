FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DATABASE_URL=sqlite:////data/undersigned.db

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY adapters ./adapters
COPY storage ./storage
COPY runtime ./runtime
RUN pip install '.[matrix]' \
    && useradd --create-home --uid 10001 undersigned \
    && mkdir /data && chown undersigned /data

USER undersigned
VOLUME ["/data"]
# Slack over HTTP, the public pages of published campaigns, and /healthz
EXPOSE 3000
CMD ["undersigned", "run"]

# The bot in a container: Python 3.11 slim, dependencies from requirements.lock (hash-checked),
# running as an unprivileged user, the database on the /data volume, /healthz as the health check.
#   docker compose up -d --build       (compose.yaml; settings from .env)
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /opt/kpu-bot
COPY requirements.lock ./
RUN python -m venv /opt/kpu-bot/venv && /opt/kpu-bot/venv/bin/pip install --require-hashes -r requirements.lock
COPY pyproject.toml README.md LICENSE ./
COPY bot ./bot
COPY handlers ./handlers
COPY storage ./storage
RUN /opt/kpu-bot/venv/bin/pip install --no-deps . && rm -rf build ./*.egg-info
RUN useradd --system --uid 10001 --user-group --home-dir /data --no-create-home --shell /usr/sbin/nologin kpu \
    && mkdir -p /data && chown kpu:kpu /data && chmod 0700 /data

ENV PATH=/opt/kpu-bot/venv/bin:$PATH \
    DATABASE_PATH=/data/bot.sqlite3 \
    HEALTH_PORT=8080 \
    HEALTH_LISTEN=0.0.0.0
USER kpu
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4)"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["kpu-bot"]
CMD ["run"]

# Vecinos: the bot only (no Synapse, no dev tools). Keep config.toml, the data key and the
# data directory on the /data volume:
#   docker build -t vecinos .
#   docker run -it --rm -v vecinos-data:/data vecinos init --config /data/config.toml
#   docker run -d --name vecinos -v vecinos-data:/data vecinos
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot/ bot/
COPY plugins/ plugins/
RUN pip install .

# A fixed uid makes it easy to chown a bind-mounted host directory to match.
RUN useradd --create-home --uid 10001 --user-group vecinos \
    && mkdir /data \
    && chown vecinos:vecinos /data \
    && chmod 700 /data

USER vecinos
WORKDIR /data
VOLUME /data
ENV VECINOS_CONFIG=/data/config.toml

# Config, key, database, homeserver and login; a /healthz endpoint will replace this.
HEALTHCHECK --interval=60s --timeout=30s --start-period=60s --retries=3 \
    CMD ["vecinos", "check", "-c", "/data/config.toml"]

ENTRYPOINT ["vecinos"]
CMD ["run", "-c", "/data/config.toml"]

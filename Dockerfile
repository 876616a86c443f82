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
# config.example.toml is shipped inside the package (bot/cli links to it): the hints of
# `vecinos check` and `vecinos init` name where it is in the image.
COPY pyproject.toml README.md config.example.toml ./
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

# The bot's own /healthz ([health] in the config): database, transports heard from
# recently, outbox backlog. Python's urllib, as slim images have no curl; a 503 raises.
HEALTHCHECK --interval=30s --timeout=10s --start-period=120s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('VECINOS_HEALTH__PORT', '9464'), timeout=8)"]

ENTRYPOINT ["vecinos"]
CMD ["run", "-c", "/data/config.toml"]

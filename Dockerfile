# SyncDub Companion. CPU by default; for NVIDIA GPUs build with
#   --build-arg BASE=nvidia/cuda:12.4.1-cudnn-runtime-ubuntu22.04 --build-arg TORCH_INDEX=https://download.pytorch.org/whl/cu124
ARG BASE=python:3.11-slim-bookworm
FROM ${BASE}

ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu
ENV DEBIAN_FRONTEND=noninteractive PYTHONUNBUFFERED=1 \
    SYNCDUB_CONFIG=/config/config.toml SYNCDUB__SERVER__DATA_DIR=/config/data \
    PUID=1000 PGID=1000

RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg mkvtoolnix gosu curl ca-certificates \
    $(command -v python3.11 >/dev/null || echo python3.11 python3.11-venv python3-pip) \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md config.example.toml ./
COPY syncdub_companion ./syncdub_companion
COPY plugins ./plugins
COPY webhooks ./webhooks
RUN python3.11 -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-cache-dir "torch==2.13.0" --index-url ${TORCH_INDEX} \
 && /opt/venv/bin/pip install --no-cache-dir . \
 && /opt/venv/bin/syncdub models install --set 'speech.model_dir="/opt/models"'
ENV PATH=/opt/venv/bin:$PATH SYNCDUB__SPEECH__MODEL_DIR=/opt/models

COPY docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
VOLUME ["/config", "/media"]
EXPOSE 5000
HEALTHCHECK --interval=60s --timeout=10s --start-period=30s CMD curl -fsS http://localhost:5000/healthz || exit 1
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["syncdub", "serve"]

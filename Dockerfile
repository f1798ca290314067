# SyncDub Companion. CPU by default; for NVIDIA GPUs build on a CUDA runtime image
# (Ubuntu 22.04 ships python3.11) and swap in the matching torch build after the locked install:
#   docker build --build-arg BASE=nvidia/cuda:12.8.1-cudnn-runtime-ubuntu22.04 \
#                --build-arg CUDA_TORCH_INDEX=https://download.pytorch.org/whl/cu128 -t syncdub:cuda .
# Run: docker run -p 5000:5000 -v /srv/syncdub:/config -v /srv/media:/media \
#        -e PUID=1000 -e PGID=1000 [--gpus all] syncdub
ARG BASE=python:3.11-slim-bookworm
FROM ${BASE}

ARG CUDA_TORCH_INDEX=
ENV DEBIAN_FRONTEND=noninteractive PYTHONUNBUFFERED=1 \
    SYNCDUB_CONFIG=/config/config.toml \
    PUID=1000 PGID=1000

RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg mkvtoolnix gosu curl ca-certificates \
    $(command -v python3.11 >/dev/null || echo python3.11 python3.11-venv) \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md config.example.toml requirements.lock ./
COPY syncdub_companion ./syncdub_companion
COPY plugins ./plugins
COPY webhooks ./webhooks
# SYNCDUB_CONFIG points at /config, which is empty while building: read the example instead.
# Everything from the lock (exact versions, hashes; torch's CPU build from PyTorch's index).
RUN python3.11 -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-cache-dir --require-hashes \
      --extra-index-url https://download.pytorch.org/whl/cpu -r requirements.lock \
 && /opt/venv/bin/pip install --no-cache-dir --no-deps --no-build-isolation . \
 && if [ -n "${CUDA_TORCH_INDEX}" ]; then \
      /opt/venv/bin/pip install --no-cache-dir --force-reinstall "torch==2.13.0" --index-url "${CUDA_TORCH_INDEX}"; fi \
 && /opt/venv/bin/syncdub models install --config /app/config.example.toml --set speech.model_dir=/opt/models
# The models are baked in at /opt/models; caches of any other model go to the /config volume
# (gosu sets HOME to / for a uid without a passwd entry).
ENV PATH=/opt/venv/bin:$PATH SYNCDUB__SPEECH__MODEL_DIR=/opt/models \
    HF_HOME=/config/data/huggingface XDG_CACHE_HOME=/config/data/cache

COPY docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
RUN chmod 0755 /usr/local/bin/docker-entrypoint.sh
VOLUME ["/config", "/media"]
# Relative paths in config.toml (data_dir = "./data") resolve against /config, so they persist.
WORKDIR /config
EXPOSE 5000
HEALTHCHECK --interval=60s --timeout=10s --start-period=30s \
  CMD curl -fsS "http://127.0.0.1:${SYNCDUB__SERVER__PORT:-5000}/healthz" >/dev/null || exit 1
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["syncdub", "serve"]

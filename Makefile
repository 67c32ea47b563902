# The two Quick start commands of the README, `make pipeline` and `make test`; `make test-fast` skips the
# slow tests (real models, the whole pipeline); `make lint` is what CI checks first; `make bench` runs every benchmark.
export DVC_NO_ANALYTICS := 1
export PATH := $(CURDIR)/.venv/bin:$(PATH)

.PHONY: setup pipeline test test-fast lint bench

setup:
	@scripts/setup.sh

pipeline: setup
	dvc repro
	distilloop status

test: setup
	python -m pytest -q

test-fast: setup
	python -m pytest -q -m "not slow"

lint: setup
	ruff check .
	ruff format --check .

bench: setup
	python -m bench

# The two Quick start commands of the README, `make pipeline` and `make test`; `make bench` runs every benchmark.
export DVC_NO_ANALYTICS := 1
export PATH := $(CURDIR)/.venv/bin:$(PATH)

.PHONY: setup pipeline test bench

setup:
	@scripts/setup.sh

pipeline: setup
	dvc repro

test: setup
	python -m pytest -q

bench: setup
	python -m bench

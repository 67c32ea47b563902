# The two Quick start commands of the README: `make pipeline` and `make test`.
export DVC_NO_ANALYTICS := 1
export PATH := $(CURDIR)/.venv/bin:$(PATH)

.PHONY: setup pipeline test

setup:
	@scripts/setup.sh

pipeline: setup
	dvc repro

test: setup
	python -m pytest -q


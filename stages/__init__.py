"""The pipeline's stages: one module per dvc.yaml stage, each run as `python -m stages.NAME` (as a module: a script's folder
would shadow the standard library's `select`).

Each reads its params, calls the distilloop library, and writes its outputs and metrics. No stage
imports another stage.
"""

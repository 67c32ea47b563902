"""The pipeline's stages: one module per dvc.yaml stage, each run as `python stages/NAME.py`.

Each reads its params, calls the distilloop library, and writes its outputs and metrics. No stage
imports another stage.
"""

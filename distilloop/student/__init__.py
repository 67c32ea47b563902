"""The student: the base model and its LoRA adapters (model.py), and the generation engine with its
decoding rules (generation.py, decoding.py) and per-task stop rules (stopping.py)."""

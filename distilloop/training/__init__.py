"""LoRA training for train@N: completion-only SFT (sft.py), logit distillation (kd.py), DPO, the trainer
for train.method (trainers.py), and multi-process runs (distributed.py)."""

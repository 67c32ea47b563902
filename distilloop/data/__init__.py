"""Bundled data, shipped inside the package: the C tasks (c_tasks.jsonl, built by data/seed/c_tasks/build.py
in the checkout) and the deterministic generator of the profile-scoring records (profiles.py)."""

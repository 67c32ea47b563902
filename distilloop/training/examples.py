"""What train@N trains on: train records (or DPO pairs) and val records as TRL conversational examples."""

from __future__ import annotations

import json
from pathlib import Path

from distilloop import UserError
from distilloop.io import Reject, iter_jsonl

FIELDS = {"sft": ("prompt", "completion"), "kd": ("prompt", "completion"), "dpo": ("prompt", "chosen", "rejected")}


def as_text(value) -> str:
    """json_record references and completions may be objects: the student is trained to write their JSON."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def conversation(prompt: str, system_prompt: str | None = None) -> list[dict]:
    """The prompt as chat messages; the tokenizer's chat template renders them exactly as at generation."""
    messages = [{"role": "system", "content": system_prompt}] if system_prompt else []
    return messages + [{"role": "user", "content": prompt}]


def read_examples(path: Path, method: str, system_prompt: str | None = None) -> list[dict]:
    """Train records (or DPO pairs) -> TRL conversational examples. A malformed line or a record without
    the fields the method needs stops the stage with one line naming the file and line: these files are
    written by the pipeline, so a bad one is a bug upstream, not data to skip."""
    if not path.exists():
        raise UserError(f"{path}: file not found (run the merge stage first, or pass --in)")
    examples = []
    for number, item in iter_jsonl(path):
        if isinstance(item, Reject):
            raise UserError(f"{path}:{number}: {item.reason}")
        for field in FIELDS[method]:
            value = item.get(field)
            if value is None or (isinstance(value, str) and not value.strip()):
                raise UserError(f"{path}:{number}: missing field {field!r} (needed by train.method {method})")
        weight = item.get("weight", 1)
        if not isinstance(weight, int) or isinstance(weight, bool) or weight < 1:
            raise UserError(f"{path}:{number}: 'weight' must be a whole number >= 1 (got {weight!r})")
        example = {"prompt": conversation(as_text(item["prompt"]), system_prompt)}
        for field in FIELDS[method][1:]:
            example[field] = [{"role": "assistant", "content": as_text(item[field])}]
        examples += [example] * weight  # a weighted record: seen `weight` times per pass
    return examples


def read_eval_examples(path: Path, system_prompt: str | None = None) -> tuple[list[dict], int]:
    """Val records with a reference -> eval examples (prompt, completion = reference). Returns the examples
    and the number of val records skipped for having no reference."""
    if not path.exists():
        return [], 0
    examples, without_reference = [], 0
    for number, item in iter_jsonl(path):
        if isinstance(item, Reject):
            raise UserError(f"{path}:{number}: {item.reason}")
        if item.get("reference") in (None, "") or not item.get("prompt"):
            without_reference += 1
            continue
        examples.append(
            {
                "prompt": conversation(as_text(item["prompt"]), system_prompt),
                "completion": [{"role": "assistant", "content": as_text(item["reference"])}],
            }
        )
    return examples, without_reference

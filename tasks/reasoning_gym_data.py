"""Writes the reasoning task's items as export rows, from reasoning-gym's seeded generators (offline).

    python tasks/reasoning_gym_data.py --out data/seed/reasoning_gym.jsonl --count 1050

One JSON row per item: {"id", "task", "prompt", "reference", "meta"}. The reference is the exact answer
the student should give (the reference teacher hands it over verbatim); meta holds what the generator's
own `score_answer` needs (tasks/reasoning_gym_task.py). Same --seed and --count, same bytes.
"""

from __future__ import annotations

import argparse
import json
import sys
from itertools import zip_longest
from pathlib import Path

# The generators and their sizes: small, so that the answers are a few tokens. Chosen by measurement
# (SmolLM2-135M, 30 held-out items each): the base model passes none of them (it answers in sentences);
# after one LoRA pass over 60 references each it passed basic_arithmetic 40%, chain_sum 30%,
# leg_counting 20% (word_sequence_reversal 13%, number_sorting 0%).
GENERATORS: dict[str, dict] = {
    "basic_arithmetic": {
        "min_terms": 2,
        "max_terms": 2,
        "min_digits": 1,
        "max_digits": 1,
        "operators": ["+", "-", "*"],
        "allow_parentheses": False,
        "allow_negation": False,
    },
    "chain_sum": {"min_terms": 2, "max_terms": 2, "min_digits": 1, "max_digits": 2},
    "leg_counting": {"min_animals": 1, "max_animals": 2, "min_instances": 1, "max_instances": 4},
}
INSTRUCTION = "Reply with the answer only, on one line."
BOOKKEEPING = ("difficulty", "source_dataset", "source_index")  # metadata no verifier reads (the id has them)


def rows(names: list[str], count: int, seed: int) -> list[dict]:
    """`count` items split evenly over the generators `names`; identical questions are kept once."""
    import reasoning_gym

    per_generator, seen = [], set()
    for position, name in enumerate(names):
        wanted = count // len(names) + (position < count % len(names))
        # small configurations repeat questions: draw more than wanted and keep the first of each
        dataset = reasoning_gym.create_dataset(name, seed=seed, size=wanted * 4, **GENERATORS[name])
        out, taken = [], 0
        for index in range(len(dataset)):
            if taken == wanted:
                break
            entry = dataset[index]
            if entry["question"] in seen:
                continue
            seen.add(entry["question"])
            taken += 1
            metadata = {key: value for key, value in entry["metadata"].items() if key not in BOOKKEEPING}
            out.append(
                {
                    "id": f"{name}-{seed}-{index}",
                    "task": "reasoning",
                    "prompt": f"{entry['question'].strip()}\n{INSTRUCTION}",
                    "reference": entry["answer"],
                    "meta": {"dataset": name, "answer": entry["answer"], "metadata": metadata},
                }
            )
        if taken < wanted:
            raise SystemExit(f"{name}: only {taken} distinct questions in {len(dataset)} draws, {wanted} wanted")
        per_generator.append(out)
    # interleaved: each epoch practises on the next slice of the pool in file order, which must mix them
    return [row for group in zip_longest(*per_generator) for row in group if row is not None]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="the JSONL file to write")
    parser.add_argument("--count", type=int, default=1050, help="items in all, split evenly over the generators")
    parser.add_argument("--seed", type=int, default=0, help="reasoning-gym seed (item i draws from seed + i)")
    parser.add_argument(
        "--generators", default=",".join(GENERATORS), help="comma-separated, from: " + ", ".join(GENERATORS)
    )
    args = parser.parse_args(argv)
    names = [name.strip() for name in args.generators.split(",") if name.strip()]
    unknown = sorted(set(names) - set(GENERATORS))
    if unknown or not names:
        parser.error(f"unknown generator(s): {', '.join(unknown) or '(none given)'}")
    items = rows(names, args.count, args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    # sort_keys: metadata dicts come out in one order whatever order the generator built them in
    text = "".join(json.dumps(item, ensure_ascii=False, sort_keys=True) + "\n" for item in items)
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {len(items)} items to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Write distilloop/data/c_tasks.jsonl (the bundled C tasks, package data) from the family modules next to this file.

    python data/seed/c_tasks/build.py          # rewrite the JSONL
    python data/seed/c_tasks/build.py --check  # exit 1 if the committed JSONL is stale

Records are sorted by id and serialised deterministically, so the file only changes when a task does.
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

# data/seed is a DVC dependency of export: no __pycache__ may appear inside it.
sys.dont_write_bytecode = True

HERE = Path(__file__).resolve().parent
OUTPUT = HERE.parent.parent.parent / "distilloop" / "data" / "c_tasks.jsonl"
FAMILIES = (
    "vlan_tag", "qbv_gcl", "gptp_timestamp", "gptp_message", "avtp", "qav_shaper", "srp_class",
    "ethernet_frame", "ring_buffer", "crc", "bit_field", "endian", "fixed_point", "debounce",
    "state_machine",
)


def records() -> list[dict]:
    if str(HERE) not in sys.path:
        sys.path.insert(0, str(HERE))  # family modules import `common` from this directory
    collected = []
    for name in FAMILIES:
        family = importlib.import_module(name).FAMILY
        if family.name != name:
            raise ValueError(f"{name}.py defines family {family.name!r}")
        collected.extend(family.records)
    ids = [record["id"] for record in collected]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValueError(f"duplicate ids: {', '.join(duplicates)}")
    return sorted(collected, key=lambda record: record["id"])


def render() -> str:
    return "".join(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n" for record in records())


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        current = OUTPUT.read_text(encoding="utf-8") if OUTPUT.exists() else ""
        if current != text:
            print(f"{OUTPUT} is stale: run python {__file__}")
            return 1
        return 0
    OUTPUT.write_text(text, encoding="utf-8")
    print(f"wrote {text.count(chr(10))} records to {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

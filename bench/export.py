"""Export at scale: wall time and rows/s at 1k, 10k and 100k synthetic records.

The baseline is the same rows read without the leakage check, so the ratio shows what the
near-duplicate search costs as the data grows (it should stay near-linear: MinHash + LSH).

    python -m bench.export [--sizes 1000 10000 100000]
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
from pathlib import Path

from bench.common import save, stopwatch
from distilloop.config import Params
from distilloop.export import leakage

WORDS = (
    "vlan tag pcp dei vid gate control list interval cycle credit shaper slope stream avtp subtype "
    "timestamp gptp sync follow up announce crc ring buffer bit field endian frame ethertype"
).split()


def synthetic_rows(count: int, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for n in range(count):
        words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(20, 60)))
        rows.append(
            {
                "id": f"syn-{n:06d}",
                "task": "c_code",
                "prompt": f"Write a MISRA-C function: {words}.",
                "reference": "int f(void) { return 0; }",
            }
        )
    for n in range(0, count, 50):  # 2% near-duplicates so the leakage search has work to do
        rows[n + 1]["prompt"] = rows[n]["prompt"] + " Use fixed-width types."
    return rows


def measure(count: int, work: Path) -> dict:
    from distilloop import export

    source = work / f"rows-{count}.jsonl"
    source.write_text("".join(json.dumps(row) + "\n" for row in synthetic_rows(count)))
    params = Params()
    with stopwatch() as elapsed:
        metrics = export.run(params, str(source), out_dir=work / f"out-{count}", metrics_path=None)
    total = elapsed()
    texts = [(row["id"], "pool", row["prompt"]) for row in synthetic_rows(count)]
    with stopwatch() as leak_elapsed:
        leakage.report(texts, params.export.near_duplicate_threshold)
    leak_seconds = leak_elapsed()
    return {
        "rows": count,
        "seconds": round(total, 3),
        "rows_per_second": round(count / total, 1),
        "leakage_seconds": round(leak_seconds, 3),
        "without_leakage_rows_per_second": round(count / max(total - leak_seconds, 1e-9), 1),
        "records": metrics["records"],
        "near_duplicates": metrics["leakage"]["near_duplicates"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-export-") as tmp:
        runs = [measure(size, Path(tmp)) for size in args.sizes]
    first, last = runs[0], runs[-1]
    growth = (last["seconds"] / first["seconds"]) / (last["rows"] / first["rows"])
    save("export", {"runs": runs, "time_growth_vs_linear": round(growth, 2)})


if __name__ == "__main__":
    main()

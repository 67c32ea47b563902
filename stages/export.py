"""export: read the source (params export.source), render prompts, split by a stable hash of each id,
write data/export/{train,pool,val,test}.jsonl, data/export/rejects.jsonl and metrics/export.json.

The work is the library's (distilloop/export), so an installed distilloop exports the same way by hand:
`distilloop export --source FILE --out DIR`.
"""

from __future__ import annotations

from pathlib import Path

from distilloop import export
from distilloop.command import ParamsOption, load_params, run_command


def main(params_file: ParamsOption = Path("params.yaml")):
    """Read the source, render prompts, split by a stable id hash, write records and rejects."""
    export.run(load_params(params_file))


if __name__ == "__main__":
    run_command(main)

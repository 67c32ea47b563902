"""The bundled C tasks (data/seed/c_tasks.jsonl): reproducible, complete, and every reference right.

Real gcc throughout: each reference compiles strictly, passes its harness, and a mutant of it (the
requested function's body replaced by `return 0;` or nothing) fails the harness, so no harness is
vacuous. The gcc work runs once per test module, in a pool of two threads.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "distilloop" / "data" / "c_tasks.jsonl"
GENERATOR = ROOT / "data" / "seed" / "c_tasks" / "build.py"
STRICT = ["gcc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic"]
RUN_TIMEOUT_S = 5
REQUIRED = ("id", "task", "prompt", "reference", "checks", "meta")
CANONICAL_FACTS = {
    "ethertype_avtp",
    "ethertype_msrp",
    "ethertype_gptp",
    "ethertype_ctag",
    "ethertype_stag",
    "vlan_tci_layout",
    "vlan_vid_reserved",
    "srp_class_a_pcp",
    "srp_class_a_interval_us",
    "srp_class_b_pcp",
    "srp_class_b_interval_us",
    "gptp_dest_mac",
    "gptp_msg_sync",
    "gptp_msg_pdelay_req",
    "gptp_msg_pdelay_resp",
    "gptp_msg_follow_up",
    "gptp_msg_pdelay_resp_follow_up",
    "gptp_msg_announce",
    "ptp_ns_per_second",
    "avtp_subtype_aaf",
    "avtp_subtype_cvf",
    "avtp_subtype_crf",
    "avtp_timestamp_wrap",
    "qbv_gate_bits",
    "qbv_interval_rules",
    "qav_send_slope",
}


@pytest.fixture(scope="module")
def records() -> list[dict]:
    return [json.loads(line) for line in SEED.read_text(encoding="utf-8").splitlines()]


def load_generator():
    import importlib.util

    # no bytecode caches inside data/seed (a DVC dependency)
    saved, sys.dont_write_bytecode = sys.dont_write_bytecode, True
    try:
        spec = importlib.util.spec_from_file_location("c_tasks_build", GENERATOR)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.dont_write_bytecode = saved


# --- the data itself --------------------------------------------------------------------------------


def test_committed_jsonl_is_what_the_generator_writes():
    assert SEED.read_text(encoding="utf-8") == load_generator().render(), (
        "distilloop/data/c_tasks.jsonl is stale: run python data/seed/c_tasks/build.py"
    )
    assert not list(GENERATOR.parent.parent.rglob("__pycache__")), "bytecode caches under data/seed change the DVC hash"


def test_counts_and_coverage(records):
    families = Counter(record["checks"]["family"] for record in records)
    with_harness = sum(1 for record in records if record["checks"].get("harness"))
    assert len(records) >= 450
    assert len(families) >= 10
    assert min(families.values()) >= 8, families
    assert with_harness * 2 >= len(records)
    ids = [record["id"] for record in records]
    assert len(set(ids)) == len(ids)
    assert ids == sorted(ids)


def test_every_record_is_complete_and_consistent(records):
    for record in records:
        rid = record["id"]
        assert all(record.get(key) for key in REQUIRED), rid
        checks, meta = record["checks"], record["meta"]
        assert record["task"] == "c_code", rid
        assert rid.startswith(checks["family"] + "-"), rid
        assert meta["family"] == checks["family"] and meta["difficulty"] in ("easy", "medium", "hard"), rid
        signature = checks["signature"]
        assert signature in record["prompt"], f"{rid}: signature not quoted verbatim in the prompt"
        assert re.search(rf"\b{checks['function']}\s*\(", signature), rid
        assert re.search(re.escape(signature) + r"\s*\{", record["reference"]), f"{rid}: reference lacks the definition"
        assert set(checks["facts"]) <= CANONICAL_FACTS, f"{rid}: unknown fact {set(checks['facts']) - CANONICAL_FACTS}"
        for fact, identifier in checks["facts"].items():
            if identifier is not None:
                assert re.search(rf"\b{identifier}\b", record["prompt"]), f"{rid}: {identifier} ({fact}) not in prompt"
                assert re.search(rf"\b{identifier}\b", record["reference"]), f"{rid}: reference lacks {identifier}"
        prompt = record["prompt"]
        assert "main()" in prompt and "MISRA" in prompt and "C99" in prompt, rid
        reference = record["reference"]
        assert "```" not in reference and not re.search(r"\bint\s+main\s*\(", reference), rid
        assert not re.search(r"\b(malloc|calloc|realloc|free)\s*\(|\bgoto\b", reference), rid
        harness = checks.get("harness")
        if harness:
            assert "int main(void)" in harness and "harness: %u/%u" in harness, rid


def test_generated_variants_differ_in_substance(records):
    """No two tasks share a harness once the function name is blanked: a renamed copy of one answer would
    pass the other's harness."""
    seen = {}
    for record in records:
        harness = record["checks"].get("harness")
        if harness:
            key = re.sub(rf"\b{record['checks']['function']}\b", "F", harness)
            assert key not in seen, f"{record['id']} has the same harness as {seen.get(key)}"
            seen[key] = record["id"]
    families = Counter(record["checks"]["family"] for record in records)
    for family in ("crc", "bit_field", "endian", "fixed_point", "vlan_tag", "gptp_timestamp"):
        assert families[family] >= 25, (family, families[family])


COPIED_DEFINE = re.compile(r"#define \w+_(?:POLY|INIT|XOROUT|POS|WIDTH|MSB) (0x[0-9A-F]+|\d+)U")


def test_crc_and_register_field_constants_are_written_in_the_prompt(records):
    """A 135M student copies numbers from its prompt but cannot bit-reverse a polynomial or build a mask,
    so the CRC and register-field references define only numbers the prompt spells out (a zero final XOR
    may be worded "no final XOR")."""
    checked = 0
    for record in records:
        if record["checks"]["family"] not in ("crc", "bit_field"):
            continue
        for value in COPIED_DEFINE.findall(record["reference"]):
            checked += 1
            if value.startswith("0x"):
                written = value in record["prompt"] or (int(value, 16) == 0 and "no final XOR" in record["prompt"])
            else:
                written = re.search(rf"\b{value}\b", record["prompt"]) is not None
            assert written, f"{record['id']}: {value} is not in the prompt"
    assert checked > 500, checked


def test_references_are_documented(records):
    """A Doxygen block with @brief, one @param per parameter and @return (unless void) before the function."""
    for record in records:
        signature = record["checks"]["signature"]
        reference = record["reference"]
        head = reference[: reference.index(signature)]
        comment = head[head.rindex("/**") :]
        assert "@brief" in comment, record["id"]
        returns, params = split_signature(signature)
        for name in params:
            assert re.search(rf"@param(\[\w+\])?\s+{name}\b", comment), f"{record['id']}: @param {name} missing"
        assert ("@return" in comment) == (returns != "void"), record["id"]


def test_prompts_are_distinct(records):
    from distilloop.export import leakage

    texts = [(record["id"], record["id"], record["prompt"]) for record in records]  # every record its own "split"
    report = leakage.report(texts, 0.8)
    assert report["shared_prompts"] == 0 and report["near_duplicates"] == 0, report["examples"]


# --- gcc: compile, harness, mutants -------------------------------------------------------------


def split_signature(signature: str) -> tuple[str, list[str]]:
    """'uint16_t f(uint8_t a, const uint8_t *b, uint8_t c[4])' -> ('uint16_t', ['a', 'b', 'c'])."""
    head, _, rest = signature.partition("(")
    returns = re.sub(r"\w+\s*$", "", head).strip()
    params = []
    for part in rest.rsplit(")", 1)[0].split(","):
        part = re.sub(r"\[[^\]]*\]", "", part).strip()
        if part and part != "void":
            params.append(re.findall(r"\w+", part)[-1])
    return returns, params


def mutant(record: dict) -> str:
    """The reference with the requested function's body replaced by one that does nothing."""
    reference, signature = record["reference"], record["checks"]["signature"]
    returns, params = split_signature(signature)
    start = reference.index("{", reference.index(signature))
    depth, end = 0, start
    for end in range(start, len(reference)):
        depth += {"{": 1, "}": -1}.get(reference[end], 0)
        if depth == 0:
            break
    body = " ".join(f"(void){name};" for name in params)
    body += "" if returns == "void" else " return 0;"
    return reference[:start] + "{ " + body + " }" + reference[end + 1 :]


def build_and_run(source: str, workdir: Path, name: str, flags: list[str]) -> tuple[str, int | None, str]:
    """Compile and link one program and run it: (stage reached, exit code, output)."""
    (workdir / f"{name}.c").write_text(source, encoding="utf-8")
    built = subprocess.run([*flags, "-o", name, f"{name}.c"], cwd=workdir, capture_output=True, text=True)
    if built.returncode != 0:
        return "compile", built.returncode, built.stderr
    try:
        ran = subprocess.run([str(workdir / name)], cwd=workdir, capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return "timeout", None, ""
    return "run", ran.returncode, ran.stdout


@pytest.fixture(scope="module")
def gcc_results(records, tmp_path_factory) -> dict:
    workdir = tmp_path_factory.mktemp("seed_c")
    # 1. every reference alone, several files per gcc call (errors are attributed by file name)
    objects = workdir / "objects"
    objects.mkdir()
    for record in records:
        (objects / f"{record['id']}.c").write_text(record["reference"], encoding="utf-8")
    names = sorted(path.name for path in objects.glob("*.c"))
    batches = [names[i : i + 40] for i in range(0, len(names), 40)]
    with ThreadPoolExecutor(2) as pool:
        compiled = list(
            pool.map(
                lambda batch: subprocess.run([*STRICT, "-c", *batch], cwd=objects, capture_output=True, text=True),
                batches,
            )
        )
    compile_errors = {}
    for result in compiled:
        for line in result.stderr.splitlines():
            match = re.match(r"([\w.-]+)\.c:", line)
            if match:
                compile_errors.setdefault(match.group(1), line)
        if result.returncode != 0 and not compile_errors:
            compile_errors["?"] = result.stderr[:500]
    missing = [name for name in names if not (objects / name.replace(".c", ".o")).exists()]

    # 2. reference + harness (strict) and mutant + harness (warnings allowed: helpers become unused)
    def check(record: dict) -> tuple[str, tuple, tuple]:
        harness = record["checks"]["harness"]
        rid = record["id"]
        good = build_and_run(record["reference"] + "\n" + harness, workdir, f"ref_{rid}", STRICT)
        bad = build_and_run(mutant(record) + "\n" + harness, workdir, f"mut_{rid}", ["gcc", "-std=c99", "-w"])
        return rid, good, bad

    with ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(check, [r for r in records if r["checks"].get("harness")]))
    return {
        "compile_errors": compile_errors,
        "missing_objects": missing,
        "harness": {rid: good for rid, good, _ in runs},
        "mutant": {rid: bad for rid, _, bad in runs},
    }


def test_every_reference_compiles_strictly(gcc_results):
    errors = gcc_results["compile_errors"]
    assert not errors, "\n".join(f"{rid}: {line}" for rid, line in sorted(errors.items()))
    assert gcc_results["missing_objects"] == []


def test_every_reference_passes_its_harness(gcc_results):
    failures = {}
    for rid, (stage, code, output) in gcc_results["harness"].items():
        lines = output.strip().splitlines()
        last = lines[-1] if lines else ""
        match = re.fullmatch(r"harness: (\d+)/(\d+)", last)
        if stage != "run" or code != 0 or not match or match.group(1) != match.group(2) or match.group(2) == "0":
            failures[rid] = (
                f"{stage} exit {code}: " + "; ".join(line for line in lines if not line.startswith("ok "))[:400]
            )
            continue
        assert len(lines) == int(match.group(2)) + 1 and all(line.startswith("ok ") for line in lines[:-1]), rid
    assert not failures, "\n".join(f"{rid}: {detail}" for rid, detail in sorted(failures.items()))


def test_harnesses_catch_a_function_that_does_nothing(gcc_results):
    survived = {}
    for rid, (stage, code, output) in gcc_results["mutant"].items():
        if stage == "compile":
            survived[rid] = f"mutant does not compile: {output[:300]}"
        elif stage == "run" and (code == 0 or "FAIL" not in output):
            survived[rid] = f"mutant passed: {output[-300:]}"
    assert not survived, "\n".join(f"{rid}: {detail}" for rid, detail in sorted(survived.items()))


def test_every_reference_passes_its_own_gate(records):
    """The gate itself, in one score_records call: strict compile, MISRA (only 8.4, inherent to isolated
    snippets, is tolerated), protocol facts, style, and the harness built and run inside the sandbox."""
    from distilloop.config import parse
    from distilloop.gate.scoring import score_records

    params = parse({"gate": {"c_code": {"harness": {"cpu_seconds": 1, "wall_seconds": 5}}}})
    results = score_records([{**record, "output": record["reference"]} for record in records], params.gate)
    problems = {
        result["id"]: [f for f in result["findings"] if f["id"] != "misra-c2012-8.4"] or result["axes"]
        for result in results
        if not result["passed"] or any(f["id"] != "misra-c2012-8.4" for f in result["findings"])
    }
    assert not problems, "\n".join(f"{rid}: {detail}" for rid, detail in sorted(problems.items()))
    assert all(result["axes"]["function"] == 10 for result in results if result["checks"].get("harness"))


# --- the export stage reads it ---------------------------------------------------------------------


def test_export_reads_the_bundled_c_tasks_without_rejects(records, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DVC_NO_ANALYTICS": "1"}
    out = tmp_path / "export"
    result = subprocess.run(
        [sys.executable, "-m", "distilloop.cli", "export", "--source", "bundled:c_code", "--out", str(out)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    metrics = json.loads((out / "export-metrics.json").read_text())
    assert metrics["rejects"] == 0 and (out / "rejects.jsonl").read_text() == ""
    assert metrics["records"] == len(records) == sum(metrics["splits"].values())
    assert metrics["leakage"]["shared_prompts"] == 0 and metrics["leakage"]["near_duplicates"] == 0
    exported = {}
    for split in ("train", "pool", "val", "test"):
        for line in (out / f"{split}.jsonl").read_text().splitlines():
            item = json.loads(line)
            exported[item["id"]] = item
    for record in records:
        item = exported[record["id"]]
        assert item["prompt"] == record["prompt"] and item["checks"] == record["checks"]
        assert item["reference"] == record["reference"] and item["meta"] == record["meta"]

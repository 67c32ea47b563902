"""The json_record task: the answer is one JSON object (bare, fenced or inside prose).

Axes (0-10; weights and minimums from params.gate.json_record):
  parse      10 when a JSON object was found and parsed, else 0 (finding `json-parse`)
  schema     required keys with their JSON types and numeric ranges from params; 2.5 points per problem
  agreement  `match_keys` equal the reference's and `score_key` within `score_tolerance` of it: 10 inside
             the tolerance, falling linearly to 0 at four times it (needs a reference)
"""

from __future__ import annotations

import math

from distilloop.config import GateParams, JsonGateParams
from distilloop.gate.extract import extract_json, parse_json
from distilloop.gate.verdict import verdict, weighted_score

SCHEMA_PENALTY = 2.5
JSON_TYPES = {
    "string": lambda v: isinstance(v, str),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
}


def score(records: list[dict], gate: GateParams, on_progress=None, timings: dict | None = None) -> list[dict]:
    results = []
    for record in records:
        results.append({**record, **score_one(record, gate)})
        if on_progress:
            on_progress(1)
    return results


def reference_of(record: dict) -> dict | None:
    reference = record.get("reference")
    if isinstance(reference, str):
        reference, _ = parse_json(reference)  # CSV/SQL carry it as text, and text may nest without end
    return reference if isinstance(reference, dict) else None


def score_one(record: dict, gate: GateParams) -> dict:
    config = gate.json_record
    value, cut, error = extract_json(str(record.get("output") or ""))
    findings = []
    truncated = bool(record.get("truncated")) or cut
    if truncated:
        findings.append(
            {
                "id": "truncated",
                "message": "the reply ends inside the JSON object or an unclosed fence"
                if cut
                else "generation stopped at max_new_tokens",
            }
        )
    axes = {"parse": 10.0 if isinstance(value, dict) else 0.0}
    reference = reference_of(record)
    if value is None:
        findings.append({"id": error.finding, "message": str(error)})  # json-parse or json-too-deep
        axes["schema"] = 0.0
        if reference is not None:
            axes["agreement"] = 0.0
    else:
        problems = schema_problems(value, config)
        findings += [{"id": "json-schema", "message": problem} for problem in problems]
        axes["schema"] = max(0.0, 10.0 - SCHEMA_PENALTY * len(problems))
        if reference is not None:
            axes["agreement"], mismatch = agreement(value, reference, config)
            findings += [{"id": "json-reference", "message": message} for message in mismatch]

    return {
        **verdict(weighted_score(axes, config.weights), axes, gate.pass_score, config.minimums),
        "truncated": truncated,
        "findings": findings,
    }


def schema_problems(value: dict, config: JsonGateParams) -> list[str]:
    problems = []
    for key, kind in config.required.items():
        if key not in value:
            problems.append(f"missing key {key!r}")
        elif not JSON_TYPES[kind](value[key]):
            problems.append(f"{key!r} must be a {kind}, got {type(value[key]).__name__}")
    for key, (low, high) in config.ranges.items():
        number = value.get(key)
        if JSON_TYPES["number"](number) and not low <= number <= high:
            problems.append(f"{key!r} = {number} is outside [{low:g}, {high:g}]")
    return problems


def agreement(value: dict, reference: dict, config: JsonGateParams) -> tuple[float, list[str]]:
    """(0-10, mismatches) of the answer against the reference."""
    mismatches = [
        f"{key!r} is {value.get(key)!r}, the reference says {reference[key]!r}"
        for key in config.match_keys
        if key in reference and value.get(key) != reference[key]
    ]
    if mismatches:
        return 0.0, mismatches
    want, got = reference.get(config.score_key), value.get(config.score_key)
    if not JSON_TYPES["number"](want):
        return 10.0, []
    if not JSON_TYPES["number"](got):
        return 0.0, [f"no numeric {config.score_key!r} to compare with the reference {want}"]
    distance = abs(got - want)
    tolerance = config.score_tolerance
    if distance <= tolerance + 1e-9:  # 0.8 - 0.7 is 0.10000000000000009 in floating point
        return 10.0, []
    axis = max(0.0, 10.0 * (1 - (distance - tolerance) / (3 * tolerance))) if tolerance > 0 else 0.0
    return axis, [
        f"{config.score_key!r} {got:g} is {distance:.3g} from the reference {want:g} (tolerance {tolerance:g})"
    ]


def predicted_and_reference(record: dict, config: JsonGateParams) -> tuple[float, float] | None:
    """(answer's score, reference score) for the correlation in the epoch metrics, when both exist."""
    key = config.score_key
    reference = reference_of(record)
    value, _, _ = extract_json(str(record.get("output") or ""))
    if reference is None or not isinstance(value, dict):
        return None
    got, want = value.get(key), reference.get(key)
    if JSON_TYPES["number"](got) and JSON_TYPES["number"](want):
        return float(got), float(want)
    return None

"""export: read the source rows, render prompts, assign stable splits, report leakage.

Writes data/export/{train,pool,val,test}.jsonl, data/export/rejects.jsonl and metrics/export.json.
Every row read ends as a record in one split or as a reject with its reason: rows = records + rejects.
"""

from __future__ import annotations

import hashlib
import json
import string
from collections import Counter, defaultdict
from pathlib import Path

from distilloop import UserError
from distilloop.config import BUILT_IN_TASKS, ExportParams, Params, SourceParams
from distilloop.console import console, progress, shown, summary_table
from distilloop.export import leakage
from distilloop.export.sources import Row, read_source
from distilloop.io import ReadStats, Reject, bad_text, loads_strict, write_json, write_jsonl
from distilloop.paths import EXPORT_DIR, METRICS_DIR, SPLITS

RECORD_KEYS = ("id", "task", "prompt", "reference", "rejected", "checks", "meta")
MAX_ID_CHARS = 200


def split_of(record_id: str, fractions: dict[str, float], salt: str) -> str:
    """The split of an id, from a hash of the id alone: adding records never moves another one."""
    digest = hashlib.sha256(f"{salt}\x00{record_id}".encode()).digest()
    position = int.from_bytes(digest[:8], "big") / 2**64
    cumulative = 0.0
    for split in SPLITS:
        cumulative += fractions[split]
        if position < cumulative:
            return split
    return SPLITS[-1] if fractions[SPLITS[-1]] > 0 else max(SPLITS, key=lambda s: fractions[s])


def _json_field(value, name: str, want: type):
    """CSV, Parquet and SQL rows carry nested fields as JSON text."""
    if isinstance(value, str) and want is not str:
        try:
            value = loads_strict(value)
        except json.JSONDecodeError as exc:
            raise ValueError(f"bad field: {name!r} is not valid JSON: {exc.msg}") from None
        except RecursionError:
            raise ValueError(f"bad field: {name!r} is not usable JSON: nested too deeply") from None
        except ValueError as exc:  # NaN/Infinity, an integer of thousands of digits
            raise ValueError(f"bad field: {name!r} is not usable JSON: {str(exc).splitlines()[0][:200]}") from None
        problem = bad_text(value, name)
        if problem is not None:
            raise ValueError(f"bad field: {problem}")
    if not isinstance(value, want):
        raise ValueError(f"bad field: {name!r} must be {want.__name__}, got {type(value).__name__}")
    return value


def mapped(data: dict, fields: dict[str, str]) -> dict:
    """The row with its columns renamed as export.fields says ({record key: source column}); a mapped
    column is taken out of the row, so it does not come along again in meta."""
    if not fields:
        return data
    missing = [column for column in fields.values() if column not in data]
    if missing:
        raise ValueError(f"missing field: {missing[0]!r} (export.fields maps it)")
    renamed = {key: data[column] for key, column in fields.items()}
    return {**{k: v for k, v in data.items() if k not in fields.values()}, **renamed}


def stable_id(data: dict) -> str:
    """The id of a row that has none: a hash of its prompt fields, so the same row keeps its id and split."""
    body = json.dumps(
        {k: v for k, v in data.items() if k not in ("id", "reference", "meta")}, sort_keys=True, default=str
    )
    return "h" + hashlib.sha256(body.encode()).hexdigest()[:16]


def to_record(row: Row, params: ExportParams, tasks: tuple[str, ...] = BUILT_IN_TASKS) -> tuple[dict, str]:
    """A source row -> (export record, the row's own prompt text). Raises ValueError with the reason."""
    data = mapped(row.data, params.fields)
    raw_id = data.get("id")
    if raw_id is None or (isinstance(raw_id, str) and not raw_id.strip()):
        raw_id = stable_id(data)
    if not isinstance(raw_id, (str, int)) or isinstance(raw_id, bool):
        raise ValueError(f"bad field: 'id' must be a string or integer, got {type(raw_id).__name__}")
    record_id = str(raw_id).strip()
    if len(record_id) > MAX_ID_CHARS:
        raise ValueError(f"bad field: 'id' longer than {MAX_ID_CHARS} characters")
    task = data.get("task") or params.task
    if task not in tasks:
        raise ValueError(f"unknown task: {task!r} (known: {', '.join(tasks)}; declare it under gate.tasks)")

    meta = _json_field(data["meta"], "meta", dict) if data.get("meta") is not None else {}
    meta.update({key: value for key, value in data.items() if key not in RECORD_KEYS})
    fields = {**meta, **({"prompt": data["prompt"]} if "prompt" in data else {})}
    template = params.template(task)
    needed = [name for _, name, _, _ in string.Formatter().parse(template) if name]
    for name in needed:
        value = fields.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            raise ValueError(f"missing field: {name!r} (needed by the {task} prompt template)")
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):  # else a Python repr in the prompt
            raise ValueError(f"bad field: {name!r} must be text or a number, got {type(value).__name__}")
    try:
        prompt = template.format_map(fields)
    except (ValueError, IndexError, AttributeError) as exc:
        raise ValueError(f"bad template: {exc}") from None
    own_text = " ".join(str(fields[name]) for name in needed)  # what the row contributes to the prompt

    record = {"id": record_id, "task": task, "prompt": prompt}
    if data.get("reference") is not None:
        if task in BUILT_IN_TASKS:
            want = dict if task == "json_record" else str
            reference = _json_field(data["reference"], "reference", want)
            if want is str and not reference.strip():
                raise ValueError("missing field: 'reference' is empty")
        else:  # a user task's reference is whatever its scorer reads: text, a number, an object
            reference = data["reference"]
        record["reference"] = reference
    if data.get("rejected") is not None:  # a preference pair's losing answer (the reference wins)
        rejected = data["rejected"]
        if not isinstance(rejected, str) or not rejected.strip() or "reference" not in record:
            raise ValueError("bad field: 'rejected' must be a non-empty string, beside a reference")
        record["rejected"] = rejected
    if data.get("checks") is not None:
        record["checks"] = _json_field(data["checks"], "checks", dict)
    if meta:
        record["meta"] = meta
    return record, own_text


def run(
    params: Params,
    source: str | None = None,
    out_dir: Path = EXPORT_DIR,
    metrics_path: Path | None = METRICS_DIR / "export.json",
) -> dict:
    config = params.export
    parts = [SourceParams(source=source)] if source else config.sources or [SourceParams(source=config.source)]
    source = " + ".join(part.source for part in parts)
    stats = ReadStats()
    splits: dict[str, list[dict]] = {split: [] for split in SPLITS}
    rejects: list[dict] = []
    first_seen: dict[str, tuple[Row, dict]] = {}  # id -> its first row and record
    conflicting: set[str] = set()  # ids of rows that differ: none of them is exported
    texts: list[tuple[str, str, str]] = []
    rows = 0
    with progress() as bar:
        task_id = bar.add_task(f"export {source}", total=None)
        for part, forced_split, item in _rows(parts, config, stats):
            if config.max_rows is not None and rows >= config.max_rows:
                break
            rows += 1
            bar.advance(task_id)
            if isinstance(item, Reject):
                rejects.append(item.to_dict())
                continue
            try:
                record, own_text = to_record(item, part, params.gate.task_names)
                if record["id"] in first_seen:
                    rejects += _duplicate(item, record, *first_seen[record["id"]], conflicting)
                    continue
            except ValueError as exc:
                rejects.append(_reject(item, str(exc)))
                continue
            first_seen[record["id"]] = (item, record)
            split = forced_split or split_of(record["id"], config.fractions.model_dump(), config.split_salt)
            splits[split].append(record)
            texts.append((record["id"], split, own_text))

    if conflicting:
        splits = {split: [r for r in items if r["id"] not in conflicting] for split, items in splits.items()}
        texts = [text for text in texts if text[0] not in conflicting]
    records = sum(len(items) for items in splits.values())
    if records == 0:
        reasons = Counter(reject["reason"] for reject in rejects).most_common(1)
        detail = f" ({len(rejects)} rejects, most often: {reasons[0][0]})" if reasons else " (the source is empty)"
        raise UserError(f"{source}: no valid record{detail}")

    for split, items in splits.items():
        write_jsonl(Path(out_dir) / f"{split}.jsonl", items)
    write_jsonl(Path(out_dir) / "rejects.jsonl", rejects)

    per_task: dict[str, dict[str, int]] = defaultdict(lambda: {split: 0 for split in SPLITS})
    for split, items in splits.items():
        for record in items:
            per_task[record["task"]][split] += 1
    metrics = {
        "rows_read": rows,
        "stopped_at_max_rows": config.max_rows is not None and rows >= config.max_rows,
        "records": records,
        "rejects": len(rejects),
        "rejects_by_reason": dict(Counter(_reason_kind(r["reason"]) for r in rejects)),
        "splits": {split: len(items) for split, items in splits.items()},
        "tasks": dict(per_task),
        "normalised": {"bom": stats.bom, "crlf_lines": stats.crlf},
        "leakage": leakage.report(texts, config.near_duplicate_threshold),
    }
    if metrics_path is not None:
        write_json(metrics_path, metrics)
    _summary(source, metrics, out_dir)
    return metrics


def _rows(parts: list[SourceParams], config: ExportParams, stats: ReadStats):
    """(the source's settings, its forced split or None, row) over every source in order; a source entry's
    fields and task apply to its own rows (the export's own when it names none)."""
    for part in parts:
        settings = config.model_copy(update={"fields": part.fields or config.fields, "task": part.task or config.task})
        query = part.query or config.query
        for item in read_source(
            part.source, query, stats, config.max_record_bytes, config.s3_endpoint_url, config.bundled_profiles
        ):
            yield settings, part.split, item


def _reject(row: Row, reason: str) -> dict:
    return Reject(row.source, row.line, reason, json.dumps(row.data, ensure_ascii=False, default=str)).to_dict()


def _duplicate(row: Row, record: dict, first_row: Row, first_record: dict, conflicting: set[str]) -> list[dict]:
    """Rejects for a row whose id was seen before (docs/data.md): a repeat of the same record is rejected
    and the first kept; rows that differ are all rejected, the first too, since neither can be trusted.
    Each reject names the other row's place."""
    key, first_at, here = record["id"], f"{first_row.source}:{first_row.line}", f"{row.source}:{row.line}"
    if record == first_record and key not in conflicting:
        return [_reject(row, f"duplicate id: {key!r} (first at {first_at}, the same record: the first is kept)")]
    rejects = [_reject(row, f"duplicate id: {key!r} (first at {first_at}, another record: all rejected)")]
    if key not in conflicting:
        conflicting.add(key)
        rejects.insert(0, _reject(first_row, f"duplicate id: {key!r} (again at {here}, another record: all rejected)"))
    return rejects


def _reason_kind(reason: str) -> str:
    """Group reasons for the metrics: 'malformed JSON: Expecting value at column 3' -> 'malformed JSON'."""
    return reason.split(":")[0].strip()


def _summary(source: str, metrics: dict, out_dir: Path) -> None:
    rows = [(split, str(count)) for split, count in metrics["splits"].items()]
    rows += [("rejects", str(metrics["rejects"])), ("rows read", str(metrics["rows_read"]))]
    leak = metrics["leakage"]
    rows.append(
        ("shared / near-duplicate prompts across splits", f"{leak['shared_prompts']} / {leak['near_duplicates']}")
    )
    console.print(summary_table(f"export of {shown(source)} -> {shown(out_dir)}", ("split", "records"), rows))

"""Where export reads rows from: the bundled seed data, a JSONL/CSV/Parquet file (or a glob of them), a
`datasets` dataset saved with `save_to_disk` (or `hf:NAME` from the hub when the machine is online), an
SQL query through an SQLAlchemy URL, or every such file under an s3:// prefix.

Each reader yields `Row`s — a dict plus where it came from — or `Reject`s for what cannot be parsed.
Unreachable databases, missing files and missing credentials raise UserError with one line.
"""

from __future__ import annotations

import csv
import glob
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from distilloop import UserError
from distilloop.io import RAW_EXCERPT_CHARS, ReadStats, Reject, bad_text, decode_line, iter_jsonl

# the bundled sources ship inside the package, so an installed distilloop exports them from anywhere
PACKAGE_DATA = Path(__file__).resolve().parent.parent / "data"
BUNDLED = {
    "bundled:c_code": ("file", PACKAGE_DATA / "c_tasks.jsonl"),
    "bundled:json_record": ("generator", None),
}
FILE_SUFFIXES = (".jsonl", ".ndjson", ".csv", ".parquet")


@dataclass
class Row:
    source: str
    line: int
    data: dict


def read_source(
    source: str,
    query: str | None,
    stats: ReadStats,
    max_bytes: int,
    s3_endpoint_url: str | None = None,
    bundled_profiles: int = 240,
) -> Iterator[Row | Reject]:
    if source in BUNDLED:
        kind, where = BUNDLED[source]
        if kind == "file":
            yield from read_file(Path(where), stats, max_bytes)
        else:
            yield from generated_profiles(bundled_profiles, source)
    elif source.startswith("bundled:"):
        raise UserError(f"export.source: unknown bundled data {source!r} (allowed: {', '.join(BUNDLED)})")
    elif source.startswith("s3://"):
        yield from read_s3(source, stats, max_bytes, s3_endpoint_url)
    elif "://" in source:
        if not query:
            raise UserError("export.query: required when export.source is a database URL")
        yield from read_sql(source, query, stats, max_bytes)
    elif source.startswith("hf:"):
        yield from read_hub_dataset(source.removeprefix("hf:"), max_bytes)
    elif any(char in source for char in "*?["):
        paths = sorted(path for path in glob.glob(source, recursive=True) if Path(path).is_file())
        if not paths:
            raise UserError(f"export.source: no file matches {source!r}")
        for path in paths:
            yield from read_file(Path(path), stats, max_bytes)
    elif Path(source).is_dir():
        yield from read_saved_dataset(Path(source), max_bytes)
    else:
        yield from read_file(Path(source), stats, max_bytes)


def read_saved_dataset(path: Path, max_bytes: int) -> Iterator[Row | Reject]:
    """A directory written by `datasets`' save_to_disk: a Dataset, or a DatasetDict whose splits are read in
    order (export assigns its own splits)."""
    if not ((path / "dataset_info.json").exists() or (path / "dataset_dict.json").exists()):
        raise UserError(f"export.source: {path} is a directory but not a dataset saved with save_to_disk")
    import datasets

    yield from _dataset_rows(datasets.load_from_disk(str(path)), str(path), max_bytes)


def read_hub_dataset(name: str, max_bytes: int) -> Iterator[Row | Reject]:
    if os.environ.get("HF_HUB_OFFLINE", "0").lower() in ("1", "true", "yes"):
        raise UserError(
            f"export.source: hf:{name} needs the hub, and HF_HUB_OFFLINE is set; save the dataset with "
            "save_to_disk on a machine that is online and give its directory instead"
        )
    import datasets

    try:
        loaded = datasets.load_dataset(name)
    except Exception as exc:  # noqa: BLE001 - the hub's errors are many; the user gets one line
        raise UserError(f"export.source: hf:{name}: {_first_line(exc)}") from None
    yield from _dataset_rows(loaded, f"hf:{name}", max_bytes)


def _dataset_rows(loaded, source: str, max_bytes: int) -> Iterator[Row | Reject]:
    parts = loaded.items() if hasattr(loaded, "keys") else [(None, loaded)]
    for split, dataset in parts:
        where = f"{source}[{split}]" if split else source
        for number, row in enumerate(dataset, start=1):
            yield _checked_row(where, number, dict(row), max_bytes)


def generated_profiles(count: int, source: str) -> Iterator[Row]:
    """The bundled profile-scoring rows, made by the package's deterministic generator."""
    from distilloop.data import profiles

    for number, profile in enumerate(profiles.generate(count), start=1):
        yield Row(source, number, {"id": profile["handle"], "task": "json_record", **profile})


# --- files ------------------------------------------------------------------------------------------


def read_file(path: Path, stats: ReadStats, max_bytes: int, source: str | None = None) -> Iterator[Row | Reject]:
    source = source or str(path)
    if not path.exists():
        raise UserError(f"{source}: file not found")
    if path.is_dir():
        raise UserError(f"{source}: is a directory, expected a .jsonl, .csv or .parquet file")
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson", ".json"):
        for number, item in iter_jsonl(path, max_bytes, stats, source):
            yield item if isinstance(item, Reject) else Row(source, number, item)
    elif suffix == ".csv":
        yield from read_csv(path, stats, max_bytes, source)
    elif suffix == ".parquet":
        yield from read_parquet(path, stats, max_bytes, source)
    else:
        raise UserError(f"{source}: unsupported file type {suffix or '(none)'} (use .jsonl, .csv or .parquet)")


def read_csv(path: Path, stats: ReadStats, max_bytes: int, source: str) -> Iterator[Row | Reject]:
    # Decode line by line so one bad byte rejects one row, not the file; quoted fields may span lines.
    try:
        with path.open("rb") as handle:
            physical = list(handle)
    except OSError as exc:
        raise UserError(f"{source}: cannot read: {exc.strerror}") from None
    text_lines: list[str] = []
    bad_lines: dict[int, Reject] = {}
    for number, raw in enumerate(physical, start=1):
        text = decode_line(raw, source, number, stats)
        if isinstance(text, Reject):
            bad_lines[number] = text
            text = text.raw  # parsed in place so the row boundaries stay right; the row is rejected
        text_lines.append(text + "\n")
    reader = csv.reader(text_lines, strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise UserError(f"{source}: empty CSV file (no header)") from None
    except csv.Error as exc:
        raise UserError(f"{source}: unreadable CSV header: {exc}") from None
    if not any(name.strip() for name in header):
        raise UserError(f"{source}: empty CSV header")
    start = reader.line_num + 1
    while True:
        try:
            fields = next(reader)
            error = None
        except StopIteration:
            break
        except csv.Error as exc:
            fields, error = None, f"malformed CSV: {exc}"
        end = max(reader.line_num, start)
        raw = "".join(text_lines[start - 1 : end]).rstrip("\n")
        span, first = range(start, end + 1), start  # a row is reported at its first line
        start = end + 1
        bad = next((bad_lines[n] for n in span if n in bad_lines), None)
        if bad is not None:
            yield bad
        elif error:
            yield Reject(source, first, error, raw)
        elif "\x00" in raw:
            yield Reject(source, first, "a NUL byte in the row", raw.replace("\x00", "\\x00"))
        elif not fields or not any(field.strip() for field in fields):
            yield Reject(source, first, "empty line", raw)
        elif len(fields) != len(header):
            yield Reject(source, first, f"malformed CSV: {len(fields)} fields, header has {len(header)}", raw)
        elif len(raw.encode("utf-8")) > max_bytes:
            yield Reject(
                source, first, f"oversize record: {len(raw.encode())} bytes > max_record_bytes {max_bytes}", raw
            )
        else:
            yield Row(source, first, {key: value for key, value in zip(header, fields) if value != ""})


def read_parquet(path: Path, stats: ReadStats, max_bytes: int, source: str) -> Iterator[Row | Reject]:
    import pyarrow.parquet as pq

    try:
        table = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several types for a damaged file
        raise UserError(f"{source}: unreadable Parquet file: {str(exc).splitlines()[0]}") from None
    number = 0
    for batch in table.iter_batches(batch_size=4096):
        for row in batch.to_pylist():
            number += 1
            yield _checked_row(source, number, row, max_bytes)


def _checked_row(source: str, number: int, row: dict, max_bytes: int) -> Row | Reject:
    """A row from a typed source (Parquet, SQL): drop NULLs, bound its size."""
    row = {key: value for key, value in row.items() if value is not None}
    problem = bad_text(row, "row")
    if problem is not None:
        return Reject(source, number, problem, json.dumps(row, default=str)[:RAW_EXCERPT_CHARS])
    encoded = json.dumps(row, default=str, ensure_ascii=False)
    if len(encoded.encode("utf-8")) > max_bytes:
        return Reject(
            source, number, f"oversize record: {len(encoded.encode())} bytes > max_record_bytes {max_bytes}", encoded
        )
    return Row(source, number, row)


# --- SQL ---------------------------------------------------------------------------------------------


def read_sql(url: str, query: str, stats: ReadStats, max_bytes: int) -> Iterator[Row | Reject]:
    import sqlalchemy
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
    except Exception:
        raise UserError(f"export.source: not a valid database URL: {url.split('@')[-1]}") from None
    shown = parsed.render_as_string(hide_password=True)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        if not Path(parsed.database).exists():
            raise UserError(f"{shown}: database file not found")
    try:
        engine = sqlalchemy.create_engine(parsed)
    except Exception as exc:  # unknown dialect, missing driver
        raise UserError(f"{shown}: cannot use this database URL: {str(exc).splitlines()[0]}") from None
    source = f"{shown} query"
    try:
        with engine.connect() as connection:
            result = connection.execution_options(stream_results=True).execute(sqlalchemy.text(query))
            for number, row in enumerate(result.mappings(), start=1):
                yield _checked_row(source, number, dict(row), max_bytes)
    except sqlalchemy.exc.OperationalError as exc:
        raise UserError(f"{shown}: database unreachable or query failed: {_first_line(exc)}") from None
    except sqlalchemy.exc.SQLAlchemyError as exc:
        raise UserError(f"{shown}: query failed: {_first_line(exc)}") from None
    finally:
        engine.dispose()


def _first_line(exc: Exception) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


# --- S3 ----------------------------------------------------------------------------------------------


def read_s3(url: str, stats: ReadStats, max_bytes: int, endpoint_url: str | None) -> Iterator[Row | Reject]:
    import boto3
    import botocore.exceptions as bex

    bucket, _, prefix = url.removeprefix("s3://").partition("/")
    if not bucket:
        raise UserError(f"{url}: expected s3://bucket/prefix")
    endpoint_url = endpoint_url or os.environ.get("AWS_ENDPOINT_URL") or None
    client = boto3.client("s3", endpoint_url=endpoint_url)
    try:
        pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        keys = [item["Key"] for page in pages for item in page.get("Contents", [])]
    except bex.NoCredentialsError:
        raise UserError(f"{url}: no AWS credentials (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)") from None
    except bex.EndpointConnectionError:
        raise UserError(f"{url}: S3 endpoint unreachable ({endpoint_url or 'AWS'})") from None
    except bex.ClientError as exc:
        raise UserError(f"{url}: {exc.response.get('Error', {}).get('Message') or exc}") from None
    if not keys:
        raise UserError(f"{url}: no objects under this prefix")
    with tempfile.TemporaryDirectory(prefix="distilloop-s3-") as tmp:
        for key in sorted(keys):
            source = f"s3://{bucket}/{key}"
            if key.endswith("/"):
                continue  # a "directory" marker, not data
            if not key.lower().endswith(FILE_SUFFIXES):
                yield Reject(source, 0, f"unsupported file type (use {', '.join(FILE_SUFFIXES)})")
                continue
            local = Path(tmp) / Path(key).name
            try:
                client.download_file(bucket, key, str(local))
            except bex.BotoCoreError as exc:
                raise UserError(f"{source}: download failed: {exc}") from None
            yield from read_file(local, stats, max_bytes, source=source)
            local.unlink()

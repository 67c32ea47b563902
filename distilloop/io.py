"""JSONL records: reading with rejects, and atomic writing (where the files live: paths.py).

Every line read ends either as a record or as a reject `{"source", "line", "reason", "raw"}`; nothing
is dropped silently. Writers go through a temporary file and `os.replace`, so a killed stage never
leaves half a file behind for DVC to hash.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from distilloop import UserError

RAW_EXCERPT_CHARS = 2000  # rejects keep the head of the offending line, enough to find and fix it
MAX_NESTING = 64  # deeper JSON is refused: nothing of ours nests this deep, and deeper data breaks recursion

# --- reading ----------------------------------------------------------------------------------------


@dataclass
class Reject:
    source: str
    line: int
    reason: str
    raw: str = ""

    def to_dict(self) -> dict:
        return {"source": self.source, "line": self.line, "reason": self.reason, "raw": self.raw[:RAW_EXCERPT_CHARS]}


@dataclass
class ReadStats:
    """What a reader saw beyond records and rejects: normalisations it applied, so none is silent."""

    bom: int = 0
    crlf: int = 0


def _not_a_number(name: str):
    raise ValueError(f"{name} is not a JSON number (strict JSON has no NaN or Infinity)")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e999 overflows to inf
        raise ValueError(f"{text[:40]} is out of range for a JSON number")
    return value


def loads_strict(text: str):
    """json.loads that refuses what strict JSON has not: NaN, Infinity and numbers that overflow to them
    (ValueError), so nothing read can make a written file non-strict."""
    return json.loads(text, parse_constant=_not_a_number, parse_float=_finite_float)


def decode_line(raw: bytes, source: str, number: int, stats: ReadStats) -> str | Reject:
    """Bytes of one line -> text, or a reject. A UTF-8 BOM on the first line and CRLF endings are
    encoding conventions, not bad data: they are removed and counted in `stats`."""
    if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
        stats.bom += 1
    if raw.endswith(b"\r\n"):
        raw = raw[:-2]
        stats.crlf += 1
    elif raw.endswith(b"\n"):
        raw = raw[:-1]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Reject(source, number, f"invalid UTF-8: at byte {exc.start}", raw.decode("utf-8", "replace"))


def iter_jsonl(
    path: str | Path, max_bytes: int | None = None, stats: ReadStats | None = None, source: str | None = None
) -> Iterator[tuple[int, dict | Reject]]:
    """Yield (line number, object or Reject) for every line of a JSONL file."""
    path = Path(path)
    source = source or str(path)
    stats = stats if stats is not None else ReadStats()
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        raise UserError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise UserError(f"{path}: is a directory, expected a JSONL file") from None
    except OSError as exc:
        raise UserError(f"{path}: cannot read: {exc.strerror}") from None
    with handle:
        try:
            for number, raw in enumerate(handle, start=1):
                yield number, parse_json_line(raw, source, number, stats, max_bytes)
        except OSError as exc:  # e.g. an I/O error part way through
            raise UserError(f"{path}: cannot read: {exc.strerror}") from None


def bad_text(value, root: str = "record") -> str | None:
    """Where and why `value` cannot travel as strict JSON in UTF-8: a NUL character, a lone surrogate (a
    JSON escape like \\ud800, which no UTF-8 writer can encode), a NaN or infinite number (a Parquet or
    SQL float) or nesting deeper than MAX_NESTING; walked without recursion. None when it is fine."""
    stack = [(root, value, 0)]
    while stack:
        path, item, depth = stack.pop()
        if depth > MAX_NESTING:
            return f"{root}: nested more than {MAX_NESTING} levels deep"
        if isinstance(item, float) and not math.isfinite(item):
            return f"{path}: {item} is not a JSON number (strict JSON has no NaN or Infinity)"
        texts = [item] if isinstance(item, str) else list(item) if isinstance(item, dict) else []
        for text in texts:
            if "\x00" in text:
                return f"{path}: contains a null byte"
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                return f"{path}: contains a lone surrogate (\\u{ord(text[_surrogate_at(text)]):04x}), not valid Unicode text"
        if isinstance(item, dict):
            stack.extend((f"{path}.{key}", child, depth + 1) for key, child in item.items())
        elif isinstance(item, list):
            stack.extend((f"{path}.{index}", child, depth + 1) for index, child in enumerate(item))
    return None


def _surrogate_at(text: str) -> int:
    return next(index for index, char in enumerate(text) if 0xD800 <= ord(char) <= 0xDFFF)


def _needs_text_check(text: str) -> bool:
    """Cheap test on the raw line: can json.loads have produced a NUL, a surrogate or deep nesting?"""
    lowered = text.lower()
    return "\\u0000" in lowered or "\\ud" in lowered or text.count("[") + text.count("{") > MAX_NESTING


def parse_json_line(raw: bytes, source: str, number: int, stats: ReadStats, max_bytes: int | None) -> dict | Reject:
    if max_bytes is not None and len(raw) > max_bytes:
        return Reject(
            source,
            number,
            f"oversize record: {len(raw)} bytes > max_record_bytes {max_bytes}",
            raw[:RAW_EXCERPT_CHARS].decode("utf-8", "replace"),
        )
    text = decode_line(raw, source, number, stats)
    if isinstance(text, Reject):
        return text
    if not text.strip():
        return Reject(source, number, "empty line", text)
    try:
        value = loads_strict(text)
    except json.JSONDecodeError as exc:
        return Reject(source, number, f"malformed JSON: {exc.msg} at column {exc.colno}", text)
    except RecursionError:
        return Reject(source, number, f"malformed JSON: nested more than {MAX_NESTING} levels deep", text)
    except ValueError as exc:  # NaN/Infinity, or an integer literal of thousands of digits
        return Reject(source, number, f"malformed JSON: {str(exc).splitlines()[0][:200]}", text)
    if not isinstance(value, dict):
        return Reject(source, number, f"not a JSON object: {type(value).__name__}", text)
    problem = bad_text(value) if _needs_text_check(text) else None
    if problem is not None:
        return Reject(source, number, problem, text.encode("utf-8", "replace").decode("utf-8"))
    return value


def read_records(path: str | Path) -> list[dict]:
    """Read a JSONL file the pipeline wrote itself; a bad line here is a broken pipeline, not user data,
    so it stops with one line that names the file and line."""
    records = []
    for number, item in iter_jsonl(path):
        if isinstance(item, Reject):
            raise UserError(f"{path}:{number}: {item.reason}")
        records.append(item)
    return records


# --- writing ----------------------------------------------------------------------------------------


@contextmanager
def atomic_path(path: str | Path):
    """Yield a temporary path next to `path`; on success it replaces `path` in one rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


@contextmanager
def atomic_dir(path: str | Path):
    """Yield a new temporary directory next to `path`; on success it takes `path`'s place, so a killed
    stage leaves either the old directory or the new one, never a half-written one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    try:
        yield tmp
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)


def write_jsonl(path: str | Path, records: Iterable[dict]) -> int:
    count = 0
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as out:
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False, sort_keys=False, allow_nan=False) + "\n")
            count += 1
        out.flush()
        os.fsync(out.fileno())
    return count


def write_json(path: str | Path, value) -> None:
    """A metrics or summary file, strict JSON: a non-finite number (a diverged loss) is written as null."""
    with atomic_path(path) as tmp:
        tmp.write_text(
            json.dumps(_finite_or_null(value), indent=2, sort_keys=True, allow_nan=False) + "\n", encoding="utf-8"
        )


def _finite_or_null(value):
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite_or_null(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite_or_null(item) for item in value]
    return value


def dir_digest(path: str | Path, exclude: tuple[str, ...] = ()) -> str:
    """sha256 over a directory's file names and contents (but the files named in `exclude`): metrics
    that name it change when it does."""
    import hashlib

    digest = hashlib.sha256()
    root = Path(path)
    for file in sorted(p for p in root.rglob("*") if p.is_file() and str(p.relative_to(root)) not in exclude):
        digest.update(str(file.relative_to(root)).encode() + b"\0")
        with file.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def read_json(path: str | Path):
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise UserError(f"{path}: is a directory, expected a JSON file") from None
    except UnicodeDecodeError as exc:
        raise UserError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise UserError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except json.JSONDecodeError as exc:
        raise UserError(f"{path}: malformed JSON: {exc.msg} at line {exc.lineno}") from None
    except RecursionError:
        raise UserError(f"{path}: malformed JSON: nested too deeply") from None

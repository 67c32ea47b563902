"""Getting the answer out of a model's reply: Markdown fences, prose around code, JSON inside text.

An unclosed fence means the reply was cut off (truncated). Replies are untrusted text: every scan here
is linear in the reply's length and none recurses, so a hostile reply (a run of 160k `{`, JSON nested
1000 deep) is a finding on its own record, never an exception or a stall for the whole file.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from distilloop.io import MAX_NESTING

FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})[ \t]*([^\s`]*)")
C_LANGUAGES = {"", "c", "h", "c99", "c11", "cpp", "c++", "cc", "cxx", "hpp", "objc"}
# the first line of C in a reply without fences: a directive, a comment, or a declaration
C_START = re.compile(
    r"^\s*(#|/\*|//|(typedef|static|extern|const|volatile|struct|enum|union|void|inline|unsigned|signed|int|char|"
    # `\s+(\*+\s*)?`, not `\s+\**\s*`: two adjacent `\s` runs backtrack quadratically on a long blank run
    r"short|long|float|double|bool|_Bool|u?int(8|16|32|64)_t|size_t)\b|[A-Za-z_]\w*\s+(?:\*+\s*)?[A-Za-z_]\w*\s*\()"
)
# a line after the code that is a sentence: none of ;{}=# and no parentheses unless it ends like a sentence
PROSE = re.compile(r"^[^;{}=#()]*$|^[^;{}=#]*[.!?:]\s*$")


@dataclass
class Block:
    language: str
    text: str
    closed: bool


def fenced_blocks(reply: str) -> list[Block]:
    """Every ``` or ~~~ fenced block, in order; the last one may be unclosed."""
    blocks: list[Block] = []
    opening = None
    lines: list[str] = []
    for line in reply.splitlines():
        match = FENCE.match(line)
        if opening is None:
            if match:
                opening, language, lines = match.group(1), match.group(2).lower(), []
            continue
        if match and match.group(1)[0] == opening[0] and len(match.group(1)) >= len(opening) and not match.group(2):
            blocks.append(Block(language, "\n".join(lines), True))
            opening = None
        else:
            lines.append(line)
    if opening is not None:
        blocks.append(Block(language, "\n".join(lines), False))
    return blocks


def extract_c(reply: str) -> tuple[str, bool]:
    """(C code, cut off?) from a reply: the C-like fenced blocks joined, else the code between prose."""
    blocks = fenced_blocks(reply)
    if blocks:
        chosen = [block for block in blocks if block.language in C_LANGUAGES] or blocks
        return "\n".join(block.text for block in chosen).strip("\n") + "\n", not blocks[-1].closed
    lines = reply.splitlines()
    start = next((i for i, line in enumerate(lines) if C_START.match(line)), None)
    if start is None:
        return "", False
    end = len(lines) - 1
    while end > start and PROSE.match(lines[end]):
        end -= 1
    return "\n".join(lines[start : end + 1]) + "\n", False


# --- JSON: an iterative scanner that says where a value ends (or where and why it breaks) -------------

MAX_JSON_DEPTH = MAX_NESTING  # as the readers: nothing we ask for nests deeper, and json.loads recurses
WHITESPACE = re.compile(r"[ \t\n\r]*")
# a string's body: no quote, backslash or control character outside a valid escape (json's strict mode)
STRING_BODY = re.compile(r'[^"\\\x00-\x1f]*(?:\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4})[^"\\\x00-\x1f]*)*')
SCALAR = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?|true|false|null|NaN|Infinity|-Infinity")
HEX_PREFIX = re.compile(r"u[0-9a-fA-F]{0,3}")  # a \\u escape cut short by the end of the text
BRACE_RUN = re.compile(r"\{(?:[ \t\n\r]*\{)+")  # only the last `{` of a run can open an object
CLOSING = {"{": "}", "[": "]"}


class ParseError(str):
    """Why no JSON object was read (the message), and the id of the gate finding it becomes."""

    finding: str

    def __new__(cls, message: str, finding: str = "json-parse"):
        error = super().__new__(cls, message)
        error.finding = finding
        return error


def extract_json(reply: str) -> tuple[object | None, bool, str]:
    """(value or None, cut off?, parse error) for the first JSON object in a reply (fenced or in prose).
    The error is a ParseError: its `finding` is `json-too-deep` for nesting past MAX_JSON_DEPTH."""
    blocks = fenced_blocks(reply)
    candidates = [block.text for block in blocks if block.language in ("json", "")] or [b.text for b in blocks]
    truncated = bool(blocks) and not blocks[-1].closed
    error = ParseError("no JSON object found")
    for text in candidates + [reply]:
        value, cut, problem = _first_object(text)
        if value is not None:
            return value, truncated, ""
        truncated = truncated or cut
        if problem and error.finding != "json-too-deep":  # too deep says more than any later parse error
            error = problem
    return None, truncated, error


def parse_json(text: str) -> tuple[object | None, ParseError | None]:
    """A whole JSON document, as json.loads reads it but never recursing past MAX_JSON_DEPTH:
    (value, None), or (None, why) with the line of the problem."""
    start = WHITESPACE.match(text).end()
    end, problem, _ = _scan_value(text, start)
    if not problem and WHITESPACE.match(text, end).end() < len(text):
        end, problem = WHITESPACE.match(text, end).end(), "Extra data"
    if not problem:
        try:
            return json.loads(text), None
        except ValueError as exc:  # an integer of thousands of digits
            problem = str(exc).splitlines()[0][:200]
    finding = "json-too-deep" if problem.startswith("nested more than") else "json-parse"
    return None, ParseError(f"{problem} (line {text.count(chr(10), 0, end) + 1})", finding)


def _first_object(text: str) -> tuple[dict | None, bool, ParseError | None]:
    """The first `{` that opens a complete JSON object. A candidate that breaks is skipped up to where it
    broke, so an object inside a broken one is never mistaken for the answer; candidates never overlap,
    so the whole scan is linear."""
    cut, error = False, None
    text_end = len(text.rstrip())
    start = text.find("{")
    while start != -1:
        run = BRACE_RUN.match(text, start)
        if run:  # `{{{…{`: each but the last fails on the next brace, as json would say of the first
            if error is None:
                after = WHITESPACE.match(text, start + 1).end()
                error = ParseError(f"Expecting property name enclosed in double quotes at character {after - start}")
            start = run.end() - 1
        end, problem, ran_out = _scan_value(text, start)
        if not problem:
            try:
                return json.loads(text[start:end]), False, None  # valid and shallow: json neither fails nor recurses
            except ValueError as exc:  # an integer of thousands of digits
                problem = str(exc).splitlines()[0][:200]
        if problem.startswith("nested more than"):
            return None, cut, ParseError(f"{problem} at character {end - start}", "json-too-deep")
        if error is None:
            error = ParseError(f"{problem} at character {end - start}")
        cut = cut or ran_out or end >= text_end  # the text ended inside the object
        start = text.find("{", end)
    return None, cut, error


def _scan_value(text: str, start: int, limit: int = MAX_JSON_DEPTH) -> tuple[int, str, bool]:
    """(end, "", False) for the JSON value at `start` (end is one past it), or (position, problem, the
    text ran out) where json.JSONDecoder would stop, with its messages. An explicit stack instead of
    recursion; each character is looked at a bounded number of times."""
    stack: list[str] = []
    position, expect = start, "value"
    while True:
        if expect == "value":
            position = WHITESPACE.match(text, position).end()
            char = text[position : position + 1]
            if char in CLOSING:
                if len(stack) >= limit:
                    return position, f"nested more than {limit} levels deep", False
                stack.append(char)
                position = WHITESPACE.match(text, position + 1).end()
                if text.startswith(CLOSING[char], position):
                    stack.pop()
                    position, expect = position + 1, "next"
                else:
                    expect = "key" if char == "{" else "value"
            elif char == '"':
                position, problem, ran_out = _scan_string(text, position)
                if problem:
                    return position, problem, ran_out
                expect = "next"
            elif scalar := SCALAR.match(text, position):
                position, expect = scalar.end(), "next"
            else:
                return position, "Expecting value", position >= len(text)
        elif expect == "key":
            if not text.startswith('"', position):
                return position, "Expecting property name enclosed in double quotes", position >= len(text)
            position, problem, ran_out = _scan_string(text, position)
            if problem:
                return position, problem, ran_out
            position = WHITESPACE.match(text, position).end()
            if not text.startswith(":", position):
                return position, "Expecting ':' delimiter", position >= len(text)
            position, expect = position + 1, "value"
        else:  # after a value: the end, a comma, or the closing bracket
            if not stack:
                return position, "", False
            position = WHITESPACE.match(text, position).end()
            if text.startswith(",", position):
                position = WHITESPACE.match(text, position + 1).end()
                expect = "key" if stack[-1] == "{" else "value"
            elif text.startswith(CLOSING[stack[-1]], position):
                stack.pop()
                position += 1
            else:
                return position, "Expecting ',' delimiter", position >= len(text)


def _scan_string(text: str, quote: int) -> tuple[int, str, bool]:
    """(one past the closing quote, "", False), or (where, problem, the text ran out)."""
    end = STRING_BODY.match(text, quote + 1).end()
    if text.startswith('"', end):
        return end + 1, "", False
    escape = text[end + 1 : end + 6]
    if end >= len(text) or text[end] == "\\" and (not escape or HEX_PREFIX.fullmatch(escape)):  # ends in it
        return quote, "Unterminated string starting", True
    if text[end] == "\\":
        return (end + 1, "Invalid \\uXXXX escape", False) if escape[0] == "u" else (end, "Invalid \\escape", False)
    return end, "Invalid control character", False

"""Getting the answer out of a model's reply: Markdown fences, prose around code, JSON inside text.

An unclosed fence means the reply was cut off (truncated).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})[ \t]*([^\s`]*)")
C_LANGUAGES = {"", "c", "h", "c99", "c11", "cpp", "c++", "cc", "cxx", "hpp", "objc"}
# the first line of C in a reply without fences: a directive, a comment, or a declaration
C_START = re.compile(
    r"^\s*(#|/\*|//|(typedef|static|extern|const|volatile|struct|enum|union|void|inline|unsigned|signed|int|char|"
    r"short|long|float|double|bool|_Bool|u?int(8|16|32|64)_t|size_t)\b|[A-Za-z_]\w*\s+\**\s*[A-Za-z_]\w*\s*\()"
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


def extract_json(reply: str) -> tuple[object | None, bool, str]:
    """(value or None, cut off?, parse error) for the first JSON object in a reply (fenced or in prose)."""
    blocks = fenced_blocks(reply)
    candidates = [block.text for block in blocks if block.language in ("json", "")] or [b.text for b in blocks]
    truncated = bool(blocks) and not blocks[-1].closed
    error = "no JSON object found"
    for text in candidates + [reply]:
        value, cut, problem = _first_object(text)
        if value is not None:
            return value, truncated, ""
        truncated = truncated or cut
        error = problem or error
    return None, truncated, error


def _first_object(text: str) -> tuple[object | None, bool, str]:
    decoder = json.JSONDecoder()
    cut, error, skip_to = False, "", 0
    for match in re.finditer(r"\{", text):
        if match.start() < skip_to:
            continue  # nested inside an object that failed: never mistake an inner object for the answer
        try:
            value, _ = decoder.raw_decode(text, match.start())
        except json.JSONDecodeError as exc:
            if not error:
                error = f"{exc.msg} at character {exc.pos - match.start()}"
            cut = cut or exc.pos >= len(text.rstrip())  # the text ended inside the object
            skip_to = exc.pos
            continue
        if isinstance(value, dict):
            return value, False, ""
    return None, cut, error

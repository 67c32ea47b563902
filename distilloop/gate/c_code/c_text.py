"""C source as text: comments and literals told apart from code, truncation, and directives that must
never reach a compiler (an #include of an absolute path or one with `..`, #line).

Everything the gate decides from text goes through `scan`, so a word inside a comment or a string
literal never counts as code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

TRIGRAPHS = {
    "??=": "#",
    "??/": "\\",
    "??'": "^",
    "??(": "[",
    "??)": "]",
    "??!": "|",
    "??<": "{",
    "??>": "}",
    "??-": "~",
}
DIRECTIVE = re.compile(r"^[ \t]*(?:#|%:)[ \t]*(\w+)(.*)$", re.M)
INCLUDE_DIRECTIVES = {"include", "include_next", "import", "embed"}
HEADER_NAME = re.compile(r'^\s*(?:<([^<>]*)>|"([^"]*)")\s*$')
FUNCTION_DEFINITION = r"\b{name}\s*\([^;{{}}]*\)\s*\{{"
INTEGER = re.compile(r"\b(0[xX][0-9a-fA-F]+|0[bB][01]+|[0-9]+)([uUlL]*)\b")


@dataclass
class Comment:
    first_line: int
    last_line: int
    text: str
    end: int  # offset just after the comment


@dataclass
class Scan:
    code: str  # comments blanked, literals kept; line numbers unchanged
    bare: str  # comments and the insides of string/char literals blanked
    comments: list[Comment] = field(default_factory=list)
    unterminated: bool = False  # the text ended inside a comment or a literal


def scan(source: str) -> Scan:
    """Split C source into code and comments, keeping every newline so line numbers stay valid."""
    for trigraph, replacement in TRIGRAPHS.items():  # translation phase 1 (gcc -std=c99 honours them)
        source = source.replace(trigraph, replacement)
    code, bare, comments = [], [], []
    i, line, n = 0, 1, len(source)
    while i < n:
        char = source[i]
        pair = source[i : i + 2]
        if pair in ("/*", "//"):
            end = source.find("*/", i + 2) + 2 if pair == "/*" else _line_comment_end(source, i)
            unterminated = end == 1
            end = n if unterminated else end
            text = source[i:end]
            comments.append(Comment(line, line + text.count("\n"), text, end))
            blank = re.sub(r"[^\n]", " ", text)
            code.append(blank)
            bare.append(blank)
            line += text.count("\n")
            i = end
            if unterminated:
                return Scan("".join(code), "".join(bare), comments, True)
            continue
        if char in "\"'":
            end = _literal_end(source, i)
            if end is None:
                return Scan(
                    "".join(code) + source[i:], "".join(bare) + re.sub(r"[^\n]", " ", source[i:]), comments, True
                )
            literal = source[i:end]
            code.append(literal)
            bare.append(char + re.sub(r"[^\n]", " ", literal[1:-1]) + char)
            line += literal.count("\n")
            i = end
            continue
        code.append(char)
        bare.append(char)
        line += char == "\n"
        i += 1
    return Scan("".join(code), "".join(bare), comments, False)


def _line_comment_end(source: str, start: int) -> int:
    """A // comment runs to the end of the line, across backslash-newline splices."""
    i = start
    while True:
        newline = source.find("\n", i)
        if newline == -1:
            return len(source)
        if source[newline - 1] != "\\":
            return newline
        i = newline + 1


def _literal_end(source: str, start: int) -> int | None:
    quote, i = source[start], start + 1
    while i < len(source):
        char = source[i]
        if char == "\\":
            i += 2
            continue
        if char == quote:
            return i + 1
        if char == "\n" and source[i - 1] != "\\":
            return None  # a literal never spans a line: the reply was cut or the code is broken
        i += 1
    return None


def logical_lines(text: str) -> list[str]:
    """Lines after joining backslash-newline splices (translation phase 2), as the preprocessor sees them."""
    return re.sub(r"\\[ \t]*\n", "", text).split("\n")


def unsafe_directives(text: Scan) -> list[str]:
    """Why the code must not be compiled: an include of an absolute path, a path with `..`, a computed
    include, or a #line that would hide where diagnostics come from. Empty when it is safe."""
    problems = []
    for logical in logical_lines(text.code):
        match = DIRECTIVE.match(logical)
        if not match:
            continue
        name, rest = match.group(1), match.group(2)
        if name == "line" or name.isdigit():
            problems.append(f"#{name} directive is not allowed")
        elif name in INCLUDE_DIRECTIVES:
            header = HEADER_NAME.match(rest)
            path = header and (header.group(1) if header.group(1) is not None else header.group(2))
            if not path:
                problems.append(f"#{name} of a computed or malformed name: {rest.strip()[:80]}")
            elif path.startswith(("/", "\\")) or ".." in re.split(r"[/\\]", path) or ":" in path:
                problems.append(f"#{name} of a path outside the project: {path[:80]}")
        elif name == "pragma" and re.match(r"\s*GCC\s+dependency\b", rest):
            problems.append("#pragma GCC dependency reads another file")
    return problems


def included_headers(text: Scan) -> list[str]:
    """Header names of the code's #include lines (only call on code `unsafe_directives` accepted)."""
    names = []
    for logical in logical_lines(text.code):
        match = DIRECTIVE.match(logical)
        if match and match.group(1) in INCLUDE_DIRECTIVES:
            header = HEADER_NAME.match(match.group(2))
            if header:
                names.append(header.group(1) if header.group(1) is not None else header.group(2))
    return names


def truncated(text: Scan) -> bool:
    """Cut off: the text ends inside a comment or literal, or opens more braces or parentheses than it
    closes (counted outside comments and literals)."""
    bare = text.bare
    return text.unterminated or bare.count("{") > bare.count("}") or bare.count("(") > bare.count(")")


def defines_function(text: Scan, name: str) -> bool:
    """A definition `name(...) {` outside comments and literals (the fallback when there is no AST)."""
    return re.search(FUNCTION_DEFINITION.format(name=re.escape(name)), text.bare) is not None


def integer_value(literal: str) -> int | None:
    """The value of a C integer literal such as 0x22F0U, 017 or 125UL; None if it is not one."""
    match = INTEGER.fullmatch(literal.strip())
    if not match:
        return None
    digits = match.group(1)
    if digits[:2] in ("0x", "0X"):
        return int(digits, 16)
    if digits[:2] in ("0b", "0B"):
        return int(digits[2:], 2)
    if len(digits) > 1 and digits.startswith("0"):
        return int(digits, 8) if all(c in "01234567" for c in digits) else None
    return int(digits)


def integers(text: Scan) -> list[int]:
    """Every integer literal in the code, in order (not in comments or literals, not inside names)."""
    values = []
    for match in INTEGER.finditer(text.bare):
        start = match.start()
        if start and (text.bare[start - 1].isalnum() or text.bare[start - 1] in "_."):
            continue  # part of an identifier such as uint16_t, or a float such as 1.5
        value = integer_value(match.group(0))
        if value is not None:
            values.append(value)
    return values


def macro_names(text: Scan) -> set[str]:
    return {m.group(1) for m in re.finditer(r"^[ \t]*#[ \t]*define[ \t]+([A-Za-z_]\w*)", text.code, re.M)}

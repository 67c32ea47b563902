"""Style findings: every function documented with every parameter (Doxygen `@param name`, `\\param name`
or a `name:` line in its comment), a return description for non-void functions, function length and
cyclomatic complexity, and no main() in an answer that was asked for a function.
"""

from __future__ import annotations

import re

from distilloop.gate.c_code.c_ast import AstInfo
from distilloop.gate.c_code.c_text import Scan
from distilloop.gate.c_code.c_tools import Finding

RETURN_DOC = re.compile(r"[@\\](return|returns|retval)\b|^\W*returns?\b", re.I | re.M)


def findings(info: AstInfo, text: Scan, max_lines: int, max_complexity: int) -> list[Finding]:
    found = []
    line_starts = [0] + [m.end() for m in re.finditer("\n", text.bare)]
    for function in info.functions:
        name = function.name
        if name == "main":
            found.append(Finding("style-main", function.line, "the answer defines main(); it was asked for a function"))
        doc = _doc_comment(text, line_starts, function.line)
        if doc is None:
            found.append(Finding("style-doc", function.line, f"{name} has no comment before it"))
        for param in function.params:
            if doc is None or not _documents(doc, param):
                found.append(
                    Finding("style-param-doc", function.line, f"parameter `{param}` of {name} is not documented")
                )
        if not function.returns_void and doc is not None and not RETURN_DOC.search(doc):
            found.append(Finding("style-return-doc", function.line, f"{name} does not document its return value"))
        length = _length(text.bare, line_starts, function.line)
        if length > max_lines:
            found.append(Finding("style-length", function.line, f"{name} is {length} lines long (limit {max_lines})"))
        if function.complexity > max_complexity:
            found.append(
                Finding(
                    "style-complexity",
                    function.line,
                    f"{name} has cyclomatic complexity {function.complexity} (limit {max_complexity})",
                )
            )
    return found


def _doc_comment(text: Scan, line_starts: list[int], line: int) -> str | None:
    """The nearest comment before the function's line, if only declaration words (return type,
    storage class) stand between the two."""
    function_start = line_starts[line - 1]
    for comment in reversed(text.comments):
        if comment.end > function_start:
            continue
        return None if re.search(r"[;{}#]", text.bare[comment.end : function_start]) else comment.text
    return None


def _documents(doc: str, param: str) -> bool:
    name = re.escape(param)
    return (
        re.search(rf"[@\\]param(\s*\[[^\]]*\])?\s+{name}\b", doc) is not None
        or re.search(rf"^[\s*/!<-]*{name}\s*[:\-]", doc, re.M) is not None
    )


def _length(bare: str, line_starts: list[int], line: int) -> int:
    """Lines from the function's first line to its closing brace."""
    start = bare.find("{", line_starts[min(line, len(line_starts)) - 1])
    if start == -1:
        return 0
    depth = 0
    for position in range(start, len(bare)):
        char = bare[position]
        depth += char == "{"
        depth -= char == "}"
        if depth == 0:
            return bare.count("\n", line_starts[line - 1], position) + 1
    return bare.count("\n", line_starts[line - 1]) + 1

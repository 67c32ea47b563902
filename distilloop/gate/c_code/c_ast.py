"""MISRA-C checks on a real AST (pycparser) for what cppcheck's addon misses, and the facts about the
code that the style and protocol axes need.

Input is the answer preprocessed against the stub headers in fake_libc/ (c_tools.gcc_preprocess), so
comments are gone and macros are expanded: a word in a comment or a string can never be a finding.
Found here: goto (15.1), recursion through the call graph, mutual included (17.2), dynamic memory
(21.3), switch without default (16.4), `while (1)` and other integer-constant conditions (14.4), octal
constants (7.1), implicit int (8.1) and basic numerical types instead of fixed-width typedefs (Dir 4.6). Findings of both tools are merged by (id, line).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pycparser import c_ast, c_parser

from distilloop.gate.c_code.c_text import integer_value
from distilloop.gate.c_code.c_tools import Finding

DYNAMIC_MEMORY = {"malloc", "calloc", "realloc", "free", "aligned_alloc"}
BASIC_TYPES = {"int", "short", "long", "signed", "unsigned", "float", "double"}
FIXED_WIDTH = re.compile(r"^(u?)int(8|16|32|64)_t$")
IMPLICIT_INT_STARTS = {"static", "extern", "inline", "const", "volatile", "register", "auto", "_Noreturn"}
BRANCHES = (c_ast.If, c_ast.For, c_ast.While, c_ast.DoWhile, c_ast.Case, c_ast.TernaryOp)


@dataclass
class Function:
    name: str
    line: int
    params: list[str]
    returns_void: bool
    complexity: int
    calls: set[str] = field(default_factory=set)


@dataclass
class AstInfo:
    functions: list[Function]
    findings: list[Finding]
    constants: dict[str, int]  # `const` objects whose initializer is an integer constant expression
    declared: set[str]  # every file-scope name the answer declares


_parser: c_parser.CParser | None = None


def analyse(preprocessed: str, filename: str, source: str) -> AstInfo | Finding:
    """The AST facts of one answer (`source`, preprocessed), or a Finding that says why it could not
    be parsed."""
    global _parser
    _parser = _parser or c_parser.CParser()
    try:
        tree = _parser.parse(preprocessed, filename)
    except Exception as exc:  # pycparser raises ParseError, and on odd input sometimes others
        message = str(exc)
        match = re.match(r"^[^:]*:(\d+):", message)
        line = int(match.group(1)) if match else None
        if "Missing type in declaration" in message:
            return Finding("misra-c2012-8.1", line, "a declaration without a type (implicit int)")
        return Finding("ast-parse", line, f"not parseable as C99: {message.split(': ', 1)[-1][:160]}")
    visitor = _Visitor(filename, source.splitlines())
    visitor.visit(tree)
    visitor.findings += _recursion(visitor.functions)
    return AstInfo(visitor.functions, visitor.findings, visitor.constants, visitor.declared)


class _Visitor(c_ast.NodeVisitor):
    def __init__(self, filename: str, lines: list[str]):
        self.filename = filename
        self.lines = lines
        self.functions: list[Function] = []
        self.findings: list[Finding] = []
        self.constants: dict[str, int] = {}
        self.declared: set[str] = set()
        self.current: Function | None = None
        self.basic_type_lines: set[int] = set()

    def _ours(self, node) -> bool:
        return node.coord is not None and node.coord.file == self.filename

    def _word_at(self, coord) -> str:
        if coord is None or not 0 < coord.line <= len(self.lines):
            return ""
        match = re.match(r"\w+", self.lines[coord.line - 1][max(coord.column - 1, 0) :])
        return match.group(0) if match else ""

    def _add(self, rule: str, node, message: str) -> None:
        self.findings.append(Finding(f"misra-c2012-{rule}", node.coord.line if node.coord else None, message))

    def visit_FileAST(self, node):
        for child in node.ext:
            if self._ours(child):
                name = child.decl.name if isinstance(child, c_ast.FuncDef) else getattr(child, "name", None)
                if name:
                    self.declared.add(name)
                self.visit(child)

    def visit_FuncDef(self, node):
        declarator = node.decl.type
        params = []
        if declarator.args is not None:
            params = [p.name for p in declarator.args.params if isinstance(p, (c_ast.Decl, c_ast.Typename)) and p.name]
        returns = declarator.type
        returns_void = isinstance(returns, c_ast.TypeDecl) and getattr(returns.type, "names", None) == ["void"]
        if isinstance(returns, c_ast.TypeDecl) and getattr(returns.type, "names", None) == ["int"]:
            # pycparser fills in an implicit int at the position of whatever starts the definition
            if self._word_at(returns.type.coord) in IMPLICIT_INT_STARTS | {node.decl.name}:
                self._add("8.1", node.decl, f"{node.decl.name}: return type not given (implicit int)")
        self.current = Function(node.decl.name, node.coord.line, params, returns_void, 1)
        self.functions.append(self.current)
        self.visit(node.decl)
        self.visit(node.body)
        self.current = None

    def visit_Decl(self, node):
        if node.name and "const" in node.quals and node.init is not None and not isinstance(node.type, c_ast.ArrayDecl):
            value = _evaluate(node.init, self.constants)
            if value is not None:
                self.constants[node.name] = _truncate(value, _type_name(node.type))
        if node.bitsize is None:
            self._basic_type(node.type, node)
        self.generic_visit(node)

    def visit_Typedef(self, node):
        # a typedef of a basic type is how fixed-width names are made: allowed
        self.generic_visit(node)  # (struct members inside it are still checked)

    def visit_Enumerator(self, node):
        self.declared.add(node.name)
        self.generic_visit(node)

    def visit_Typename(self, node):
        self._basic_type(node.type, node)
        self.generic_visit(node)

    def _basic_type(self, declarator, node) -> None:
        while not isinstance(declarator, (c_ast.TypeDecl, type(None))):
            declarator = getattr(declarator, "type", None)
        names = getattr(getattr(declarator, "type", None), "names", None) or []
        line = node.coord.line if node.coord else None
        if BASIC_TYPES & set(names) and line not in self.basic_type_lines:
            self.basic_type_lines.add(line)
            self._add("dir-4.6", node, f"basic type `{' '.join(names)}` instead of a fixed-width typedef")

    def visit_While(self, node):
        self._constant_condition(node, "while")
        self.generic_visit(node)

    def visit_DoWhile(self, node):
        self._constant_condition(node, "do-while")
        self.generic_visit(node)

    def visit_If(self, node):
        self._constant_condition(node, "if")
        self.generic_visit(node)

    def _constant_condition(self, node, statement: str) -> None:
        """`while (1)`: an integer constant is not an essentially Boolean controlling expression (14.4)."""
        if isinstance(node.cond, c_ast.Constant) and "int" in node.cond.type:
            self._add("14.4", node, f"{statement} ({node.cond.value}): the condition is not essentially Boolean")

    def visit_Goto(self, node):
        self._add("15.1", node, f"goto {node.name}")

    def visit_FuncCall(self, node):
        if isinstance(node.name, c_ast.ID):
            if self.current is not None:
                self.current.calls.add(node.name.name)
            if node.name.name in DYNAMIC_MEMORY:
                self._add("21.3", node, f"dynamic memory: {node.name.name}()")
        self.generic_visit(node)

    def visit_Switch(self, node):
        items = (node.stmt.block_items or []) if isinstance(node.stmt, c_ast.Compound) else [node.stmt]
        if not any(isinstance(item, c_ast.Default) for item in items):
            self._add("16.4", node, "switch without a default label")
        self.generic_visit(node)

    def visit_Constant(self, node):
        if node.type in ("int", "unsigned int", "long int", "unsigned long int") or node.type.endswith("int"):
            digits = node.value.rstrip("uUlL")
            if len(digits) > 1 and digits.startswith("0") and digits[1] not in "xXbB" and digits != "0":
                self._add("7.1", node, f"octal constant {node.value}")

    def visit_BinaryOp(self, node):
        if node.op in ("&&", "||"):
            self._branch()
        self.generic_visit(node)

    def generic_visit(self, node):
        if isinstance(node, BRANCHES):
            self._branch()
        super().generic_visit(node)

    def _branch(self) -> None:
        if self.current is not None:
            self.current.complexity += 1


def _recursion(functions: list[Function]) -> list[Finding]:
    """Every function that can reach itself through calls among the answer's own functions."""
    graph = {function.name: function.calls for function in functions}
    findings = []
    for function in functions:
        seen, stack = set(), list(graph[function.name] & graph.keys())
        while stack:
            callee = stack.pop()
            if callee == function.name:
                findings.append(Finding("misra-c2012-17.2", function.line, f"{function.name} is recursive"))
                break
            if callee not in seen:
                seen.add(callee)
                stack.extend(graph.get(callee, set()) & graph.keys())
    return findings


def _type_name(declarator) -> str:
    while declarator is not None and not isinstance(declarator, c_ast.TypeDecl):
        declarator = getattr(declarator, "type", None)
    names = getattr(getattr(declarator, "type", None), "names", None) or []
    return " ".join(names)


def _truncate(value: int, type_name: str) -> int:
    match = FIXED_WIDTH.match(type_name)
    if not match:
        return value
    bits = int(match.group(2))
    value &= (1 << bits) - 1
    return value - (1 << bits) if match.group(1) == "" and value >= 1 << (bits - 1) else value


BINARY = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "<<": lambda a, b: a << b,
    ">>": lambda a, b: a >> b,
    "&": lambda a, b: a & b,
    "|": lambda a, b: a | b,
    "^": lambda a, b: a ^ b,
    "/": lambda a, b: int(a / b) if b else None,
    "%": lambda a, b: a - b * int(a / b) if b else None,
}


def _evaluate(node, known: dict[str, int]) -> int | None:
    """The value of an integer constant expression, or None (floats, calls, anything else)."""
    if isinstance(node, c_ast.Constant):
        return integer_value(node.value) if "int" in node.type else None
    if isinstance(node, c_ast.ID):
        return known.get(node.name)
    if isinstance(node, c_ast.Cast):
        value = _evaluate(node.expr, known)
        return None if value is None else _truncate(value, _type_name(node.to_type.type))
    if isinstance(node, c_ast.UnaryOp):
        value = _evaluate(node.expr, known)
        operations = {"-": lambda v: -v, "+": lambda v: v, "~": lambda v: ~v, "!": lambda v: int(not v)}
        return None if value is None or node.op not in operations else operations[node.op](value)
    if isinstance(node, c_ast.BinaryOp) and node.op in BINARY:
        left, right = _evaluate(node.left, known), _evaluate(node.right, known)
        if left is None or right is None or (node.op in ("<<", ">>") and not 0 <= right < 128):
            return None
        return BINARY[node.op](left, right)
    return None

"""The per-task stop rules (distilloop/student/stopping.py): where an answer is complete, fed in pieces as tokens come."""

from __future__ import annotations

import pytest

from distilloop.gate.extract import extract_c, extract_json
from distilloop.student.stopping import answer_end


def complete_at(task: str, text: str, piece: int = 1) -> int | None:
    """The length of the prefix of `text` at which the answer is complete, feeding `piece` characters at a
    time (as tokens would); None if it never is."""
    end = answer_end(task)
    for start in range(0, len(text), piece):
        if end.feed(text[start : start + piece]):
            return start + piece
    return None


JSON_CASES = [
    ('{"handle": "a", "score": 0.5}', '{"handle": "a", "score": 0.5}'),
    ('{"reason": "uses {braces} and } alone", "n": 1} trailing', '{"reason": "uses {braces} and } alone", "n": 1}'),
    ('{"reason": "a \\"quoted}\\" word", "n": 2}\n{"again": 1}', '{"reason": "a \\"quoted}\\" word", "n": 2}'),
    (
        '{"path": "C:\\\\", "n": {"deep": {"er": [1, {"x": "}"}]}}} more',
        '{"path": "C:\\\\", "n": {"deep": {"er": [1, {"x": "}"}]}}}',
    ),
    ('Here is "my" answer:\n{"handle": "b"}\nDone.', 'Here is "my" answer:\n{"handle": "b"}'),
    ('```json\n{"handle": "c"}\n```\nMore prose.', '```json\n{"handle": "c"}\n```'),
    ('Sure:\n  ```\n{"handle": "d"}\n  ````\nMore.', 'Sure:\n  ```\n{"handle": "d"}\n  ```'),
]


@pytest.mark.parametrize("text, answer", JSON_CASES)
@pytest.mark.parametrize("piece", [1, 3, 7])
def test_json_answer_ends_with_its_first_object(text, answer, piece):
    at = complete_at("json_record", text, piece)
    assert at is not None and text[:at].startswith(answer) and len(text[:at]) - len(answer) < piece
    value, cut, _ = extract_json(answer)  # the gate reads the stopped answer as complete
    assert value is not None and not cut


@pytest.mark.parametrize(
    "text",
    [
        '{"handle": "a", "reason": "ends inside a string }',
        '{"a": {"b": 1}',
        "no object at all",
        '```json\n{"handle": "e"}\n',
    ],
)
def test_incomplete_json_never_ends(text):
    assert complete_at("json_record", text) is None


C_CASES = [
    ("```c\nint f(void) { return 0; }\n```\nAnd an explanation.", "```c\nint f(void) { return 0; }\n```"),
    ('Here:\n```\nconst char *s = "```";\n```c\nx\n```\n', 'Here:\n```\nconst char *s = "```";\n```'),
    ("~~~c\nint a;\n```\nint b;\n~~~\nafter", "~~~c\nint a;\n```\nint b;\n~~~"),
    ("````c\nint a;\n```\nint b;\n````\nafter", "````c\nint a;\n```\nint b;\n````"),
]


@pytest.mark.parametrize("text, answer", C_CASES)
@pytest.mark.parametrize("piece", [1, 2, 5])
def test_c_answer_ends_at_the_closing_fence(text, answer, piece):
    at = complete_at("c_code", text, piece)
    assert at is not None and text[:at].startswith(answer) and len(text[:at]) - len(answer) < piece
    code, cut = extract_c(answer)
    assert code.strip() and not cut


@pytest.mark.parametrize(
    "text", ["int f(void) { return 0; }\n```\n", "Say ```c inline``` please\nint x;", "```c\nint f(void);\n"]
)
def test_c_without_a_closed_fence_never_ends(text):
    assert complete_at("c_code", text) is None


def test_unknown_or_missing_task_never_ends():
    assert complete_at(None, '{"a": 1}```c\n```\n') is None
    assert complete_at("sql", '{"a": 1}') is None

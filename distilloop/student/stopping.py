"""When an answer is complete, per task: every generating path stops there (the engine in
distilloop/student/generation.py, llama.cpp in distilloop/release/gguf.chat, the teachers that run a local model).

    json_record  the first balanced top-level JSON object is closed (braces counted outside strings,
                 escapes honoured); when that object sits inside a Markdown fence, the fence must close too
                 (the gate reads an unclosed fence as a cut-off answer)
    c_code       the closing fence of the first fenced block; an answer without a fence ends only at the
                 end-of-sequence token or its budget

Fences follow the gate's reading (distilloop/gate/extract.py): a line that starts, after spaces or tabs, with
three or more backticks or tildes opens a block; a line that starts with at least as many of the same
character closes it.

Generation feeds each new token's text to `answer_end(task)` and stops when `feed` returns True, so no
token is generated after a complete answer. The state machines look at a few characters per token.

Public API:
    answer_end(task) -> AnswerEnd      # a fresh tracker for one answer
    TokenPieces(decode)                # token id -> its text, cached
"""

from __future__ import annotations

FENCE_CHARS = "`~"


class AnswerEnd:
    """Never complete: the answer ends at the end-of-sequence token or its budget."""

    complete = False

    def feed(self, text: str) -> bool:
        return False


class FenceTracker:
    """Follows Markdown fences line by line: `inside` while a fenced block is open, `closed` once the first
    block has closed."""

    def __init__(self):
        self.opening: tuple[str, int] | None = None  # (character, length) of the open block's fence
        self.closed = False
        self.line_prefix = True  # the line so far is indentation or a run of fence characters
        self.run_char, self.run_length = "", 0

    @property
    def inside(self) -> bool:
        return self.opening is not None and not self.closed

    def feed_char(self, char: str) -> None:
        if char == "\n":
            self._run_ended()
            self.line_prefix, self.run_char, self.run_length = True, "", 0
            return
        if not self.line_prefix:
            return
        if char in FENCE_CHARS and self.run_char in ("", char):
            self.run_char, self.run_length = char, self.run_length + 1
            if self.inside and char == self.opening[0] and self.run_length >= self.opening[1]:
                self.closed = True  # the closing fence: whatever follows on its line is not the answer
        elif char in " \t" and not self.run_length:
            return
        else:
            self._run_ended()
            self.line_prefix = False

    def _run_ended(self) -> None:
        if self.opening is None and self.run_length >= 3:
            self.opening = (self.run_char, self.run_length)


class FencedCodeEnd(AnswerEnd):
    """c_code: complete at the closing fence of the first fenced block."""

    def __init__(self):
        self.fences = FenceTracker()

    def feed(self, text: str) -> bool:
        if self.complete:
            return True
        for char in text:
            self.fences.feed_char(char)
            if self.fences.closed:
                self.complete = True
                break
        return self.complete


class JsonObjectEnd(AnswerEnd):
    """json_record: complete when the first top-level JSON object closes (and its fence, if it has one)."""

    def __init__(self):
        self.fences = FenceTracker()
        self.depth = 0
        self.in_string = self.escaped = False
        self.object_closed = False
        self.fenced = False  # the object began inside a fenced block

    def feed(self, text: str) -> bool:
        if self.complete:
            return True
        for char in text:
            self.fences.feed_char(char)
            if self.object_closed:
                if self.fences.closed:
                    self.complete = True
                    break
            elif self.in_string:
                if self.escaped:
                    self.escaped = False
                elif char == "\\":
                    self.escaped = True
                elif char == '"':
                    self.in_string = False
            elif char == "{":
                if not self.depth:
                    self.fenced = self.fences.inside
                self.depth += 1
            elif self.depth:  # quotes in prose before the object are not JSON strings
                if char == '"':
                    self.in_string = True
                elif char == "}":
                    self.depth -= 1
                    if not self.depth:
                        self.object_closed = True
                        if not self.fenced or self.fences.closed:
                            self.complete = True
                            break
        return self.complete


ANSWER_ENDS = {"json_record": JsonObjectEnd, "c_code": FencedCodeEnd}


def answer_end(task: str | None) -> AnswerEnd:
    """A fresh tracker for one answer of `task`; a task without a rule (or none) never completes early."""
    return ANSWER_ENDS.get(task, AnswerEnd)()


class TokenPieces:
    """Token id -> its text, decoded once per id. A piece that is part of a multi-byte character decodes to
    a replacement character, which is harmless: every character the trackers look at is ASCII."""

    def __init__(self, decode):
        self.decode = decode
        self.pieces: dict[int, str] = {}

    def __call__(self, token: int) -> str:
        piece = self.pieces.get(token)
        if piece is None:
            piece = self.pieces[token] = self.decode(token)
        return piece

"""A rubric-following LLM judge for tests: an OpenAI-compatible chat completions server on 127.0.0.1.

It reads the grading request the way a model would read the test rubric (JUDGE_RUBRIC in
test_judge.py): the answer after "Answer:", the reference after "Reference:", and grades
    10  the answer is the reference (case and surrounding space aside)
     6  the answer contains the reference among other words
     1  otherwise
The model name changes its manner: `judge-inverse` grades 10 - that (a judge that disagrees with every
label), `judge-chatty` thinks aloud first, quoting a decoy JSON score before its real verdict. An answer
containing UNPARSABLE gets a reply without any score. Token counts are words; every request is counted.
"""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SECTION = re.compile(r"Reference:\n(?P<reference>.*?)\n\nAnswer:\n(?P<answer>.*?)\n\nGrade", re.DOTALL)


def grade(reference: str, answer: str) -> int:
    reference, answer = reference.strip().lower(), answer.strip().lower()
    if answer == reference:
        return 10
    return 6 if reference and reference in answer else 1


def reply_text(model: str, prompt: str) -> str:
    found = SECTION.search(prompt)
    if found is None or "UNPARSABLE" in found["answer"]:
        return "I cannot grade this answer."
    score = grade(found["reference"], found["answer"])
    if model == "judge-inverse":
        score = 10 - score
    verdict = json.dumps({"score": score, "reason": f"graded {score} against the reference"})
    if model == "judge-chatty":
        return f'First, a wrong idea would be {{"score": 0}}. Comparing with the reference instead.\n{verdict}'
    return verdict


class JudgeServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Handler)
        self.requests = 0
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.shutdown()
        self.server_close()


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
        with self.server.lock:
            self.server.requests += 1
        prompt = "\n".join(m["content"] for m in body["messages"] if m["role"] == "user")
        text = reply_text(body["model"], prompt)
        answer = {
            "id": "judge",
            "object": "chat.completion",
            "model": body["model"],
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": len(prompt.split()), "completion_tokens": len(text.split())},
        }
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

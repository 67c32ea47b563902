"""A teacher that knows the profile rubric, served as an OpenAI-compatible API on 127.0.0.1: what
augmentation (`correct.augment`, LLM2LLM) can give the profile task with a teacher that never errs.

    python -m bench.rubric_teacher --port 8765 [--people random]

then, in a profile project's params.yaml, `correct.augment: 4` and `teacher: {backend: openai, model: rubric,
base_url: http://127.0.0.1:8765/v1, prices: {rubric: {input_per_mtok: 0, output_per_mtok: 0}}}`, and `dvc repro`
(another model name for another run: the teacher cache is keyed by it).

No generative model that could write new profile tasks runs offline on a 2-core machine, so this server
plays the teacher with the bundled data's own rubric (distilloop/data/profiles.py). It reads the task
out of the default `teacher.prompt_template` / `augment_template` layouts ("Task:" up to "Student answer:"
or "Answer:") and the profile out of the task's "label: value" lines:
  - a correction request gets the rubric's answer for that profile: the reference teacher's answer, to
    the byte;
  - an augmentation request ("Write K new tasks") gets K people like the failing one: the same
    archetype (known by the headline) and the same items but one (years, a skill, the certification or a
    language, redrawn from the archetype's pools), a new name, each task written into the failing
    prompt's own text with the rubric's answer. `--people random` is the control: as many new people,
    not aimed at the failures, drawn as the bundled generator draws anyone.
Deterministic: the new people of a task depend only on its text.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from distilloop.data.profiles import ARCHETYPES, make_name, make_profile, reference, summary

FIELDS = {  # prompt label -> profile key (export.templates.json_record's layout)
    "handle": "handle",
    "headline": "headline",
    "years of experience": "years_experience",
    "languages": "languages",
    "skills": "skills",
    "certifications": "certifications",
    "industry": "industry",
    "location": "location",
    "open to work": "open_to_work",
    "summary": "summary",
}
ARCHETYPE_OF_HEADLINE = {headline: name for name, spec in ARCHETYPES.items() for headline in spec[1]}
AUGMENT = re.compile(r"Task:\n(?P<task>.*?)\n\nAnswer:\n.*?Write (?P<count>\d+) new tasks", re.DOTALL)
CORRECT = re.compile(r"Task:\n(?P<task>.*?)\n\nStudent answer:", re.DOTALL)


def read_profile(task: str) -> dict | None:
    """The profile of a rendered task, or None when a field line is missing."""
    profile = {}
    for label, key in FIELDS.items():
        found = re.search(rf"^{re.escape(label)}: (.*)$", task, re.MULTILINE)
        if found is None:
            return None
        profile[key] = found.group(1)
    return profile


def write_profile(task: str, profile: dict) -> str:
    """`task` with every field line holding `profile`'s value."""
    for label, key in FIELDS.items():
        line = f"{label}: {profile[key]}"
        task = re.sub(rf"^{re.escape(label)}: .*$", lambda _, line=line: line, task, flags=re.MULTILINE)
    return task


def variant(profile: dict, rng: random.Random) -> dict:
    """Someone like `profile`: a new name, and one of years, a skill, the certification or a language redrawn
    from the archetype's pools (an unknown headline: only the years)."""
    spec = ARCHETYPES.get(ARCHETYPE_OF_HEADLINE.get(profile["headline"], ""))
    new = dict(profile)
    change = rng.choice(["years", "skills", "certifications", "languages"]) if spec else "years"
    if change == "years":
        low, high = spec[6] if spec else (0, 20)
        new["years_experience"] = str(rng.randint(low, high))
    else:
        pool = {"languages": spec[3], "skills": spec[4], "certifications": spec[5]}[change]
        held = profile[change].split("; ")
        fresh = [item for item in pool if item not in held]
        if fresh:
            held[rng.randrange(len(held))] = rng.choice(fresh)
        new[change] = "; ".join(held)
    first, last = make_name(rng), make_name(rng)
    new["handle"] = f"{first}_{last}{rng.randint(1, 9999):04d}"
    new["summary"] = summary(first, new)
    return new


def new_tasks(task: str, count: int, people: str = "like") -> list[dict]:
    """`count` new tasks: people like the one in `task` ("like") or anyone ("random")."""
    profile = read_profile(task)
    if profile is None:
        return []
    rng = random.Random(hashlib.sha256(task.encode()).hexdigest())
    if people == "like":
        persons = [variant(profile, rng) for _ in range(count)]
    else:
        persons = [make_profile(rng, rng.randint(1, 9999)) for _ in range(count)]
    return [{"prompt": write_profile(task, person), "answer": reference(person)} for person in persons]


def reply_to(message: str, people: str = "like") -> str | None:
    """The teacher's reply to one user message, or None when it is neither request."""
    if found := AUGMENT.search(message):
        return json.dumps(new_tasks(found.group("task"), int(found.group("count")), people))
    if found := CORRECT.search(message):
        profile = read_profile(found.group("task"))
        return reference(profile) if profile else None
    return None


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass

    def do_POST(self) -> None:
        try:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            message = body["messages"][-1]["content"]
        except (ValueError, KeyError, IndexError, TypeError):
            return self.send(400, {"error": {"message": "expected an OpenAI chat completions body"}})
        text = reply_to(message, self.server.people) if self.path.endswith("/chat/completions") else None
        if text is None:
            return self.send(422, {"error": {"message": "not a correction or augmentation request"}})
        usage = {"prompt_tokens": len(message) // 4, "completion_tokens": len(text) // 4}
        choice = {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
        self.send(200, {"object": "chat.completion", "model": body.get("model"), "choices": [choice], "usage": usage})

    def send(self, status: int, value: dict) -> None:
        data = json.dumps(value).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def serve(port: int, people: str = "like") -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.people = people  # what new tasks hold: "like" the failing person, or "random"
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--people", choices=["like", "random"], default="like", help="new tasks: like the failing one, or anyone"
    )
    args = parser.parse_args()
    server = serve(args.port, args.people)
    print(f"rubric teacher on http://127.0.0.1:{server.server_address[1]}/v1", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        server.server_close()


if __name__ == "__main__":
    main()

"""The `reference` teacher: the record's own reference answer. Offline, free and instant, so it is
the default and is not cached (the cache key could not see an edited reference)."""

from __future__ import annotations

import json

from distilloop.teachers import CallError, Reply, Request, Teacher


class ReferenceTeacher(Teacher):
    backend = "reference"
    cached = False

    def complete(self, request: Request) -> Reply:
        reference = request.record.get("reference")
        if reference is None or (isinstance(reference, str) and not reference.strip()):
            raise CallError("no reference", "the record has no reference answer")
        text = reference if isinstance(reference, str) else json.dumps(reference, ensure_ascii=False)
        return Reply(text=text)

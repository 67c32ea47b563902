"""Shared parts of the bundled C tasks: the prompt wording and the harness frame.

A family module creates one `Family` and calls `add()` once per task with the hand-written request
(`ask`), the exact signature, the reference answer and the body of its harness's main(). This module
turns them into export records: it wraps the request in one of a few natural phrasings of the coding
rules (picked by a stable hash of the id, so the output never changes between runs) and wraps the
harness body in the common frame (check macros, `ok <n>` / `FAIL <n>: ...` lines, `harness: k/n`).
"""

from __future__ import annotations

import re
import textwrap
import zlib

# --- prompts ----------------------------------------------------------------------------------------

# Each opener introduces the request; {area} names the code base the function belongs to.
OPENERS = (
    "",
    "I need a function for our {area}. ",
    "For the {area} I am writing, please implement the following. ",
    "Task for the {area}: ",
    "We are extending our {area}. ",
    "Please write a helper for the {area}. ",
)

SIGNATURE_LINES = (
    "Implement it with exactly this signature:\n\n    {signature}",
    "Use this prototype verbatim:\n\n    {signature}",
    "Signature (keep it exactly as given):\n\n    {signature}",
    "The function must have this signature:\n\n    {signature}",
)

RULES = (
    "Constraints: C99 and MISRA-C:2012 - fixed-width integer types from <stdint.h>, no dynamic memory, "
    "no recursion, no goto, a default label in every switch. Document the function with a Doxygen "
    "comment (@brief, one @param per parameter, @return unless it is void). Answer with the code only, "
    "no main().",
    "Rules: the code must be C99 and follow MISRA-C:2012: use the <stdint.h> fixed-width types, no "
    "malloc/free or any other dynamic memory, no recursion, no goto, and every switch needs a default. "
    "Give the function a Doxygen header that documents every parameter and the return value. Reply "
    "with just the code - no main() and no explanation.",
    "Write C99 in MISRA-C:2012 style (fixed-width types from <stdint.h>, no heap, no recursion, no goto, "
    "default in every switch statement) and document each parameter with @param in a Doxygen comment. "
    "Only the code, please; do not add a main().",
    "Keep to C99 and MISRA-C:2012: <stdint.h> fixed-width types only, no dynamic allocation, no "
    "recursive calls, no goto, every switch with a default branch. Every parameter must be documented "
    "(Doxygen @brief/@param/@return). Answer with code only and leave out main().",
    "It has to be MISRA-C:2012 compliant C99: fixed-width types from <stdint.h>, static memory only, no "
    "recursion, no goto, a default case in every switch. Document the function and all of its "
    "parameters in Doxygen style. Output the code only, without a main() function.",
)


def _pick(options: tuple[str, ...], key: str, salt: str) -> str:
    return options[zlib.crc32(f"{salt}:{key}".encode()) % len(options)]


def pick(options: tuple, key: str, salt: str = "variant"):
    """One of `options`, chosen by a stable hash of `key`: generated variants vary their wording (or a
    choice such as a byte order) deterministically, without a random generator."""
    return options[zlib.crc32(f"{salt}:{key}".encode()) % len(options)]


def build_prompt(record_id: str, area: str, ask: str, signature: str, types: str | None,
                 defines: list[tuple[str, str]]) -> str:
    parts = [_pick(OPENERS, record_id, "opener").format(area=area) + ask.strip()]
    parts.append(_pick(SIGNATURE_LINES, record_id, "signature").format(signature=signature))
    if types:
        which = "these types" if types.count("typedef") > 1 else "this type"
        parts.append(f"Define {which} exactly as shown (the tests use it):\n\n" + textwrap.indent(types.strip(), "    "))
    if defines:
        names = [f"`{name}` ({meaning})" for name, meaning in defines]
        listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
        what = "a named constant (macro)" if len(names) == 1 else "named constants (macros)"
        parts.append(f"Define {listed} as {what} and use {'it' if len(names) == 1 else 'them'} in the code.")
    parts.append(_pick(RULES, record_id, "rules"))
    return "\n\n".join(parts)


# --- harness ---------------------------------------------------------------------------------------

# Check helpers; only those a harness uses are emitted (an unused static function is a warning).
HELPERS = {
    "HX_U": r'''
static void hx_u(const char *what, unsigned long long got, unsigned long long want)
{
    hx_total++;
    if (got == want) {
        hx_passed++;
        printf("ok %u\n", hx_total);
    } else {
        printf("FAIL %u: %s: got 0x%llx, want 0x%llx\n", hx_total, what, got, want);
    }
}
#define HX_U(got, want) hx_u(#got, (unsigned long long)(got), (unsigned long long)(want))
''',
    "HX_I": r'''
static void hx_i(const char *what, long long got, long long want)
{
    hx_total++;
    if (got == want) {
        hx_passed++;
        printf("ok %u\n", hx_total);
    } else {
        printf("FAIL %u: %s: got %lld, want %lld\n", hx_total, what, got, want);
    }
}
#define HX_I(got, want) hx_i(#got, (long long)(got), (long long)(want))
''',
    "HX_T": r'''
static void hx_t(const char *what, int holds)
{
    hx_total++;
    if (holds != 0) {
        hx_passed++;
        printf("ok %u\n", hx_total);
    } else {
        printf("FAIL %u: expected %s\n", hx_total, what);
    }
}
#define HX_T(cond) hx_t(#cond, (cond) ? 1 : 0)
''',
    "HX_MEM": r'''
static void hx_mem(const char *what, const void *got, const void *want, size_t size)
{
    const unsigned char *g = (const unsigned char *)got;
    const unsigned char *w = (const unsigned char *)want;
    size_t i = 0U;
    hx_total++;
    while ((i < size) && (g[i] == w[i])) {
        i++;
    }
    if (i == size) {
        hx_passed++;
        printf("ok %u\n", hx_total);
    } else {
        printf("FAIL %u: %s: byte %u is 0x%02x, want 0x%02x\n", hx_total, what, (unsigned)i, g[i], w[i]);
    }
}
#define HX_MEM(got, want, size) hx_mem(#got, (got), (want), (size))
''',
    "HX_S": r'''
static void hx_s(const char *what, const char *got, const char *want)
{
    hx_total++;
    if ((got != NULL) && (strcmp(got, want) == 0)) {
        hx_passed++;
        printf("ok %u\n", hx_total);
    } else {
        printf("FAIL %u: %s: got \"%s\", want \"%s\"\n", hx_total, what, (got != NULL) ? got : "(null)", want);
    }
}
#define HX_S(got, want) hx_s(#got, (got), (want))
''',
}

HARNESS_HEAD = """\
/* Test harness: appended after the answer in one translation unit. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static unsigned hx_total = 0U;
static unsigned hx_passed = 0U;
"""

HARNESS_TAIL = """\
    printf("harness: %u/%u\\n", hx_passed, hx_total);
    return (hx_passed == hx_total) ? 0 : 1;
}
"""


def harness(body: str, helpers: str = "") -> str:
    """A full harness: the common frame, optional static helpers of its own, then main() running `body`."""
    text = body + helpers
    used = [code for name, code in HELPERS.items() if re.search(rf"\b{name}\(", text)]
    if not used:
        raise ValueError("a harness must check something")
    parts = [HARNESS_HEAD] + [code.strip("\n") + "\n" for code in used]
    if helpers.strip():
        parts.append(textwrap.dedent(helpers).strip("\n") + "\n")
    parts.append("int main(void)\n{\n" + textwrap.indent(textwrap.dedent(body).strip("\n"), "    ") + "\n"
                 + HARNESS_TAIL)
    return "\n".join(parts)


def _reflow(text: str) -> str:
    """Hand-wrapped source text -> one line per paragraph."""
    paragraphs = re.split(r"\n\s*\n", textwrap.dedent(text).strip())
    return "\n\n".join(" ".join(line.strip() for line in p.splitlines()) for p in paragraphs)


# --- records ----------------------------------------------------------------------------------------

DIFFICULTIES = ("easy", "medium", "hard")


class Family:
    """The tasks of one family; `records` is what build.py collects."""

    def __init__(self, name: str, area: str):
        self.name, self.area, self.records = name, area, []

    def add(self, slug: str, difficulty: str, *, ask: str, signature: str, reference: str,
            harness_body: str | None = None, harness_helpers: str = "", facts: dict | None = None,
            defines: list[tuple[str, str]] | None = None, types: str | None = None) -> None:
        record_id = f"{self.name}-{slug}"
        if difficulty not in DIFFICULTIES:
            raise ValueError(f"{record_id}: difficulty {difficulty!r}")
        reference = textwrap.dedent(reference).strip("\n") + "\n"
        function = re.search(r"(\w+)\s*\(", signature).group(1)
        if signature not in reference:
            raise ValueError(f"{record_id}: the reference does not contain the signature verbatim")
        if types and textwrap.dedent(types).strip() not in reference:
            raise ValueError(f"{record_id}: the reference does not define the given type verbatim")
        facts = dict(facts or {})
        for name, identifier in facts.items():
            if identifier is not None and identifier not in {n for n, _ in defines or []}:
                raise ValueError(f"{record_id}: fact {name} names {identifier}, which the prompt does not define")
        checks = {"family": self.name, "function": function, "signature": signature, "facts": facts}
        if harness_body is not None:
            checks["harness"] = harness(harness_body, harness_helpers)
        self.records.append({
            "id": record_id,
            "task": "c_code",
            "prompt": build_prompt(record_id, self.area, _reflow(ask),
                                   signature, textwrap.dedent(types).strip() if types else None, defines or []),
            "reference": reference,
            "checks": checks,
            "meta": {"family": self.name, "difficulty": difficulty},
        })

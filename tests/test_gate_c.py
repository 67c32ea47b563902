"""The c_code gate on labelled samples, with real gcc, cppcheck, pycparser and the sandbox.

All samples are scored together in one batch (as the pipeline does), which also proves that findings
are attributed to the right sample; a few are then rescored alone and must score the same.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from distilloop.config import DEFAULT_RULE_WEIGHTS, Params, parse
from distilloop.gate.c_code import requested_function
from distilloop.gate.scoring import score_records, summarise

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "distilloop" / "data" / "c_tasks.jsonl"


def harness(vectors: list[tuple[str, str]]) -> str:
    """A harness in the gate's convention (distilloop/gate/c_code/harness.py): (C expression, expected value) per test vector."""
    lines = [
        "#include <stdio.h>",
        "#include <stdint.h>",
        "#include <stddef.h>",
        "#include <stdbool.h>",
        "int main(void)",
        "{",
        "    unsigned passed = 0U, total = 0U;",
        "    unsigned long long got;",
    ]
    for expression, want in vectors:
        lines += [
            f"    got = (unsigned long long)({expression}); total++;",
            f'    if (got == (unsigned long long)({want})) {{ passed++; printf("ok %u\\n", total); }}',
            f'    else {{ printf("FAIL %u: {expression.replace(chr(34), "")} = %llu\\n", total, got); }}',
        ]
    lines += ['    printf("harness: %u/%u\\n", passed, total);', "    return passed == total ? 0 : 1;", "}"]
    return "\n".join(lines) + "\n"


# --- five references of our own, one per family, each with a harness -------------------------------

VLAN = """#include <stdint.h>

#define VLAN_TPID 0x8100U

/**
 * @brief Pack an 802.1Q tag control information field.
 * @param pcp Priority code point, 0..7.
 * @param dei Drop eligible indicator, 0..1.
 * @param vid VLAN identifier, 0..4095.
 * @return The 16-bit TCI.
 */
uint16_t vlan_tci_pack(uint8_t pcp, uint8_t dei, uint16_t vid)
{
    uint16_t tci = (uint16_t)(((uint16_t)pcp & 0x7U) << 13U);
    tci |= (uint16_t)(((uint16_t)dei & 0x1U) << 12U);
    tci |= (uint16_t)(vid & 0x0FFFU);
    return tci;
}
"""
VLAN_CHECKS = {
    "family": "vlan_tag",
    "function": "vlan_tci_pack",
    "signature": "uint16_t vlan_tci_pack(uint8_t pcp, uint8_t dei, uint16_t vid)",
    "facts": {"ethertype_ctag": "VLAN_TPID", "vlan_tci_layout": None},
    "harness": harness(
        [
            ("vlan_tci_pack(0U, 0U, 0U)", "0x0000U"),
            ("vlan_tci_pack(7U, 1U, 0xFFFU)", "0xFFFFU"),
            ("vlan_tci_pack(3U, 0U, 100U)", "0x6064U"),
            ("vlan_tci_pack(5U, 1U, 2U)", "0xB002U"),
        ]
    ),
}

AVTP = """#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define AVTP_ETHERTYPE 0x22F0U
#define ETH_TYPE_OFFSET 12U

/**
 * @brief Tell whether an untagged Ethernet frame carries IEEE 1722 AVTP.
 * @param frame The frame, starting at the destination MAC address.
 * @param len Length of frame in octets.
 * @return true when the EtherType is AVTP.
 */
bool avtp_is_avtp_frame(const uint8_t *frame, size_t len)
{
    bool result = false;
    if ((frame != NULL) && (len >= 14U)) {
        uint16_t ethertype = (uint16_t)(((uint16_t)frame[ETH_TYPE_OFFSET] << 8U) | (uint16_t)frame[ETH_TYPE_OFFSET + 1U]);
        result = (ethertype == AVTP_ETHERTYPE);
    }
    return result;
}
"""
AVTP_HARNESS_SETUP = (
    "static const uint8_t avtp_frame[14] = {1,2,3,4,5,6,7,8,9,10,11,12,0x22,0xF0};\n"
    "static const uint8_t ptp_frame[14] = {1,2,3,4,5,6,7,8,9,10,11,12,0x88,0xF7};\n"
)
AVTP_CHECKS = {
    "family": "avtp_header",
    "function": "avtp_is_avtp_frame",
    "signature": "bool avtp_is_avtp_frame(const uint8_t *frame, size_t len)",
    "facts": {"ethertype_avtp": "AVTP_ETHERTYPE"},
    "harness": harness(
        [
            ("avtp_is_avtp_frame(avtp_frame, 14U)", "1"),
            ("avtp_is_avtp_frame(ptp_frame, 14U)", "0"),
            ("avtp_is_avtp_frame(avtp_frame, 13U)", "0"),
            ("avtp_is_avtp_frame(NULL, 14U)", "0"),
        ]
    ).replace("int main(void)", AVTP_HARNESS_SETUP + "int main(void)"),
}

GPTP = """#include <stdint.h>
#include <stdbool.h>

#define GPTP_MSG_SYNC 0x0U
#define GPTP_MSG_PDELAY_REQ 0x2U
#define GPTP_MSG_PDELAY_RESP 0x3U

/**
 * @brief Tell whether a gPTP messageType is an event message (timestamped on the wire).
 * @param message_type The messageType nibble of the common header.
 * @return true for Sync, Pdelay_Req and Pdelay_Resp.
 */
bool gptp_is_event(uint8_t message_type)
{
    bool event;
    switch (message_type) {
    case GPTP_MSG_SYNC:
    case GPTP_MSG_PDELAY_REQ:
    case GPTP_MSG_PDELAY_RESP:
        event = true;
        break;
    default:
        event = false;
        break;
    }
    return event;
}
"""
GPTP_CHECKS = {
    "family": "gptp_message",
    "function": "gptp_is_event",
    "signature": "bool gptp_is_event(uint8_t message_type)",
    "facts": {
        "gptp_msg_sync": "GPTP_MSG_SYNC",
        "gptp_msg_pdelay_req": "GPTP_MSG_PDELAY_REQ",
        "gptp_msg_pdelay_resp": "GPTP_MSG_PDELAY_RESP",
    },
    "harness": harness(
        [
            ("gptp_is_event(0x0U)", "1"),
            ("gptp_is_event(0x2U)", "1"),
            ("gptp_is_event(0x3U)", "1"),
            ("gptp_is_event(0x8U)", "0"),
            ("gptp_is_event(0xBU)", "0"),
        ]
    ),
}

SRP = """#include <stdint.h>

#define SRP_CLASS_A_PCP 3U
#define SRP_CLASS_B_PCP 2U
#define SRP_CLASS_A_INTERVAL_US 125U
#define SRP_CLASS_B_INTERVAL_US 250U

/**
 * @brief Class measurement interval of an SRP traffic class.
 * @param pcp Priority code point of the stream.
 * @return The interval in microseconds, or 0 for a PCP that is neither class A nor class B.
 */
uint32_t srp_interval_us(uint8_t pcp)
{
    uint32_t interval = 0U;
    if (pcp == SRP_CLASS_A_PCP) {
        interval = SRP_CLASS_A_INTERVAL_US;
    } else if (pcp == SRP_CLASS_B_PCP) {
        interval = SRP_CLASS_B_INTERVAL_US;
    } else {
        interval = 0U;
    }
    return interval;
}
"""
SRP_CHECKS = {
    "family": "srp_class",
    "function": "srp_interval_us",
    "signature": "uint32_t srp_interval_us(uint8_t pcp)",
    "facts": {
        "srp_class_a_pcp": "SRP_CLASS_A_PCP",
        "srp_class_b_pcp": "SRP_CLASS_B_PCP",
        "srp_class_a_interval_us": "SRP_CLASS_A_INTERVAL_US",
        "srp_class_b_interval_us": "SRP_CLASS_B_INTERVAL_US",
    },
    "harness": harness(
        [("srp_interval_us(3U)", "125U"), ("srp_interval_us(2U)", "250U"), ("srp_interval_us(0U)", "0U")]
    ),
}

CRC = """#include <stddef.h>
#include <stdint.h>

/**
 * @brief CRC-8/SMBUS (polynomial 0x07, initial value 0, no reflection, no final XOR).
 * @param data The bytes to checksum.
 * @param len Number of bytes in data.
 * @return The CRC.
 */
uint8_t crc8_smbus(const uint8_t *data, size_t len)
{
    uint8_t crc = 0U;
    size_t i;
    for (i = 0U; i < len; i++) {
        uint8_t bit;
        crc ^= data[i];
        for (bit = 0U; bit < 8U; bit++) {
            crc = ((crc & 0x80U) != 0U) ? (uint8_t)((uint8_t)(crc << 1U) ^ 0x07U) : (uint8_t)(crc << 1U);
        }
    }
    return crc;
}
"""
CRC_CHECKS = {
    "family": "crc",
    "function": "crc8_smbus",
    "signature": "uint8_t crc8_smbus(const uint8_t *data, size_t len)",
    "harness": harness([('crc8_smbus((const uint8_t *)"123456789", 9U)', "0xF4U"), ("crc8_smbus(NULL, 0U)", "0U")]),
}

REFERENCES = {
    "vlan": (VLAN, VLAN_CHECKS),
    "avtp": (AVTP, AVTP_CHECKS),
    "gptp": (GPTP, GPTP_CHECKS),
    "srp": (SRP, SRP_CHECKS),
    "crc": (CRC, CRC_CHECKS),
}


def record(
    sample_id: str, output: str, checks: dict | None = None, prompt: str = "Write the function.", **extra
) -> dict:
    item = {"id": sample_id, "task": "c_code", "prompt": prompt, "output": output, **extra}
    if checks is not None:
        item["checks"] = checks
    return item


NO_FUNCTION = {"family": "misc"}  # labelled samples that only probe one axis: no function required

COMMENTS_AND_STRINGS = """#include <stdint.h>
/* goto fail; malloc(16); while (1) { } -- words in a comment */
static const char *const note = "goto end; p = malloc(8); while(1){}"; // free(p); goto x;

/**
 * @brief Length of the note.
 * @return Its length.
 */
uint32_t note_length(void)
{
    uint32_t n = 0U;
    while (note[n] != '\\0') {
        n++;
    }
    return n;
}
"""
REAL_VIOLATIONS = """#include <stdint.h>
#include <stdlib.h>

/**
 * @brief Busy work with everything the prompts forbid.
 * @param x Input.
 * @return Something.
 */
uint32_t bad(uint32_t x)
{
    uint32_t *p = (uint32_t *)malloc(4U);
    uint32_t result = 0U;
    while (1) {
        if (x > 3U) {
            goto out;
        }
        x++;
    }
out:
    if (p != NULL) {
        *p = x;
        result = *p;
    }
    free(p);
    return result;
}
"""
RECURSION = """#include <stdint.h>

/**
 * @brief Factorial, recursively.
 * @param n Argument.
 * @return n!
 */
uint32_t fact(uint32_t n)
{
    return (n == 0U) ? 1U : n * fact(n - 1U);
}
"""
MUTUAL_RECURSION = """#include <stdint.h>
#include <stdbool.h>

static bool is_odd(uint32_t n);

/**
 * @brief Parity by mutual recursion.
 * @param n Argument.
 * @return true when n is even.
 */
static bool is_even(uint32_t n)
{
    return (n == 0U) ? true : is_odd(n - 1U);
}

/**
 * @brief Parity by mutual recursion.
 * @param n Argument.
 * @return true when n is odd.
 */
static bool is_odd(uint32_t n)
{
    return (n == 0U) ? false : is_even(n - 1U);
}

/**
 * @brief Public entry.
 * @param n Argument.
 * @return true when n is even.
 */
bool parity_even(uint32_t n)
{
    return is_even(n);
}
"""
SWITCH_NO_DEFAULT = """#include <stdint.h>

/**
 * @brief Map a code.
 * @param code Input code.
 * @return Mapped value.
 */
uint8_t map_code(uint8_t code)
{
    uint8_t value = 0U;
    switch (code) {
    case 1U:
        value = 10U;
        break;
    case 2U:
        value = 20U;
        break;
    }
    return value;
}
"""
OLD_STYLE = """unsigned int mask = 0777;

static bump(int step)
{
    return step + 1;
}
"""
IMPLICIT_INT_OBJECT = """static count = 0;
"""
GOTO_ONLY = """#include <stdint.h>

/**
 * @brief Clamp with a goto.
 * @param x Input.
 * @return x, at most 10.
 */
uint32_t clamp10(uint32_t x)
{
    uint32_t result = x;
    if (x <= 10U) {
        goto done;
    }
    result = 10U;
done:
    return result;
}
"""
UNDOCUMENTED = """#include <stdint.h>

uint16_t add16(uint16_t a, uint16_t b)
{
    return (uint16_t)(a + b);
}
"""
NO_INCLUDE = """/**
 * @brief Add two bytes.
 * @param a First.
 * @param b Second.
 * @return The sum, wrapped.
 */
uint8_t add8(uint8_t a, uint8_t b)
{
    return (uint8_t)(a + b);
}
"""
WARNING = """#include <stdint.h>

/**
 * @brief Compare.
 * @param a First.
 * @param b Second.
 * @return 1 when a is less than b.
 */
uint8_t less(int32_t a, uint32_t b)
{
    uint8_t unused_local;
    return (a < b) ? 1U : 0U;
}
"""
UNINITIALISED = """#include <stdint.h>

/**
 * @brief Sum of a buffer, with a bug.
 * @param data Bytes.
 * @return Their sum.
 */
uint32_t buggy_sum(const uint8_t data[4])
{
    uint32_t total;
    uint32_t i;
    for (i = 0U; i < 4U; i++) {
        total += data[i];
    }
    return total;
}
"""


@pytest.fixture(scope="module")
def params() -> Params:
    return parse({"gate": {"c_code": {"harness": {"cpu_seconds": 1, "wall_seconds": 5}}}})


@pytest.fixture(scope="module")
def scored(params, tmp_path_factory) -> dict[str, dict]:
    secret = tmp_path_factory.mktemp("outside") / "secret.h"
    secret.write_text('#error "the gate read a file outside the answer"\n')
    wrong_avtp = AVTP.replace("0x22F0U", "0x22F1U")
    samples = [record(f"ref-{name}", code, checks) for name, (code, checks) in REFERENCES.items()]
    samples += [
        record("comments-strings", COMMENTS_AND_STRINGS, NO_FUNCTION),
        record("real-violations", REAL_VIOLATIONS, NO_FUNCTION),
        record("recursion", RECURSION, NO_FUNCTION),
        record("mutual-recursion", MUTUAL_RECURSION, NO_FUNCTION),
        record("switch-no-default", SWITCH_NO_DEFAULT, NO_FUNCTION),
        record("old-style", OLD_STYLE, NO_FUNCTION),
        record("implicit-int-object", IMPLICIT_INT_OBJECT, NO_FUNCTION),
        record("undocumented", UNDOCUMENTED, NO_FUNCTION),
        record("no-include", NO_INCLUDE, NO_FUNCTION),
        record("warning", WARNING, NO_FUNCTION),
        record("uninitialised", UNINITIALISED, NO_FUNCTION),
        record("wrong-avtp", wrong_avtp, AVTP_CHECKS),
        record(
            "avtp-no-constant",
            AVTP.replace("#define AVTP_ETHERTYPE 0x22F0U\n", "").replace("AVTP_ETHERTYPE", "0x22F0U"),
            AVTP_CHECKS,
        ),
        record("wrong-vlan-shift", VLAN.replace("<< 13U", "<< 12U"), VLAN_CHECKS),
        record("truncated-fence", "Here is the code:\n```c\n" + VLAN[:420], VLAN_CHECKS),
        record("generator-cut", VLAN, VLAN_CHECKS, truncated=True),
        record("empty", "", VLAN_CHECKS),
        record("prose-only", "I am sorry, I cannot help with that.", VLAN_CHECKS),
        record(
            "lone-define",
            "#include <stdint.h>\n#define VLAN_TPID 0x8100U\n"
            "#define vlan_tci_pack(p, d, v) ((uint16_t)(((p) << 13) | ((d) << 12) | (v)))\n",
            VLAN_CHECKS,
        ),
        record(
            "prototype-only",
            "#include <stdint.h>\n#define VLAN_TPID 0x8100U\n"
            "uint16_t vlan_tci_pack(uint8_t pcp, uint8_t dei, uint16_t vid);\n",
            VLAN_CHECKS,
        ),
        record("wrong-signature", VLAN.replace("uint16_t vid)", "uint32_t vid)"), VLAN_CHECKS),
        record("with-main", VLAN + "\nint main(void)\n{\n    return (int)vlan_tci_pack(1U, 0U, 2U);\n}\n", VLAN_CHECKS),
        record(
            "fenced-in-prose",
            "Sure! Here is the implementation.\n\n```c\n" + CRC + "```\n\nIt loops over every bit.",
            CRC_CHECKS,
        ),
        record("unfenced-in-prose", "Here is the implementation:\n" + CRC + "This computes CRC-8/SMBUS.", CRC_CHECKS),
        record("absolute-include", f'#include "{secret}"\n' + CRC, CRC_CHECKS),
        record("dotdot-include", '#include "../../etc/passwd"\n' + CRC, CRC_CHECKS),
        record(
            "signature-from-prompt",
            CRC,
            None,
            prompt="Implement `uint8_t crc8_smbus(const uint8_t *data, size_t len)` in C99.",
        ),
        record(
            "missing-from-prompt",
            VLAN,
            None,
            prompt="Implement `uint8_t crc8_smbus(const uint8_t *data, size_t len)` in C99.",
        ),
        record("harness-without-function-name", CRC, {"harness": CRC_CHECKS["harness"]}, prompt="Write a CRC."),
    ]
    results = score_records(samples, params.gate)
    assert [r["id"] for r in results] == [s["id"] for s in samples]  # order kept
    return {r["id"]: r for r in results}


def ids(result: dict) -> set[str]:
    return {finding["id"] for finding in result["findings"]}


def test_scored_record_format(scored):
    result = scored["ref-vlan"]
    assert result["output"] == VLAN and result["checks"] == VLAN_CHECKS  # the record is kept
    assert set(result) >= {"score", "axes", "passed", "truncated", "findings"}
    assert 0 <= result["score"] <= 10 and all(0 <= v <= 10 for v in result["axes"].values())
    assert all(set(f) <= {"id", "line", "message"} and f["message"] for f in result["findings"])
    json.dumps(result)


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_own_references_pass_their_gate(scored, name):
    result = scored[f"ref-{name}"]
    assert result["passed"], result["findings"]
    assert result["axes"]["syntax"] == 10 and result["axes"]["function"] == 10
    assert result["score"] >= 9.5


def test_every_bundled_reference_passes_its_own_gate(params):
    assert SEED.exists(), f"{SEED} is missing: the bundled C seed data must ship with the gate"
    records = [json.loads(line) for line in SEED.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(records) >= 50
    results = score_records([{**r, "output": r["reference"]} for r in records], params.gate)
    failed = {r["id"]: [f for f in r["findings"] if f["id"] != "misra-c2012-8.4"] for r in results if not r["passed"]}
    assert not failed
    harnessed = [r for r in results if (r.get("checks") or {}).get("harness")]
    assert harnessed and all(r["axes"]["function"] == 10 for r in harnessed)


def test_words_in_comments_and_strings_are_not_findings(scored):
    result = scored["comments-strings"]
    assert not ids(result) & {"misra-c2012-15.1", "misra-c2012-21.3", "misra-c2012-14.4", "misra-c2012-17.2"}
    assert result["axes"]["safety"] >= 9


def test_real_goto_malloc_and_while1_are_findings(scored):
    result = scored["real-violations"]
    found = ids(result)
    assert {"misra-c2012-15.1", "misra-c2012-21.3", "misra-c2012-14.4"} <= found
    lines = {f["line"] for f in result["findings"] if f["id"] == "misra-c2012-21.3"}
    assert lines == {11, 24}  # malloc and free, on their own lines
    assert result["axes"]["safety"] < 6 and not result["passed"]


def test_recursion_direct_and_mutual(scored):
    assert "misra-c2012-17.2" in ids(scored["recursion"])
    mutual = [f for f in scored["mutual-recursion"]["findings"] if f["id"] == "misra-c2012-17.2"]
    assert {f["line"] for f in mutual} >= {11, 21}  # both is_even and is_odd, not parity_even
    assert all(f["line"] != 31 for f in mutual)


def test_switch_without_default(scored):
    assert "misra-c2012-16.4" in ids(scored["switch-no-default"])
    assert "misra-c2012-16.4" not in ids(scored["ref-gptp"])


def test_ast_checks_cppcheck_misses(scored):
    found = ids(scored["old-style"])
    assert {"misra-c2012-8.1", "misra-c2012-dir-4.6", "misra-c2012-7.1"} <= found
    assert "misra-c2012-8.1" in ids(scored["implicit-int-object"])


def test_cppcheck_defects_count_for_safety(scored):
    found = [f for f in scored["uninitialised"]["findings"] if f["id"].startswith("cppcheck-")]
    assert found and "Uninitialized variable: total" in found[0]["message"] and found[0]["line"] == 13
    assert scored["uninitialised"]["axes"]["safety"] <= 7


def test_undocumented_parameters_cost_style(scored):
    result = scored["undocumented"]
    assert [f["message"] for f in result["findings"] if f["id"] == "style-param-doc"] == [
        "parameter `a` of add16 is not documented",
        "parameter `b` of add16 is not documented",
    ]
    assert "style-doc" in ids(result) and result["axes"]["style"] <= 7


def test_strict_then_lenient_syntax(scored, params):
    result = scored["no-include"]
    assert result["axes"]["syntax"] == params.gate.c_code.lenient_score
    assert "compile" in ids(result) and not result["passed"]
    warned = scored["warning"]
    assert "compile-warning" in ids(warned) and 0 < warned["axes"]["syntax"] < 10 and not warned["passed"]


def test_wrong_avtp_ethertype(scored):
    result = scored["wrong-avtp"]
    messages = [f["message"] for f in result["findings"] if f["id"] == "protocol-ethertype_avtp"]
    assert messages and "AVTP_ETHERTYPE must be 0x22f0" in messages[0]
    assert result["axes"]["protocol"] == 0 and result["axes"]["function"] < 10 and not result["passed"]


def test_identifier_the_prompt_asked_for_must_exist(scored):
    result = scored["avtp-no-constant"]
    assert any("AVTP_ETHERTYPE is not defined" in f["message"] for f in result["findings"])
    assert result["axes"]["function"] == 10 and result["axes"]["protocol"] == 0 and not result["passed"]


def test_behavioural_fact_is_judged_by_the_harness(scored):
    result = scored["wrong-vlan-shift"]
    assert result["axes"]["function"] < 10 and "harness" in ids(result) and not result["passed"]
    assert "protocol-vlan_tci_layout" not in ids(result)  # no keyword guessing when a harness exists


def test_truncated_fence(scored):
    result = scored["truncated-fence"]
    assert result["truncated"] and "truncated" in ids(result) and not result["passed"]
    assert result["axes"]["syntax"] == 0
    cut = scored["generator-cut"]
    assert cut["truncated"] and "truncated" in ids(cut) and cut["passed"]  # complete code still counts


def test_empty_and_prose_only_answers(scored):
    for name in ("empty", "prose-only"):
        result = scored[name]
        assert result["score"] == 0 and not result["passed"] and "empty" in ids(result)
        assert set(result["axes"].values()) == {0.0}


def test_answer_must_define_the_requested_function(scored, params):
    for name in ("lone-define", "prototype-only"):
        result = scored[name]
        assert "function-missing" in ids(result) and not result["passed"]
        assert result["score"] <= params.gate.c_code.missing_function_cap
        assert result["axes"]["function"] == 0
    wrong = scored["wrong-signature"]
    assert "signature" in ids(wrong) and not wrong["passed"]


def test_answer_with_main_is_still_tested(scored):
    result = scored["with-main"]
    assert result["axes"]["function"] == 10 and "style-main" in ids(result)


def test_code_inside_prose(scored):
    for name in ("fenced-in-prose", "unfenced-in-prose"):
        assert scored[name]["passed"], scored[name]["findings"]


def test_includes_outside_the_answer_are_never_read(scored):
    for name in ("absolute-include", "dotdot-include"):
        result = scored[name]
        assert "include-path" in ids(result) and "compile" not in ids(result)  # gcc never saw it
        assert result["axes"]["syntax"] == 0 and not result["passed"]


def test_function_from_a_signature_quoted_in_the_prompt(scored):
    assert requested_function({"prompt": "Implement `uint8_t crc8_smbus(const uint8_t *data, size_t len)`."}) == (
        "uint8_t crc8_smbus(const uint8_t *data, size_t len)"[8:].split("(")[0],
        "uint8_t crc8_smbus(const uint8_t *data, size_t len)",
    )
    assert scored["signature-from-prompt"]["passed"]
    missing = scored["missing-from-prompt"]
    assert "function-missing" in ids(missing) and not missing["passed"]


def test_a_harness_alone_is_enough_for_the_function_axis(scored):
    result = scored["harness-without-function-name"]
    assert result["axes"]["function"] == 10 and result["passed"]


def test_score_is_the_weighted_mean_of_the_axes_that_apply(scored, params):
    weights = params.gate.c_code.weights
    for result in (scored["ref-crc"], scored["undocumented"], scored["wrong-avtp"]):
        axes = result["axes"]
        expected = sum(weights[a] * v for a, v in axes.items()) / sum(weights[a] for a in axes)
        assert result["score"] == pytest.approx(expected, abs=0.01)
    assert "protocol" not in scored["ref-crc"]["axes"]  # no facts named: the axis does not apply


def test_batch_attribution_matches_scoring_alone(scored, params):
    names = ["real-violations", "no-include", "ref-avtp", "wrong-avtp"]
    samples = {
        "real-violations": record("real-violations", REAL_VIOLATIONS, NO_FUNCTION),
        "no-include": record("no-include", NO_INCLUDE, NO_FUNCTION),
        "ref-avtp": record("ref-avtp", AVTP, AVTP_CHECKS),
        "wrong-avtp": record("wrong-avtp", AVTP.replace("0x22F0U", "0x22F1U"), AVTP_CHECKS),
    }
    for name in names:
        alone = score_records([samples[name]], params.gate)[0]
        assert (alone["score"], alone["axes"], ids(alone)) == (
            scored[name]["score"],
            scored[name]["axes"],
            ids(scored[name]),
        )


def test_rule_weights_come_from_params(params):
    sample = record("goto", GOTO_ONLY, NO_FUNCTION)
    # rule_weights is the whole table: a partial one would cost every other rule default_rule_weight
    lenient = parse({"gate": {"c_code": {"rule_weights": {**DEFAULT_RULE_WEIGHTS, "misra-c2012-15.1": 0.0}}}})
    (strict_result,) = score_records([sample], params.gate)
    (lenient_result,) = score_records([sample], lenient.gate)
    assert "misra-c2012-15.1" in ids(strict_result) and "misra-c2012-15.1" in ids(lenient_result)
    assert lenient_result["axes"]["safety"] == pytest.approx(strict_result["axes"]["safety"] + 3.0)


def test_summary_of_a_scored_split(scored, params):
    results = list(scored.values())
    summary = summarise(results, params.gate)
    assert summary["count"] == len(results)
    assert summary["pass_rate"] == pytest.approx(sum(r["passed"] for r in results) / len(results), abs=1e-4)
    assert sum(summary["histogram"].values()) == len(results)
    assert summary["findings"]["empty"] == 2 and summary["truncation_rate"] > 0
    assert set(summary["axes"]) == {"syntax", "function", "protocol", "safety", "style"}
    assert "pearson_r" not in summary


def test_a_pathological_sample_does_not_take_the_batch_down():
    """A macro bomb (2^21 tokens) outlasts the tool timeout: it gets a finding, its neighbours are scored
    as if it were not there."""
    bomb = "#define A0 +1\n" + "".join(f"#define A{i} A{i - 1} A{i - 1}\n" for i in range(1, 22)) + "int v = 0 A21;\n"
    params = parse({"gate": {"workers": 1, "c_code": {"tool_timeout_seconds": 1}}})  # one batch for both
    results = score_records([record("bomb", bomb, NO_FUNCTION), record("crc", CRC, CRC_CHECKS)], params.gate)
    bomb_result, crc_result = results
    assert any("timed out" in f["message"] for f in bomb_result["findings"]) and not bomb_result["passed"]
    assert crc_result["passed"] and crc_result["axes"]["syntax"] == 10, crc_result["findings"]

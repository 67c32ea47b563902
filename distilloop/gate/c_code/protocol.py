"""THE table of TSN/AVB protocol facts the gate checks, and how each is checked.

A record names the facts it asks for in `checks.facts`: fact -> the identifier the prompt asks the
answer to define, or null when the fact is behavioural. A named identifier is checked by a compile-time
probe appended after the answer (`typedef char probe[(NAME == VALUE) ? 1 : -1];` fails to compile when
the value is wrong, and names the identifier when it is missing), or, for a `static const` object,
by evaluating its initializer from the AST. A fact without an identifier is checked from the code's
behaviour: where the record has a harness, the harness judges it (the function axis); without one,
it is checked from the code's own constants (integer literals outside comments and strings, macro
bodies included) where the fact has such evidence (timestamp wrap, Qbv interval rules and Qav slope
arithmetic have none). Nothing here looks at words.

Names and values are the standards' (the canonical list of this module): 802.1Q, 802.1AS, 1722, Qav/Qbv, SRP.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAC_GPTP = (0x01, 0x80, 0xC2, 0x00, 0x00, 0x0E)


@dataclass(frozen=True)
class Fact:
    value: int | tuple[int, ...] | None  # what a named identifier must equal (None: no single value)
    evidence: tuple[tuple[int, ...], ...] = ()  # without an identifier: each group needs one of its values
    about: str = ""


def _scalar(value: int, about: str) -> Fact:
    return Fact(value, ((value,),), about)


FACTS: dict[str, Fact] = {
    "ethertype_avtp": _scalar(0x22F0, "IEEE 1722 AVTP EtherType 0x22F0"),
    "ethertype_msrp": _scalar(0x22EA, "MSRP EtherType 0x22EA"),
    "ethertype_gptp": _scalar(0x88F7, "gPTP/PTP EtherType 0x88F7"),
    "ethertype_ctag": _scalar(0x8100, "802.1Q C-tag TPID 0x8100"),
    "ethertype_stag": _scalar(0x88A8, "802.1ad S-tag TPID 0x88A8"),
    "vlan_tci_layout": Fact(None, ((13, 0xE000), (0xFFF,)), "TCI: PCP bits 15..13, DEI bit 12, VID bits 11..0"),
    "vlan_vid_reserved": Fact(None, ((0xFFF, 0xFFE),), "VID 0x000 and 0xFFF are reserved"),
    "srp_class_a_pcp": _scalar(3, "SRP class A uses PCP 3"),
    "srp_class_a_interval_us": _scalar(125, "SRP class A interval 125 us"),
    "srp_class_b_pcp": _scalar(2, "SRP class B uses PCP 2"),
    "srp_class_b_interval_us": _scalar(250, "SRP class B interval 250 us"),
    "gptp_dest_mac": Fact(MAC_GPTP, (), "gPTP destination MAC 01-80-C2-00-00-0E"),
    "gptp_msg_sync": _scalar(0x0, "gPTP messageType Sync 0x0"),
    "gptp_msg_pdelay_req": _scalar(0x2, "gPTP messageType Pdelay_Req 0x2"),
    "gptp_msg_pdelay_resp": _scalar(0x3, "gPTP messageType Pdelay_Resp 0x3"),
    "gptp_msg_follow_up": _scalar(0x8, "gPTP messageType Follow_Up 0x8"),
    "gptp_msg_pdelay_resp_follow_up": _scalar(0xA, "gPTP messageType Pdelay_Resp_Follow_Up 0xA"),
    "gptp_msg_announce": _scalar(0xB, "gPTP messageType Announce 0xB"),
    "ptp_ns_per_second": _scalar(1_000_000_000, "PTP nanoseconds field < 1e9"),
    "avtp_subtype_aaf": _scalar(0x02, "AVTP subtype AAF 0x02"),
    "avtp_subtype_cvf": _scalar(0x03, "AVTP subtype CVF 0x03"),
    "avtp_subtype_crf": _scalar(0x04, "AVTP subtype CRF 0x04"),
    "avtp_timestamp_wrap": Fact(None, (), "avtp_timestamp is 32-bit and wraps"),
    "qbv_gate_bits": Fact(None, (), "gate-state octet: bit i = traffic class i"),
    "qbv_interval_rules": Fact(None, (), "interval > 0 ns; sum of intervals <= cycle time"),
    "qav_send_slope": Fact(None, (), "sendSlope = idleSlope - portTransmitRate"),
}
# Facts implied by a task family when a record names none (e.g. user data with only a family).
FAMILY_FACTS = {
    "vlan_tag": ("ethertype_ctag", "vlan_tci_layout"),
    "avtp_header": ("ethertype_avtp",),
    "gptp_message": ("ethertype_gptp",),
    "srp_class": ("srp_class_a_pcp", "srp_class_b_pcp"),
}


def requested(checks: dict | None) -> dict[str, str | None]:
    """fact -> identifier or None, for the facts this record asks about (unknown names are dropped by
    the caller with a finding, so a typo in data never passes silently)."""
    checks = checks or {}
    if isinstance(checks.get("facts"), dict):
        return dict(checks["facts"])
    return {name: None for name in FAMILY_FACTS.get(str(checks.get("family", "")), ())}


def probe_lines(facts: dict[str, str | None]) -> list[tuple[str, str]]:
    """(fact, one line of C) for every fact with a named identifier and a scalar value."""
    lines = []
    for number, (name, identifier) in enumerate(sorted(facts.items())):
        fact = FACTS.get(name)
        if fact is None or not _is_identifier(identifier) or not isinstance(fact.value, int):
            continue
        lines.append((name, f"typedef char distilloop_probe_{number}[(({identifier}) == {fact.value}) ? 1 : -1];"))
    return lines


def _is_identifier(text) -> bool:
    return isinstance(text, str) and re.fullmatch(r"[A-Za-z_]\w*", text) is not None


@dataclass
class Verdict:
    fact: str
    ok: bool | None  # None: the record names a fact this table does not know (a data error, reported)
    message: str


def judge(
    facts: dict[str, str | None],
    probe_errors: dict[str, str] | None,
    constants: dict[str, int],
    integers: list[int],
    defined_names: set[str],
    has_harness: bool,
) -> list[Verdict]:
    """A verdict for every fact that can be checked without running code.

    probe_errors: fact -> gcc's message for the probes that failed; None when the answer did not
    compile, so probes say nothing. constants: `const` objects with a value the AST could evaluate.
    integers: every integer literal in the code. defined_names: names the code defines. A fact
    without an identifier is behaviour: with a harness the harness judges it (function axis), so it
    is only judged here, from constants, when there is none.
    """
    verdicts = []
    for name, identifier in sorted(facts.items()):
        fact = FACTS.get(name)
        if fact is None:
            verdicts.append(Verdict(name, None, f"unknown protocol fact {name!r} in the record's checks (not scored)"))
        elif identifier and not _is_identifier(identifier):
            verdicts.append(
                Verdict(name, None, f"{identifier!r} in the record's checks is not a C identifier (not scored)")
            )
        elif not identifier and has_harness:
            continue
        elif identifier and isinstance(fact.value, int):
            verdicts.append(_judge_named(name, identifier, fact, probe_errors, constants))
        elif isinstance(fact.value, tuple):
            verdicts.append(_judge_sequence(name, identifier, fact, integers, defined_names))
        elif fact.evidence:
            missing = [group for group in fact.evidence if not any(value in integers for value in group)]
            ok = not missing
            verdicts.append(
                Verdict(
                    name,
                    ok,
                    ""
                    if ok
                    else f"{fact.about}: no constant "
                    + " / ".join(" or ".join(hex(v) for v in group) for group in missing)
                    + " in the code",
                )
            )
    return verdicts


def _judge_named(name, identifier, fact, probe_errors, constants) -> Verdict:
    want = f"{identifier} must be {fact.value:#x}" if fact.value > 9 else f"{identifier} must be {fact.value}"
    if identifier in constants:  # a const object: not a constant expression for the probe, so from the AST
        got = constants[identifier]
        return Verdict(name, got == fact.value, "" if got == fact.value else f"{fact.about}: {want} (is {got:#x})")
    if probe_errors is None:
        return Verdict(name, False, f"{fact.about}: {identifier} could not be checked (the code does not compile)")
    error = probe_errors.get(name)
    if error is None:
        return Verdict(name, True, "")
    if "undeclared" in error:
        return Verdict(name, False, f"{fact.about}: {identifier} is not defined")
    if "negative" in error:
        return Verdict(name, False, f"{fact.about}: {want}")
    return Verdict(name, False, f"{fact.about}: {identifier} is not an integer constant ({error[:120]})")


def _judge_sequence(name, identifier, fact, integers, defined_names) -> Verdict:
    values = fact.value
    as_number = int.from_bytes(bytes(values), "big")
    found = as_number in integers or any(
        tuple(integers[i : i + len(values)]) == values for i in range(len(integers) - len(values) + 1)
    )
    if identifier and identifier not in defined_names:
        return Verdict(name, False, f"{fact.about}: {identifier} is not defined")
    return Verdict(
        name,
        found,
        "" if found else f"{fact.about}: the bytes {'-'.join(f'{v:02X}' for v in values)} are not in the code",
    )

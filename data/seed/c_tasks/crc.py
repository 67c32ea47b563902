"""CRCs by their published catalogue parameters (width, poly, init, refin/refout, xorout, check of
"123456789"), bitwise and table-driven, one-shot and incremental. The expected values in the harnesses
come from the generic model below, which is checked against the catalogue check values at build time."""

from common import Family, pick

FAMILY = Family("crc", area="ECU communication stack (AUTOSAR-style CRC library)")


def reflect(value: int, width: int) -> int:
    return int(f"{value:0{width}b}"[::-1], 2)


def crc_model(data: bytes, width: int, poly: int, init: int, reflected: bool, xorout: int) -> int:
    """The Rocksoft/catalogue model (refin == refout for every CRC used here)."""
    mask, top = (1 << width) - 1, 1 << (width - 1)
    reg = init
    for byte in data:
        reg ^= (reflect(byte, 8) if reflected else byte) << (width - 8)
        for _ in range(8):
            reg = ((reg << 1) ^ poly) & mask if reg & top else (reg << 1) & mask
    if reflected:
        reg = reflect(reg, width)
    return reg ^ xorout


# name: (width, poly, init, reflected, xorout, check) from the CRC catalogue
CATALOGUE = {
    "CRC-8/SMBUS": (8, 0x07, 0x00, False, 0x00, 0xF4),
    "CRC-8/AUTOSAR": (8, 0x2F, 0xFF, False, 0xFF, 0xDF),
    "CRC-8/SAE-J1850": (8, 0x1D, 0xFF, False, 0xFF, 0x4B),
    "CRC-8/MAXIM-DOW": (8, 0x31, 0x00, True, 0x00, 0xA1),
    "CRC-16/IBM-3740": (16, 0x1021, 0xFFFF, False, 0x0000, 0x29B1),
    "CRC-16/ARC": (16, 0x8005, 0x0000, True, 0x0000, 0xBB3D),
    "CRC-16/MODBUS": (16, 0x8005, 0xFFFF, True, 0x0000, 0x4B37),
    "CRC-16/KERMIT": (16, 0x1021, 0x0000, True, 0x0000, 0x2189),
    "CRC-16/XMODEM": (16, 0x1021, 0x0000, False, 0x0000, 0x31C3),
    "CRC-32/ISO-HDLC": (32, 0x04C11DB7, 0xFFFFFFFF, True, 0xFFFFFFFF, 0xCBF43926),
    "CRC-32/ISCSI": (32, 0x1EDC6F41, 0xFFFFFFFF, True, 0xFFFFFFFF, 0xE3069283),
    "CRC-32/AUTOSAR": (32, 0xF4ACFB13, 0xFFFFFFFF, True, 0xFFFFFFFF, 0x1697D06A),
    "CRC-32/MPEG-2": (32, 0x04C11DB7, 0xFFFFFFFF, False, 0x00000000, 0x0376E6E7),
}
# The rest of the catalogue (reveng "Catalogue of parametrised CRC algorithms"), for the generated
# variants at the end of this module; every check value is verified against the model below.
ALL_ONES64 = 0xFFFFFFFFFFFFFFFF
CATALOGUE_MORE = {
    "CRC-8/BLUETOOTH": (8, 0xA7, 0x00, True, 0x00, 0x26),
    "CRC-8/CDMA2000": (8, 0x9B, 0xFF, False, 0x00, 0xDA),
    "CRC-8/DARC": (8, 0x39, 0x00, True, 0x00, 0x15),
    "CRC-8/DVB-S2": (8, 0xD5, 0x00, False, 0x00, 0xBC),
    "CRC-8/GSM-A": (8, 0x1D, 0x00, False, 0x00, 0x37),
    "CRC-8/GSM-B": (8, 0x49, 0x00, False, 0xFF, 0x94),
    "CRC-8/HITAG": (8, 0x1D, 0xFF, False, 0x00, 0xB4),
    "CRC-8/I-432-1": (8, 0x07, 0x00, False, 0x55, 0xA1),
    "CRC-8/I-CODE": (8, 0x1D, 0xFD, False, 0x00, 0x7E),
    "CRC-8/LTE": (8, 0x9B, 0x00, False, 0x00, 0xEA),
    "CRC-8/MIFARE-MAD": (8, 0x1D, 0xC7, False, 0x00, 0x99),
    "CRC-8/NRSC-5": (8, 0x31, 0xFF, False, 0x00, 0xF7),
    "CRC-8/OPENSAFETY": (8, 0x2F, 0x00, False, 0x00, 0x3E),
    "CRC-8/ROHC": (8, 0x07, 0xFF, True, 0x00, 0xD0),
    "CRC-8/TECH-3250": (8, 0x1D, 0xFF, True, 0x00, 0x97),
    "CRC-8/WCDMA": (8, 0x9B, 0x00, True, 0x00, 0x25),
    "CRC-16/CDMA2000": (16, 0xC867, 0xFFFF, False, 0x0000, 0x4C06),
    "CRC-16/CMS": (16, 0x8005, 0xFFFF, False, 0x0000, 0xAEE7),
    "CRC-16/DDS-110": (16, 0x8005, 0x800D, False, 0x0000, 0x9ECF),
    "CRC-16/DECT-R": (16, 0x0589, 0x0000, False, 0x0001, 0x007E),
    "CRC-16/DECT-X": (16, 0x0589, 0x0000, False, 0x0000, 0x007F),
    "CRC-16/DNP": (16, 0x3D65, 0x0000, True, 0xFFFF, 0xEA82),
    "CRC-16/EN-13757": (16, 0x3D65, 0x0000, False, 0xFFFF, 0xC2B7),
    "CRC-16/GENIBUS": (16, 0x1021, 0xFFFF, False, 0xFFFF, 0xD64E),
    "CRC-16/GSM": (16, 0x1021, 0x0000, False, 0xFFFF, 0xCE3C),
    "CRC-16/IBM-SDLC": (16, 0x1021, 0xFFFF, True, 0xFFFF, 0x906E),
    "CRC-16/ISO-IEC-14443-3-A": (16, 0x1021, 0xC6C6, True, 0x0000, 0xBF05),
    "CRC-16/LJ1200": (16, 0x6F63, 0x0000, False, 0x0000, 0xBDF4),
    "CRC-16/M17": (16, 0x5935, 0xFFFF, False, 0x0000, 0x772B),
    "CRC-16/MAXIM-DOW": (16, 0x8005, 0x0000, True, 0xFFFF, 0x44C2),
    "CRC-16/MCRF4XX": (16, 0x1021, 0xFFFF, True, 0x0000, 0x6F91),
    "CRC-16/NRSC-5": (16, 0x080B, 0xFFFF, True, 0x0000, 0xA066),
    "CRC-16/OPENSAFETY-A": (16, 0x5935, 0x0000, False, 0x0000, 0x5D38),
    "CRC-16/OPENSAFETY-B": (16, 0x755B, 0x0000, False, 0x0000, 0x20FE),
    "CRC-16/PROFIBUS": (16, 0x1DCF, 0xFFFF, False, 0xFFFF, 0xA819),
    "CRC-16/RIELLO": (16, 0x1021, 0xB2AA, True, 0x0000, 0x63D0),
    "CRC-16/SPI-FUJITSU": (16, 0x1021, 0x1D0F, False, 0x0000, 0xE5CC),
    "CRC-16/T10-DIF": (16, 0x8BB7, 0x0000, False, 0x0000, 0xD0DB),
    "CRC-16/TELEDISK": (16, 0xA097, 0x0000, False, 0x0000, 0x0FB3),
    "CRC-16/TMS37157": (16, 0x1021, 0x89EC, True, 0x0000, 0x26B1),
    "CRC-16/UMTS": (16, 0x8005, 0x0000, False, 0x0000, 0xFEE8),
    "CRC-16/USB": (16, 0x8005, 0xFFFF, True, 0xFFFF, 0xB4C8),
    "CRC-24/BLE": (24, 0x00065B, 0x555555, True, 0x000000, 0xC25A56),
    "CRC-24/FLEXRAY-A": (24, 0x5D6DCB, 0xFEDCBA, False, 0x000000, 0x7979BD),
    "CRC-24/FLEXRAY-B": (24, 0x5D6DCB, 0xABCDEF, False, 0x000000, 0x1F23B8),
    "CRC-24/INTERLAKEN": (24, 0x328B63, 0xFFFFFF, False, 0xFFFFFF, 0xB4F3E6),
    "CRC-24/LTE-A": (24, 0x864CFB, 0x000000, False, 0x000000, 0xCDE703),
    "CRC-24/LTE-B": (24, 0x800063, 0x000000, False, 0x000000, 0x23EF52),
    "CRC-24/OPENPGP": (24, 0x864CFB, 0xB704CE, False, 0x000000, 0x21CF02),
    "CRC-24/OS-9": (24, 0x800063, 0xFFFFFF, False, 0xFFFFFF, 0x200FA5),
    "CRC-32/AIXM": (32, 0x814141AB, 0x00000000, False, 0x00000000, 0x3010BF7F),
    "CRC-32/BASE91-D": (32, 0xA833982B, 0xFFFFFFFF, True, 0xFFFFFFFF, 0x87315576),
    "CRC-32/BZIP2": (32, 0x04C11DB7, 0xFFFFFFFF, False, 0xFFFFFFFF, 0xFC891918),
    "CRC-32/CD-ROM-EDC": (32, 0x8001801B, 0x00000000, True, 0x00000000, 0x6EC2EDC4),
    "CRC-32/CKSUM": (32, 0x04C11DB7, 0x00000000, False, 0xFFFFFFFF, 0x765E7680),
    "CRC-32/JAMCRC": (32, 0x04C11DB7, 0xFFFFFFFF, True, 0x00000000, 0x340BC6D9),
    "CRC-32/MEF": (32, 0x741B8CD7, 0xFFFFFFFF, True, 0x00000000, 0xD2C22F51),
    "CRC-32/XFER": (32, 0x000000AF, 0x00000000, False, 0x00000000, 0xBD0BE338),
    "CRC-64/ECMA-182": (64, 0x42F0E1EBA9EA3693, 0, False, 0, 0x6C40DF5F0B497347),
    "CRC-64/GO-ISO": (64, 0x000000000000001B, ALL_ONES64, True, ALL_ONES64, 0xB90956C775A41001),
    "CRC-64/MS": (64, 0x259C84CBA6426349, ALL_ONES64, True, 0, 0x75D4B74F024ECEEA),
    "CRC-64/NVME": (64, 0xAD93D23594C93659, ALL_ONES64, True, ALL_ONES64, 0xAE8B14860A799888),
    "CRC-64/REDIS": (64, 0xAD93D23594C935A9, 0, True, 0, 0xE9C6D914C4B8D9CA),
    "CRC-64/WE": (64, 0x42F0E1EBA9EA3693, ALL_ONES64, False, ALL_ONES64, 0x62EC59E3F1A4F00A),
    "CRC-64/XZ": (64, 0x42F0E1EBA9EA3693, ALL_ONES64, True, ALL_ONES64, 0x995DC9BBDF1939FA),
}
CATALOGUE.update(CATALOGUE_MORE)
for _name, (_w, _p, _i, _r, _x, _check) in CATALOGUE.items():
    assert crc_model(b"123456789", _w, _p, _i, _r, _x) == _check, _name

PATTERN = bytes(((i * 37) + 11) & 0xFF for i in range(32))
VECTORS = [("(const uint8_t *)\"123456789\"", b"123456789"), ("pattern", PATTERN), ("pattern", b""),
           ("zero", b"\x00"), ("ones", b"\xff\xff\xff\xff"), ("pattern", PATTERN[:5])]
HARNESS_DATA = (
    "static const uint8_t pattern[32] = {" + ", ".join(f"0x{b:02X}U" for b in PATTERN) + "};\n"
    "static const uint8_t zero[1] = {0x00U};\n"
    "static const uint8_t ones[4] = {0xFFU, 0xFFU, 0xFFU, 0xFFU};\n"
)
CTYPE = {8: "uint8_t", 16: "uint16_t", 24: "uint32_t", 32: "uint32_t", 64: "uint64_t"}
SUFFIX = {8: "U", 16: "U", 24: "U", 32: "U", 64: "ULL"}


def hexw(value: int, width: int) -> str:
    return f"0x{value:0{width // 4}X}{SUFFIX[width]}"


def params_text(name: str) -> str:
    width, poly, init, reflected, xorout, check = CATALOGUE[name]
    refl = "input and output reflected" if reflected else "not reflected"
    return (f"{name}: width {width}, polynomial {hexw(poly, width)[:-len(SUFFIX[width])]}, initial value "
            f"{hexw(init, width)[:-len(SUFFIX[width])]}, {refl}, final XOR {hexw(xorout, width)[:-len(SUFFIX[width])]}; "
            f"the check value over the ASCII string \"123456789\" is {hexw(check, width)[:-len(SUFFIX[width])]}")


def harness_for(function: str, name: str) -> str:
    width, poly, init, reflected, xorout, _ = CATALOGUE[name]
    lines = [HARNESS_DATA]
    for expr, data in VECTORS:
        want = crc_model(data, width, poly, init, reflected, xorout)
        lines.append(f"HX_U({function}({expr}, {len(data)}U), {hexw(want, width)});")
    return "\n".join(lines)


def crc_parts(name: str, macro: str, prefix: str) -> tuple[str, str, str, str]:
    """The C pieces of a bitwise CRC in the catalogue's own model: (#defines and helpers, feed one byte,
    shift one bit, finish the register). Every CRC shifts MSB-first with the polynomial and initial value
    exactly as the catalogue (and the prompt) gives them, masked to the width when it is not a C type's
    width; a reflected CRC reflects each input byte and the final register with a `<prefix>_reflect`
    helper. So the constants are copied, never bit-reversed by hand, and reflected and normal CRCs differ
    by the helper and its two calls."""
    width, poly, init, reflected, xorout, _ = CATALOGUE[name]
    ctype = CTYPE[width]
    masked = width not in (8, 16, 32, 64)
    byte = f"{prefix}_reflect(({ctype})data[i], 8U)" if reflected else f"({ctype})data[i]"
    feed = f"crc ^= {byte};" if width == 8 else f"crc ^= ({ctype})({byte} << {width - 8}U);"
    if masked:
        xored, shifted = f"(((crc << 1U) ^ {macro}_POLY) & {macro}_MASK)", f"((crc << 1U) & {macro}_MASK)"
    else:
        xored, shifted = f"((crc << 1U) ^ {macro}_POLY)", "(crc << 1U)"
    step = (f"if ((crc & {hexw(1 << (width - 1), width)}) != 0U) {{\n"
            f"                crc = ({ctype}){xored};\n"
            f"            }} else {{\n                crc = ({ctype}){shifted};\n            }}")
    defines = [f"#define {macro}_POLY {hexw(poly, width)}", f"#define {macro}_INIT {hexw(init, width)}",
               f"#define {macro}_XOROUT {hexw(xorout, width)}"]
    if masked:
        defines.append(f"#define {macro}_MASK {hexw((1 << width) - 1, width)}")
    if not reflected:
        return "\n".join(defines), feed, step, ""
    helper = f"""

/**
 * @brief Reverse the order of the lowest bits of a value (the catalogue's reflection).
 * @param value Value to reflect.
 * @param bits Number of low bits to reverse.
 * @return The value with those bits in reverse order.
 */
static {ctype} {prefix}_reflect({ctype} value, uint32_t bits)
{{
    {ctype} rest = value;
    {ctype} result = 0U;
    uint32_t bit;
    for (bit = 0U; bit < bits; bit++) {{
        result = ({ctype})((result << 1U) | (rest & 1U));
        rest = ({ctype})(rest >> 1U);
    }}
    return result;
}}"""
    return "\n".join(defines) + helper, feed, step, f"crc = {prefix}_reflect(crc, {width}U);"


def bitwise_reference(function: str, name: str, macro: str, brief: str) -> str:
    """A bitwise reference in the catalogue's model (see crc_parts)."""
    width = CATALOGUE[name][0]
    ctype = CTYPE[width]
    defines, feed, step, finish = crc_parts(name, macro, function)
    finish = f"\n    {finish}" if finish else ""
    return f"""\
#include <stddef.h>
#include <stdint.h>

{defines}

/**
 * @brief {brief}
 * @param data Bytes to checksum.
 * @param len Number of bytes in data.
 * @return The {name} of the bytes.
 */
{ctype} {function}(const uint8_t *data, size_t len)
{{
    {ctype} crc = {macro}_INIT;
    size_t i;
    uint32_t bit;
    for (i = 0U; i < len; i++) {{
        {feed}
        for (bit = 0U; bit < 8U; bit++) {{
            {step}
        }}
    }}{finish}
    return ({ctype})(crc ^ {macro}_XOROUT);
}}
"""


def add_bitwise(slug: str, difficulty: str, function: str, name: str, macro: str, brief: str, ask: str) -> None:
    width = CATALOGUE[name][0]
    FAMILY.add(slug, difficulty, ask=ask, signature=f"{CTYPE[width]} {function}(const uint8_t *data, size_t len)",
               reference=bitwise_reference(function, name, macro, brief), harness_body=harness_for(function, name))


add_bitwise("crc8-smbus", "easy", "crc8_smbus", "CRC-8/SMBUS", "CRC8_SMBUS",
            "CRC-8/SMBUS (poly 0x07, init 0x00, no reflection, no final XOR).",
            f"""Compute the PEC byte of an SMBus/PMBus transaction to the battery monitor IC, bit by bit.
            {params_text("CRC-8/SMBUS")}.""")
add_bitwise("crc8-autosar", "medium", "crc8_autosar", "CRC-8/AUTOSAR", "CRC8_H2F",
            "CRC-8/AUTOSAR (8H2F: poly 0x2F, init 0xFF, final XOR 0xFF).",
            f"""Implement the AUTOSAR 8-bit 0x2F-polynomial CRC used by E2E protection of short CAN signals,
            as a bitwise routine. {params_text("CRC-8/AUTOSAR")}.""")
add_bitwise("crc8-sae-j1850", "medium", "crc8_sae_j1850", "CRC-8/SAE-J1850", "CRC8_J1850",
            "CRC-8/SAE-J1850 (poly 0x1D, init 0xFF, final XOR 0xFF).",
            f"""The E2E profile 1 and 2 messages on our powertrain CAN use the SAE J1850 CRC-8. Implement
            it without a lookup table. {params_text("CRC-8/SAE-J1850")}.""")
add_bitwise("crc8-maxim", "medium", "crc8_maxim", "CRC-8/MAXIM-DOW", "CRC8_DOW",
            "CRC-8/MAXIM-DOW (1-Wire: poly 0x31 reflected, init 0x00).",
            f"""Validate the ROM code and scratchpad of 1-Wire temperature sensors with the Dallas/Maxim
            CRC-8, processing each byte least significant bit first. {params_text("CRC-8/MAXIM-DOW")}.""")
add_bitwise("crc16-ccitt-false", "easy", "crc16_ccitt_false", "CRC-16/IBM-3740", "CRC16_CCITT",
            "CRC-16/IBM-3740, also known as CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF).",
            f"""Our bootloader protects each flash block with the CRC commonly called CRC-16/CCITT-FALSE
            (catalogue name CRC-16/IBM-3740). Implement it bitwise. {params_text("CRC-16/IBM-3740")}.""")
add_bitwise("crc16-arc", "medium", "crc16_arc", "CRC-16/ARC", "CRC16_ARC",
            "CRC-16/ARC (poly 0x8005 reflected, init 0x0000).",
            f"""A legacy diagnostic tool checks its records with the "ARC" CRC-16 (also called CRC-16/IBM
            or CRC-16/LHA). Implement it bitwise. {params_text("CRC-16/ARC")}.""")
add_bitwise("crc16-modbus", "medium", "crc16_modbus", "CRC-16/MODBUS", "CRC16_MODBUS",
            "CRC-16/MODBUS (poly 0x8005 reflected, init 0xFFFF).",
            """The charging station talks Modbus RTU over RS-485. Compute the CRC-16/MODBUS of an RTU
            frame (the caller appends it low byte first): the reflected 0x8005 polynomial with initial
            value 0xFFFF and no final XOR; "123456789" gives 0x4B37.""")
add_bitwise("crc16-kermit", "medium", "crc16_kermit", "CRC-16/KERMIT", "CRC16_KERMIT",
            "CRC-16/KERMIT (poly 0x1021 reflected, init 0x0000).",
            f"""The wireless charging pad protocol uses the reflected CCITT CRC known as CRC-16/KERMIT.
            Implement it bitwise, least significant bit first. {params_text("CRC-16/KERMIT")}.""")
add_bitwise("crc32-iso-hdlc", "medium", "crc32_iso_hdlc", "CRC-32/ISO-HDLC", "CRC32",
            "CRC-32/ISO-HDLC, the CRC-32 of Ethernet, zlib and PNG.",
            """Compute the standard CRC-32 used by Ethernet, zlib and PNG (catalogue name CRC-32/ISO-HDLC)
            over a calibration data set, bit by bit without a table: reflected polynomial 0x04C11DB7,
            initial value and final XOR 0xFFFFFFFF; "123456789" gives 0xCBF43926.""")
add_bitwise("crc32-autosar", "medium", "crc32_autosar", "CRC-32/AUTOSAR", "CRC32_P4",
            "CRC-32/AUTOSAR (poly 0xF4ACFB13 reflected, init and final XOR 0xFFFFFFFF).",
            f"""E2E profile 4 protects large Ethernet PDUs with the AUTOSAR 32-bit CRC (polynomial
            0xF4ACFB13). Implement it bitwise. {params_text("CRC-32/AUTOSAR")}.""")
add_bitwise("crc32-mpeg2", "medium", "crc32_mpeg2", "CRC-32/MPEG-2", "CRC32_MPEG2",
            "CRC-32/MPEG-2 (poly 0x04C11DB7, not reflected, init 0xFFFFFFFF, no final XOR).",
            f"""The infotainment tuner checks DVB/MPEG-2 transport stream sections with the non-reflected
            CRC-32. Implement it bitwise, most significant bit first. {params_text("CRC-32/MPEG-2")}.""")


def xmodem_table() -> list[int]:
    return [crc_model(bytes([n]), 16, 0x1021, 0, False, 0) for n in range(256)]


TABLE_ROWS = ",\n".join(
    "        " + ", ".join(f"0x{v:04X}U" for v in xmodem_table()[row:row + 8]) for row in range(0, 256, 8))

FAMILY.add(
    "crc16-xmodem-table", "hard",
    ask=f"""The firmware update over UART uses XMODEM-CRC and must be fast, so implement CRC-16/XMODEM with
    a 256-entry lookup table kept in ROM as a const array (one table step per byte, most significant
    byte first). {params_text("CRC-16/XMODEM")}.""",
    signature="uint16_t crc16_xmodem(const uint8_t *data, size_t len)",
    reference=f"""\
#include <stddef.h>
#include <stdint.h>

/**
 * @brief CRC-16/XMODEM (poly 0x1021, init 0x0000, not reflected), table-driven.
 * @param data Bytes to checksum.
 * @param len Number of bytes in data.
 * @return The CRC-16/XMODEM of the bytes.
 */
uint16_t crc16_xmodem(const uint8_t *data, size_t len)
{{
    /* entry n is the CRC (poly 0x1021, init 0) of the single byte n; kept in ROM */
    static const uint16_t crc16_xmodem_table[256] = {{
{TABLE_ROWS}
    }};
    uint16_t crc = 0x0000U;
    size_t i;
    for (i = 0U; i < len; i++) {{
        uint32_t index = (((uint32_t)crc >> 8U) ^ (uint32_t)data[i]) & 0xFFU;
        crc = (uint16_t)(((uint32_t)crc << 8U) ^ (uint32_t)crc16_xmodem_table[index]);
    }}
    return crc;
}}
""",
    harness_body=harness_for("crc16_xmodem", "CRC-16/XMODEM"),
)

CASTAGNOLI_R = reflect(0x1EDC6F41, 32)


def nibble_table() -> list[int]:
    table = []
    for n in range(16):
        t = n
        for _ in range(4):
            t = (t >> 1) ^ CASTAGNOLI_R if t & 1 else t >> 1
        table.append(t)
    return table


NIBBLE_ROWS = ",\n".join(
    "        " + ", ".join(f"0x{v:08X}U" for v in nibble_table()[row:row + 4]) for row in range(0, 16, 4))

FAMILY.add(
    "crc32c-nibble", "hard",
    ask=f"""Compute CRC-32C (Castagnoli, catalogue name CRC-32/ISCSI) for our storage driver. Flash is
    tight, so use a 16-entry table and process each byte as two 4-bit steps, low nibble first.
    {params_text("CRC-32/ISCSI")}.""",
    signature="uint32_t crc32c(const uint8_t *data, size_t len)",
    reference=f"""\
#include <stddef.h>
#include <stdint.h>

/**
 * @brief CRC-32C (Castagnoli: poly 0x1EDC6F41 reflected, init and final XOR 0xFFFFFFFF).
 * @param data Bytes to checksum.
 * @param len Number of bytes in data.
 * @return The CRC-32C of the bytes.
 */
uint32_t crc32c(const uint8_t *data, size_t len)
{{
    /* reflected polynomial 0x82F63B78 applied to each 4-bit value */
    static const uint32_t crc32c_nibble_table[16] = {{
{NIBBLE_ROWS}
    }};
    uint32_t crc = 0xFFFFFFFFU;
    size_t i;
    for (i = 0U; i < len; i++) {{
        crc ^= (uint32_t)data[i];
        crc = (crc >> 4U) ^ crc32c_nibble_table[crc & 0x0FU];
        crc = (crc >> 4U) ^ crc32c_nibble_table[crc & 0x0FU];
    }}
    return crc ^ 0xFFFFFFFFU;
}}
""",
    harness_body=harness_for("crc32c", "CRC-32/ISCSI"),
)


FF4, ZERO = b"\xff" * 4, b"\x00"


def zlib_update(crc: int, data: bytes) -> int:
    import zlib

    return zlib.crc32(data, crc)


FAMILY.add(
    "crc32-update", "hard",
    ask="""Received blocks of a software image arrive in pieces, so the CRC-32 (Ethernet/zlib CRC-32,
    reflected polynomial 0x04C11DB7, init and final XOR 0xFFFFFFFF) must be computed incrementally,
    like zlib's crc32(): crc32_update(0, data, len) gives the CRC of data, and passing the result of one
    call as crc to the next continues over the concatenated input. len 0 returns crc unchanged.""",
    signature="uint32_t crc32_update(uint32_t crc, const uint8_t *data, size_t len)",
    reference="""\
#include <stddef.h>
#include <stdint.h>

#define CRC32_POLY_REFLECTED 0xEDB88320U

/**
 * @brief Continue a CRC-32 (ISO-HDLC) over more data, zlib style.
 * @param crc CRC of the data so far (0 to start).
 * @param data Next bytes.
 * @param len Number of bytes in data.
 * @return CRC of all data so far.
 */
uint32_t crc32_update(uint32_t crc, const uint8_t *data, size_t len)
{
    /* undo the final XOR of the previous call to get the shift register back */
    uint32_t reg = crc ^ 0xFFFFFFFFU;
    size_t i;
    uint32_t bit;
    for (i = 0U; i < len; i++) {
        reg ^= (uint32_t)data[i];
        for (bit = 0U; bit < 8U; bit++) {
            if ((reg & 1U) != 0U) {
                reg = (reg >> 1U) ^ CRC32_POLY_REFLECTED;
            } else {
                reg >>= 1U;
            }
        }
    }
    return reg ^ 0xFFFFFFFFU;
}
""",
    harness_body=HARNESS_DATA + "\n".join([
        "uint32_t crc = crc32_update(0U, (const uint8_t *)\"1234\", 4U);",
        f"HX_U(crc, 0x{zlib_update(0, b'1234'):08X}UL);",
        "crc = crc32_update(crc, (const uint8_t *)\"56789\", 5U);",
        "HX_U(crc, 0xCBF43926U);",
        "HX_U(crc32_update(crc, pattern, 0U), 0xCBF43926U);",
        f"HX_U(crc32_update(0U, pattern, 32U), 0x{zlib_update(0, PATTERN):08X}UL);",
        f"HX_U(crc32_update(0x12345678U, ones, 4U), 0x{zlib_update(0x12345678, FF4):08X}UL);",
        f"HX_U(crc32_update(crc32_update(0U, pattern, 7U), &pattern[7], 25U), 0x{zlib_update(0, PATTERN):08X}UL);",
        f"HX_U(crc32_update(0U, zero, 1U), 0x{zlib_update(0, ZERO):08X}UL);",
    ]),
)


def h2f_call(data: bytes, start: int, first: bool) -> int:
    init = 0xFF if first else start ^ 0xFF
    return crc_model(data, 8, 0x2F, init, False, 0xFF)


H2F_A = h2f_call(b"1234", 0, True)
H2F_B = h2f_call(b"56789", H2F_A, False)
assert H2F_B == 0xDF

FAMILY.add(
    "crc8h2f-incremental", "hard",
    ask="""Implement an AUTOSAR-style Crc_CalculateCRC8H2F that can be called repeatedly over consecutive
    pieces of data: CRC-8/AUTOSAR (polynomial 0x2F, not reflected, initial value 0xFF, final XOR 0xFF).
    On the first call (is_first_call true) the register starts at 0xFF and start_value is ignored; on
    later calls start_value is the result of the previous call, so the register starts at
    start_value ^ 0xFF to undo that call's final XOR. Over "123456789" in one call the result is 0xDF,
    and splitting the input across calls must give the same result.""",
    signature="uint8_t crc8h2f_calculate(const uint8_t *data, size_t len, uint8_t start_value, bool is_first_call)",
    reference="""\
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CRC8H2F_POLY 0x2FU
#define CRC8H2F_INIT 0xFFU
#define CRC8H2F_XOROUT 0xFFU

/**
 * @brief CRC-8/AUTOSAR (8H2F) over one piece of a possibly split input.
 * @param data Bytes of this piece.
 * @param len Number of bytes in data.
 * @param start_value Result of the previous call (ignored on the first call).
 * @param is_first_call true for the first piece.
 * @return The CRC of all pieces so far.
 */
uint8_t crc8h2f_calculate(const uint8_t *data, size_t len, uint8_t start_value, bool is_first_call)
{
    uint8_t crc = is_first_call ? CRC8H2F_INIT : (uint8_t)(start_value ^ CRC8H2F_XOROUT);
    size_t i;
    uint32_t bit;
    for (i = 0U; i < len; i++) {
        crc ^= data[i];
        for (bit = 0U; bit < 8U; bit++) {
            if ((crc & 0x80U) != 0U) {
                crc = (uint8_t)(((uint32_t)crc << 1U) ^ CRC8H2F_POLY);
            } else {
                crc = (uint8_t)(crc << 1U);
            }
        }
    }
    return (uint8_t)(crc ^ CRC8H2F_XOROUT);
}
""",
    harness_body=HARNESS_DATA + "\n".join([
        "uint8_t crc = crc8h2f_calculate((const uint8_t *)\"1234\", 4U, 0x55U, true);",
        f"HX_U(crc, 0x{H2F_A:02X}U);",
        "HX_U(crc8h2f_calculate((const uint8_t *)\"56789\", 5U, crc, false), 0xDFU);",
        "HX_U(crc8h2f_calculate((const uint8_t *)\"123456789\", 9U, 0U, true), 0xDFU);",
        f"HX_U(crc8h2f_calculate(pattern, 32U, 0U, true), 0x{h2f_call(PATTERN, 0, True):02X}U);",
        f"HX_U(crc8h2f_calculate(&pattern[10], 22U, crc8h2f_calculate(pattern, 10U, 0U, true), false), "
        f"0x{h2f_call(PATTERN, 0, True):02X}U);",
        "HX_U(crc8h2f_calculate(pattern, 0U, 0x3CU, false), 0x3CU);",
        f"HX_U(crc8h2f_calculate(zero, 1U, 0U, true), 0x{h2f_call(ZERO, 0, True):02X}U);",
        f"HX_U(crc8h2f_calculate(ones, 4U, 0x00U, false), 0x{h2f_call(FF4, 0, False):02X}U);",
    ]),
)


def ccitt(data: bytes) -> int:
    return crc_model(data, 16, 0x1021, 0xFFFF, False, 0)


FRAME = bytes([0x10, 0x22, 0x30, 0x00, 0x7F])
FRAME_CRC = ccitt(FRAME)

FAMILY.add(
    "crc16-frame-check", "medium",
    ask="""Check a frame received from the steering angle sensor: its last two bytes are the CRC-16/CCITT-FALSE
    (polynomial 0x1021, initial value 0xFFFF, not reflected, no final XOR) of all preceding bytes, sent
    high byte first. Return true if the CRC matches; frames shorter than 3 bytes and NULL are
    invalid.""",
    signature="bool crc16_frame_ok(const uint8_t *frame, size_t len)",
    reference="""\
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CRC16_CCITT_POLY 0x1021U
#define CRC16_CCITT_INIT 0xFFFFU

/**
 * @brief Verify the trailing big-endian CRC-16/CCITT-FALSE of a frame.
 * @param frame Frame bytes, ending with the 2-byte CRC.
 * @param len Frame length including the CRC.
 * @return true if the CRC over the first len - 2 bytes equals the trailing CRC.
 */
bool crc16_frame_ok(const uint8_t *frame, size_t len)
{
    bool ok = false;
    if ((frame != NULL) && (len >= 3U)) {
        size_t data_len = len - 2U;
        uint16_t crc = CRC16_CCITT_INIT;
        uint16_t received = (uint16_t)(((uint32_t)frame[data_len] << 8U) | (uint32_t)frame[data_len + 1U]);
        size_t i;
        uint32_t bit;
        for (i = 0U; i < data_len; i++) {
            crc ^= (uint16_t)((uint32_t)frame[i] << 8U);
            for (bit = 0U; bit < 8U; bit++) {
                if ((crc & 0x8000U) != 0U) {
                    crc = (uint16_t)(((uint32_t)crc << 1U) ^ CRC16_CCITT_POLY);
                } else {
                    crc = (uint16_t)((uint32_t)crc << 1U);
                }
            }
        }
        ok = (crc == received);
    }
    return ok;
}
""",
    harness_body=f"""
uint8_t f[12] = {{0x10U, 0x22U, 0x30U, 0x00U, 0x7FU, 0x{FRAME_CRC >> 8:02X}U, 0x{FRAME_CRC & 0xFF:02X}U}};
uint8_t d[11] = {{'1', '2', '3', '4', '5', '6', '7', '8', '9', 0x29U, 0xB1U}};
HX_T(crc16_frame_ok(f, 7U));
HX_T(crc16_frame_ok(d, 11U));
d[10] = 0xB0U;
HX_T(!crc16_frame_ok(d, 11U));
f[2] ^= 0x04U;
HX_T(!crc16_frame_ok(f, 7U));
f[2] ^= 0x04U;
HX_T(!crc16_frame_ok(f, 6U));
HX_T(!crc16_frame_ok(f, 2U));
HX_T(!crc16_frame_ok(NULL, 7U));
f[0] = 0x42U; f[1] = 0x{ccitt(bytes([0x42])) >> 8:02X}U; f[2] = 0x{ccitt(bytes([0x42])) & 0xFF:02X}U;
HX_T(crc16_frame_ok(f, 3U));
""",
)


# --- generated variants: the rest of the catalogue ----------------------------------------------------
# Every catalogue CRC without a hand-written task gets a one-shot bitwise task, and every CRC gets one
# more task of a different shape, alternating down the sorted catalogue: checking a frame's trailing CRC
# (byte order stated in the prompt) or an AUTOSAR-style incremental calculation over split input. All
# expected values come from crc_model.

HAND_WRITTEN = {"CRC-8/SMBUS", "CRC-8/AUTOSAR", "CRC-8/SAE-J1850", "CRC-8/MAXIM-DOW", "CRC-16/IBM-3740",
                "CRC-16/ARC", "CRC-16/MODBUS", "CRC-16/KERMIT", "CRC-32/ISO-HDLC", "CRC-32/AUTOSAR",
                "CRC-32/MPEG-2", "CRC-16/XMODEM", "CRC-32/ISCSI"}
# shapes that already have a hand-written task for that CRC (crc16-frame-check, crc8h2f-incremental, crc32-update)
HAND_WRITTEN_SHAPES = {("CRC-16/IBM-3740", "frame-check"), ("CRC-8/AUTOSAR", "incremental"),
                       ("CRC-32/ISO-HDLC", "incremental")}

ONE_SHOT_ASKS = (
    "A supplier's interface specification protects each message with {name}. Implement it bitwise, without a lookup table.",
    "Implement the {name} checksum for the data logger, updating the CRC register one bit at a time.",
    "We need {name} to check blocks received from an external module. Write it as a plain bit-by-bit routine (no table).",
    "Write a function that returns the {name} of a byte buffer; a shift-register loop per bit is fine, ROM is scarce.",
    "Our gateway has to compute {name} over forwarded payloads. Implement it without a precomputed table.",
)
FRAME_ASKS = (
    "Frames from a sensor bus end with the {name} of all bytes before it.",
    "Each record in the configuration EEPROM is followed by its {name}, computed over the record bytes.",
    "Messages received over the service UART carry a trailing {name} of the preceding bytes.",
    "A telegram from the field device ends with its {name} over everything that comes before.",
)
INCREMENTAL_ASKS = (
    "Implement an AUTOSAR-style {name} routine that can be called repeatedly over consecutive pieces of data.",
    "Large blocks arrive in pieces, so {name} must be computed incrementally, AUTOSAR Crc library style.",
    "Write an incremental {name} calculation in the style of the AUTOSAR Crc module, so the CRC of a long buffer can be built up piece by piece.",
)


def catalogue_text(name: str) -> str:
    """params_text for any width, with a note where a reflected CRC's initial value is not symmetric."""
    width, poly, init, reflected, xorout, check = CATALOGUE[name]
    digits = max(2, width // 4)
    refl = "input and output reflected" if reflected else "not reflected"
    text = (f"{name}: width {width}, polynomial 0x{poly:0{digits}X}, initial value 0x{init:0{digits}X}, {refl}, "
            f"final XOR 0x{xorout:0{digits}X}; the check value over the ASCII string \"123456789\" is "
            f"0x{check:0{digits}X}")
    if reflected and reflect(init, width) != init:
        text += " (the initial value is given unreflected, as in the catalogue)"
    return text


def base_name(name: str) -> str:
    """'CRC-16/ISO-IEC-14443-3-A' -> 'crc16_iso_iec_14443_3_a'."""
    family, variant = name.split("/")
    return family.lower().replace("-", "") + "_" + variant.lower().replace("-", "_")


def crc_loop(feed: str, step: str, count: str) -> str:
    return f"""\
    for (i = 0U; i < {count}; i++) {{
        {feed}
        for (bit = 0U; bit < 8U; bit++) {{
            {step}
        }}
    }}"""


def literal(value: int, width: int) -> str:
    return f"0x{value:0{max(2, width // 4)}X}{SUFFIX[width]}"


def add_one_shot(name: str) -> None:
    width, _, _, reflected, _, _ = CATALOGUE[name]
    base = base_name(name)
    ask = pick(ONE_SHOT_ASKS, name, "crc-one-shot").format(name=name)
    if reflected:
        ask += " Process each byte least significant bit first."
    FAMILY.add(base.replace("_", "-"), "easy" if width == 8 and not reflected else "medium",
               ask=f"{ask} {catalogue_text(name)}.", signature=f"{CTYPE[width]} {base}(const uint8_t *data, size_t len)",
               reference=bitwise_reference(base, name, base.upper(), f"{name}, bitwise."),
               harness_body=harness_for(base, name))


FRAME_DATA = [b"123456789", PATTERN[:20], b"\x00", b"\xa5\x5a\xc3", PATTERN[3:11]]


def add_frame_check(name: str) -> None:
    width, poly, init, reflected, xorout, _ = CATALOGUE[name]
    base, ctype, size = base_name(name), CTYPE[width], width // 8
    macro, function = base.upper(), f"{base}_frame_ok"
    order = "little" if reflected else "big"
    wide = "uint64_t" if width == 64 else "uint32_t"
    defines, feed, step, finish = crc_parts(name, macro, base)
    feed = feed.replace("data[i]", "frame[i]")
    finish = f"\n        {finish}" if finish else ""
    if size == 1:
        received = f"{ctype} received = frame[data_len];"
        placement = "a single CRC byte"
    else:
        index = "data_len + i" if order == "big" else f"len - 1U - i"
        received = (f"{ctype} received = 0U;\n    for (i = 0U; i < {macro}_BYTES; i++) {{\n"
                    f"        received = ({ctype})((({wide})received << 8U) | ({wide})frame[{index}]);\n    }}")
        placement = (f"the {size} CRC bytes, most significant byte first" if order == "big"
                     else f"the {size} CRC bytes, least significant byte first")
    loop = crc_loop(feed, step, "data_len").replace("\n", "\n    ")
    reference = f"""\
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

{defines}
#define {macro}_BYTES {size}U

/**
 * @brief Verify the trailing {name} of a frame ({order}-endian CRC bytes).
 * @param frame Frame bytes, ending with the CRC.
 * @param len Frame length including the CRC.
 * @return true if the CRC over the first len - {size} bytes equals the trailing CRC.
 */
bool {function}(const uint8_t *frame, size_t len)
{{
    bool ok = false;
    if ((frame != NULL) && (len > {macro}_BYTES)) {{
        size_t data_len = len - {macro}_BYTES;
        {ctype} crc = {macro}_INIT;
        size_t i;
        uint32_t bit;
        {received.replace(chr(10), chr(10) + '        ')}
    {loop}{finish}
        crc = ({ctype})(crc ^ {macro}_XOROUT);
        ok = (crc == received);
    }}
    return ok;
}}
"""

    def frame(data: bytes) -> bytes:
        return data + crc_model(data, width, poly, init, reflected, xorout).to_bytes(size, order)

    def ok(f: bytes) -> bool:
        return len(f) > size and crc_model(f[:-size], width, poly, init, reflected, xorout) == int.from_bytes(f[-size:], order)

    lines, cases = [], []
    for n, data in enumerate(FRAME_DATA):
        f = frame(data)
        lines.append(f"static const uint8_t f{n}[{len(f)}] = {{" + ", ".join(f"0x{b:02X}U" for b in f) + "};")
        cases.append((f"f{n}", len(f), ok(f)))
    f = bytearray(frame(FRAME_DATA[1]))
    f[4] ^= 0x10
    lines.append(f"static const uint8_t bad[{len(f)}] = {{" + ", ".join(f"0x{b:02X}U" for b in f) + "};")
    cases += [("bad", len(f), ok(bytes(f))), ("f0", len(frame(FRAME_DATA[0])) - 1, ok(frame(FRAME_DATA[0])[:-1])),
              ("f2", size, False), ("NULL", 8, False)]
    for expr, length, want in cases:
        lines.append(f"HX_T({'' if want else '!'}{function}({expr}, {length}U));")
    FAMILY.add(f"{base.replace('_', '-')}-frame-check", "medium",
               ask=f"""{pick(FRAME_ASKS, name, 'crc-frame').format(name=name)} The frame ends with {placement}.
               Return true if the CRC matches; NULL and frames without at least one data byte before the CRC
               are invalid. {catalogue_text(name)}.""",
               signature=f"bool {function}(const uint8_t *frame, size_t len)", reference=reference,
               harness_body="\n".join(lines))


def add_incremental(name: str) -> None:
    width, poly, init, reflected, xorout, _ = CATALOGUE[name]
    base, ctype = base_name(name), CTYPE[width]
    macro, function = base.upper(), f"{base}_calculate"
    defines, feed, step, finish = crc_parts(name, macro, base)
    # a later call continues from the previous result: undo its final XOR (and its output reflection)
    resume = f"({ctype})(start_value ^ {macro}_XOROUT)"
    if reflected:
        resume = f"{base}_reflect({resume}, {width}U)"
    finish = f"\n    {finish}" if finish else ""
    reference = f"""\
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

{defines}

/**
 * @brief {name} over one piece of a possibly split input.
 * @param data Bytes of this piece.
 * @param len Number of bytes in data.
 * @param start_value Result of the previous call (ignored on the first call).
 * @param is_first_call true for the first piece.
 * @return The CRC of all pieces so far.
 */
{ctype} {function}(const uint8_t *data, size_t len, {ctype} start_value, bool is_first_call)
{{
    {ctype} crc = is_first_call ? {macro}_INIT : {resume};
    size_t i;
    uint32_t bit;
{crc_loop(feed, step, "len")}{finish}
    return ({ctype})(crc ^ {macro}_XOROUT);
}}
"""

    def calc(data: bytes, start: int, first: bool) -> int:
        register = init if first else (reflect(start ^ xorout, width) if reflected else start ^ xorout)
        return crc_model(data, width, poly, register, reflected, xorout)

    first = calc(b"1234", 0, True)
    whole = calc(PATTERN, 0, True)
    lit = lambda v: literal(v, width)  # noqa: E731
    body = HARNESS_DATA + "\n".join([
        f"{ctype} crc = {function}((const uint8_t *)\"1234\", 4U, {lit(0x55)}, true);",
        f"HX_U(crc, {lit(first)});",
        f"HX_U({function}((const uint8_t *)\"56789\", 5U, crc, false), {lit(calc(b'56789', first, False))});",
        f"HX_U({function}((const uint8_t *)\"123456789\", 9U, 0U, true), {lit(calc(b'123456789', 0, True))});",
        f"HX_U({function}(pattern, 32U, 0U, true), {lit(whole)});",
        f"HX_U({function}(&pattern[10], 22U, {function}(pattern, 10U, 0U, true), false), {lit(whole)});",
        f"HX_U({function}(pattern, 0U, {lit(0x3C)}, false), {lit(calc(b'', 0x3C, False))});",
        f"HX_U({function}(ones, 4U, 0U, false), {lit(calc(FF4, 0, False))});",
        f"HX_U({function}(zero, 1U, 0U, true), {lit(calc(ZERO, 0, True))});",
    ])
    assert calc(b"56789", first, False) == CATALOGUE[name][5]
    FAMILY.add(f"{base.replace('_', '-')}-incremental", "hard",
               ask=f"""{pick(INCREMENTAL_ASKS, name, 'crc-incremental').format(name=name)} On the first call
               (is_first_call true) the register starts at the CRC's initial value and start_value is
               ignored; on later calls start_value is the result of the previous call, so the register
               continues from it after undoing that call's final XOR (and any output reflection). Splitting
               the input across calls must give the same result as one call over all of it.
               {catalogue_text(name)}.""",
               signature=f"{ctype} {function}(const uint8_t *data, size_t len, {ctype} start_value, bool is_first_call)",
               reference=reference, harness_body=body)


for _index, _name in enumerate(sorted(CATALOGUE)):
    if _name not in HAND_WRITTEN:
        add_one_shot(_name)
    _shape = ("frame-check", "incremental")[_index % 2]
    if (_name, _shape) in HAND_WRITTEN_SHAPES:
        _shape = ("incremental", "frame-check")[_index % 2]
    (add_frame_check if _shape == "frame-check" else add_incremental)(_name)

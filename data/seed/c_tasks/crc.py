"""CRCs by their published catalogue parameters (width, poly, init, refin/refout, xorout, check of
"123456789"), bitwise and table-driven, one-shot and incremental. The expected values in the harnesses
come from the generic model below, which is checked against the catalogue check values at build time."""

from common import Family

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
CTYPE = {8: "uint8_t", 16: "uint16_t", 32: "uint32_t"}
SUFFIX = {8: "U", 16: "U", 32: "U"}


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


def bitwise_reference(function: str, name: str, macro: str, brief: str) -> str:
    """A bitwise reference: MSB-first shifting for normal CRCs, LSB-first with the reflected polynomial
    for reflected ones."""
    width, poly, init, reflected, xorout, _ = CATALOGUE[name]
    ctype = CTYPE[width]
    if reflected:
        poly_line = f"#define {macro}_POLY {hexw(reflect(poly, width), width)} /* {hexw(poly, width)} reflected */"
        feed = f"crc ^= ({ctype})data[i];"
        step = (f"if ((crc & 1U) != 0U) {{\n                crc = ({ctype})((crc >> 1U) ^ {macro}_POLY);\n"
                f"            }} else {{\n                crc = ({ctype})(crc >> 1U);\n            }}")
    else:
        poly_line = f"#define {macro}_POLY {hexw(poly, width)}"
        feed = (f"crc ^= ({ctype})data[i];" if width == 8
                else f"crc ^= ({ctype})((({ctype})data[i]) << {width - 8}U);")
        step = (f"if ((crc & {hexw(1 << (width - 1), width)}) != 0U) {{\n"
                f"                crc = ({ctype})((crc << 1U) ^ {macro}_POLY);\n"
                f"            }} else {{\n                crc = ({ctype})(crc << 1U);\n            }}")
    return f"""\
#include <stddef.h>
#include <stdint.h>

{poly_line}
#define {macro}_INIT {hexw(init, width)}
#define {macro}_XOROUT {hexw(xorout, width)}

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
    }}
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

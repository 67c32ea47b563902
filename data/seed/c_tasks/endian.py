"""Endian-independent loads and stores from byte buffers (network order for protocol headers, little
endian for CAN/XCP/flash layouts), byte swaps, signed 24-bit audio samples."""

from common import Family, pick

FAMILY = Family("endian", area="portable protocol and calibration code (runs on big- and little-endian MCUs)")

PORTABLE = "It must give the same result on big- and little-endian CPUs, so assemble it from the bytes."

FAMILY.add(
    "load-be16", "easy",
    ask=f"""Read the 16-bit EtherType or UDP port that sits in a received header in network byte order (most
    significant byte first). {PORTABLE} The pointer may be unaligned.""",
    signature="uint16_t load_be16(const uint8_t *p)",
    reference=r"""
    #include <stdint.h>

    /**
     * @brief Load a big-endian 16-bit value from a byte buffer.
     * @param p Pointer to the two bytes (any alignment).
     * @return The value in host order.
     */
    uint16_t load_be16(const uint8_t *p)
    {
        return (uint16_t)(((uint32_t)p[0] << 8U) | (uint32_t)p[1]);
    }
    """,
    harness_body=r"""
    static const uint8_t b[5] = {0x88U, 0xF7U, 0x22U, 0xF0U, 0x01U};
    HX_U(load_be16(b), 0x88F7U);
    HX_U(load_be16(&b[1]), 0xF722U);
    HX_U(load_be16(&b[2]), 0x22F0U);
    HX_U(load_be16(&b[3]), 0xF001U);
    """,
)

FAMILY.add(
    "load-be32", "easy",
    ask=f"""Read a 32-bit big-endian field such as an IPv4 address or a SOME/IP message ID from a packet
    buffer at an arbitrary offset. {PORTABLE}""",
    signature="uint32_t load_be32(const uint8_t *p)",
    reference=r"""
    #include <stdint.h>

    /**
     * @brief Load a big-endian 32-bit value from a byte buffer.
     * @param p Pointer to the four bytes (any alignment).
     * @return The value in host order.
     */
    uint32_t load_be32(const uint8_t *p)
    {
        return ((uint32_t)p[0] << 24U) | ((uint32_t)p[1] << 16U) | ((uint32_t)p[2] << 8U) | (uint32_t)p[3];
    }
    """,
    harness_body=r"""
    static const uint8_t b[6] = {0xC0U, 0xA8U, 0x01U, 0x2AU, 0xFFU, 0x00U};
    HX_U(load_be32(b), 0xC0A8012AU);
    HX_U(load_be32(&b[1]), 0xA8012AFFU);
    HX_U(load_be32(&b[2]), 0x012AFF00U);
    """,
)

FAMILY.add(
    "load-le32", "easy",
    ask=f"""XCP and our flash image headers store 32-bit values little-endian (least significant byte first).
    Read one from a byte buffer. {PORTABLE}""",
    signature="uint32_t load_le32(const uint8_t *p)",
    reference=r"""
    #include <stdint.h>

    /**
     * @brief Load a little-endian 32-bit value from a byte buffer.
     * @param p Pointer to the four bytes (any alignment).
     * @return The value in host order.
     */
    uint32_t load_le32(const uint8_t *p)
    {
        return (uint32_t)p[0] | ((uint32_t)p[1] << 8U) | ((uint32_t)p[2] << 16U) | ((uint32_t)p[3] << 24U);
    }
    """,
    harness_body=r"""
    static const uint8_t b[6] = {0x78U, 0x56U, 0x34U, 0x12U, 0xFFU, 0x80U};
    HX_U(load_le32(b), 0x12345678U);
    HX_U(load_le32(&b[1]), 0xFF123456U);
    HX_U(load_le32(&b[2]), 0x80FF1234U);
    """,
)

FAMILY.add(
    "load-le64", "medium",
    ask=f"""Read a 64-bit little-endian counter (e.g. the odometer record in EEPROM, least significant byte
    first) from a byte buffer. {PORTABLE}""",
    signature="uint64_t load_le64(const uint8_t *p)",
    reference=r"""
    #include <stdint.h>

    /**
     * @brief Load a little-endian 64-bit value from a byte buffer.
     * @param p Pointer to the eight bytes (any alignment).
     * @return The value in host order.
     */
    uint64_t load_le64(const uint8_t *p)
    {
        uint64_t value = 0U;
        int32_t i;
        for (i = 7; i >= 0; i--) {
            value = (value << 8U) | (uint64_t)p[i];
        }
        return value;
    }
    """,
    harness_body=r"""
    static const uint8_t b[9] = {0xEFU, 0xCDU, 0xABU, 0x89U, 0x67U, 0x45U, 0x23U, 0x01U, 0xFFU};
    HX_U(load_le64(b), 0x0123456789ABCDEFULL);
    HX_U(load_le64(&b[1]), 0xFF0123456789ABCDULL);
    """,
)

FAMILY.add(
    "load-be64", "medium",
    ask=f"""Read a 64-bit big-endian value such as an AVTP stream_id or a gPTP clockIdentity (as a number)
    from a frame buffer. {PORTABLE}""",
    signature="uint64_t load_be64(const uint8_t *p)",
    reference=r"""
    #include <stdint.h>

    /**
     * @brief Load a big-endian 64-bit value from a byte buffer.
     * @param p Pointer to the eight bytes (any alignment).
     * @return The value in host order.
     */
    uint64_t load_be64(const uint8_t *p)
    {
        uint64_t value = 0U;
        uint32_t i;
        for (i = 0U; i < 8U; i++) {
            value = (value << 8U) | (uint64_t)p[i];
        }
        return value;
    }
    """,
    harness_body=r"""
    static const uint8_t b[9] = {0x00U, 0x1BU, 0x21U, 0xFFU, 0xFEU, 0x12U, 0x34U, 0x56U, 0x80U};
    HX_U(load_be64(b), 0x001B21FFFE123456ULL);
    HX_U(load_be64(&b[1]), 0x1B21FFFE12345680ULL);
    """,
)

FAMILY.add(
    "store-be32", "easy",
    ask=f"""Write a 32-bit value into a transmit buffer in network byte order (most significant byte
    first), e.g. the SOME/IP length field. {PORTABLE.replace('assemble it from', 'write it byte by byte into')}""",
    signature="void store_be32(uint8_t *p, uint32_t value)",
    reference=r"""
    #include <stdint.h>

    /**
     * @brief Store a 32-bit value big-endian into a byte buffer.
     * @param p Destination, four bytes (any alignment).
     * @param value The value to store.
     */
    void store_be32(uint8_t *p, uint32_t value)
    {
        p[0] = (uint8_t)(value >> 24U);
        p[1] = (uint8_t)((value >> 16U) & 0xFFU);
        p[2] = (uint8_t)((value >> 8U) & 0xFFU);
        p[3] = (uint8_t)(value & 0xFFU);
    }
    """,
    harness_body=r"""
    static const uint8_t want[6] = {0xEEU, 0x12U, 0x34U, 0x56U, 0x78U, 0xEEU};
    static const uint8_t want2[6] = {0xEEU, 0xFFU, 0x00U, 0x00U, 0x01U, 0xEEU};
    uint8_t b[6];
    memset(b, 0xEE, sizeof b);
    store_be32(&b[1], 0x12345678U);
    HX_MEM(b, want, 6U);
    store_be32(&b[1], 0xFF000001U);
    HX_MEM(b, want2, 6U);
    """,
)

FAMILY.add(
    "store-le16", "easy",
    ask="""Write a 16-bit value into a CAN payload little-endian (low byte first), as our DBC defines the
    wheel-speed signals. The result must not depend on the CPU's byte order.""",
    signature="void store_le16(uint8_t *p, uint16_t value)",
    reference=r"""
    #include <stdint.h>

    /**
     * @brief Store a 16-bit value little-endian into a byte buffer.
     * @param p Destination, two bytes (any alignment).
     * @param value The value to store.
     */
    void store_le16(uint8_t *p, uint16_t value)
    {
        p[0] = (uint8_t)(value & 0xFFU);
        p[1] = (uint8_t)(value >> 8U);
    }
    """,
    harness_body=r"""
    static const uint8_t want[4] = {0xEEU, 0x34U, 0x12U, 0xEEU};
    static const uint8_t want2[4] = {0xEEU, 0x01U, 0x80U, 0xEEU};
    uint8_t b[4];
    memset(b, 0xEE, sizeof b);
    store_le16(&b[1], 0x1234U);
    HX_MEM(b, want, 4U);
    store_le16(&b[1], 0x8001U);
    HX_MEM(b, want2, 4U);
    """,
)

FAMILY.add(
    "store-be64", "medium",
    ask="""Serialise a 64-bit value big-endian into a frame buffer, e.g. the stream_id of an outgoing AVTPDU
    or a 64-bit timestamp of a CRF PDU. Write it byte by byte so the CPU's byte order does not matter.""",
    signature="void store_be64(uint8_t *p, uint64_t value)",
    reference=r"""
    #include <stdint.h>

    /**
     * @brief Store a 64-bit value big-endian into a byte buffer.
     * @param p Destination, eight bytes (any alignment).
     * @param value The value to store.
     */
    void store_be64(uint8_t *p, uint64_t value)
    {
        uint32_t i;
        for (i = 0U; i < 8U; i++) {
            uint32_t shift = 56U - (8U * i);
            p[i] = (uint8_t)(value >> shift);
        }
    }
    """,
    harness_body=r"""
    static const uint8_t want[10] = {0xEEU, 0x00U, 0x1BU, 0x21U, 0x0AU, 0x0BU, 0x0CU, 0x00U, 0x01U, 0xEEU};
    uint8_t b[10];
    memset(b, 0xEE, sizeof b);
    store_be64(&b[1], 0x001B210A0B0C0001ULL);
    HX_MEM(b, want, 10U);
    store_be64(&b[1], 0xFFFFFFFFFFFFFFFFULL);
    HX_U(b[1], 0xFFU);
    HX_U(b[8], 0xFFU);
    HX_U(b[9], 0xEEU);
    """,
)

FAMILY.add(
    "bswap32", "easy",
    ask="""Swap the byte order of a 32-bit word (0x11223344 becomes 0x44332211), for a DMA engine that
    delivers words in the opposite order. Use shifts and masks, no compiler builtins.""",
    signature="uint32_t bswap32(uint32_t value)",
    reference=r"""
    #include <stdint.h>

    /**
     * @brief Reverse the byte order of a 32-bit word.
     * @param value The word.
     * @return The word with its four bytes in reverse order.
     */
    uint32_t bswap32(uint32_t value)
    {
        return ((value & 0x000000FFU) << 24U) | ((value & 0x0000FF00U) << 8U) |
               ((value & 0x00FF0000U) >> 8U) | ((value & 0xFF000000U) >> 24U);
    }
    """,
    harness_body=r"""
    HX_U(bswap32(0x11223344U), 0x44332211U);
    HX_U(bswap32(0x000000FFU), 0xFF000000U);
    HX_U(bswap32(0x80000001U), 0x01000080U);
    HX_U(bswap32(0U), 0U);
    """,
)

FAMILY.add(
    "bswap16", "easy",
    ask="""Swap the two bytes of a 16-bit value read from a Modbus register of the charging station, which
    uses the opposite byte order from our MCU.""",
    signature="uint16_t bswap16(uint16_t value)",
    reference=r"""
    #include <stdint.h>

    /**
     * @brief Swap the two bytes of a 16-bit value.
     * @param value The value.
     * @return value with its high and low byte exchanged.
     */
    uint16_t bswap16(uint16_t value)
    {
        return (uint16_t)((((uint32_t)value & 0xFFU) << 8U) | ((uint32_t)value >> 8U));
    }
    """,
    harness_body=r"""
    HX_U(bswap16(0x1234U), 0x3412U);
    HX_U(bswap16(0xFF00U), 0x00FFU);
    HX_U(bswap16(0x8001U), 0x0180U);
    """,
)

FAMILY.add(
    "load-s24-be", "medium",
    ask="""AAF INT_24BIT audio carries each sample as a 24-bit two's complement number, big-endian. Convert
    one sample (3 bytes) to int32_t, sign-extended. Do not rely on implementation-defined conversions or
    right shifts of negative values.""",
    signature="int32_t load_s24_be(const uint8_t *p)",
    reference=r"""
    #include <stdint.h>

    /**
     * @brief Load a signed 24-bit big-endian sample.
     * @param p Pointer to the three bytes.
     * @return The sample, sign-extended to 32 bits.
     */
    int32_t load_s24_be(const uint8_t *p)
    {
        uint32_t raw = ((uint32_t)p[0] << 16U) | ((uint32_t)p[1] << 8U) | (uint32_t)p[2];
        int32_t sample;
        if ((raw & 0x800000U) == 0U) {
            sample = (int32_t)raw;
        } else {
            sample = (int32_t)raw - (int32_t)0x1000000;
        }
        return sample;
    }
    """,
    harness_body=r"""
    static const uint8_t b[12] = {0x7FU, 0xFFU, 0xFFU, 0x80U, 0x00U, 0x00U, 0xFFU, 0xFFU, 0xFFU, 0x01U, 0x02U, 0x03U};
    HX_I(load_s24_be(b), 8388607);
    HX_I(load_s24_be(&b[3]), -8388608);
    HX_I(load_s24_be(&b[6]), -1);
    HX_I(load_s24_be(&b[9]), 0x010203);
    HX_I(load_s24_be(&b[7]), -255);
    """,
)

FAMILY.add(
    "be16-array", "medium",
    ask="""Convert a block of big-endian 16-bit samples received over the network (2 x count bytes) into an
    array of host-order uint16_t values. Do nothing if either pointer is NULL. The source may be
    unaligned, so do not cast it to a uint16_t pointer.""",
    signature="void be16_array_to_host(uint16_t *dst, const uint8_t *src, size_t count)",
    reference=r"""
    #include <stddef.h>
    #include <stdint.h>

    /**
     * @brief Convert big-endian 16-bit values from a byte buffer to host order.
     * @param dst Destination array of count values.
     * @param src Source bytes, 2 * count of them (any alignment).
     * @param count Number of values.
     */
    void be16_array_to_host(uint16_t *dst, const uint8_t *src, size_t count)
    {
        if ((dst != NULL) && (src != NULL)) {
            size_t i;
            for (i = 0U; i < count; i++) {
                dst[i] = (uint16_t)(((uint32_t)src[2U * i] << 8U) | (uint32_t)src[(2U * i) + 1U]);
            }
        }
    }
    """,
    harness_body=r"""
    static const uint8_t src[7] = {0xFFU, 0x12U, 0x34U, 0xABU, 0xCDU, 0x00U, 0x01U};
    static const uint16_t want[4] = {0x1234U, 0xABCDU, 0x0001U, 0xEEEEU};
    uint16_t dst[4] = {0xEEEEU, 0xEEEEU, 0xEEEEU, 0xEEEEU};
    be16_array_to_host(dst, &src[1], 3U);
    HX_MEM(dst, want, sizeof want);
    be16_array_to_host(dst, NULL, 3U);
    HX_MEM(dst, want, sizeof want);
    be16_array_to_host(dst, src, 0U);
    HX_U(dst[0], 0x1234U);
    """,
)


# --- generated variants: every width and byte order --------------------------------------------------
# Loads (unsigned and sign-extended), stores, a 64-bit swap and array conversions for the widths and
# byte orders the hand-written tasks above do not cover. Expected values come from int.from_bytes /
# int.to_bytes on fixed buffers.

ORDERS = {"be": ("big", "big-endian (most significant byte first)"),
          "le": ("little", "little-endian (least significant byte first)")}
UTYPE = {16: "uint16_t", 24: "uint32_t", 32: "uint32_t", 48: "uint64_t", 64: "uint64_t"}
STYPE = {16: "int16_t", 24: "int32_t", 32: "int32_t", 48: "int64_t", 64: "int64_t"}
BUFFER = [0x7F, 0xFF, 0x80, 0x01, 0xFE, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF, 0x00, 0x80, 0xFF, 0x10]
BUFFER_C = "static const uint8_t buf[16] = {" + ", ".join(f"0x{b:02X}U" for b in BUFFER) + "};"
ARRAY_BUFFER = BUFFER + BUFFER[::-1]
ARRAY_BUFFER_C = "static const uint8_t buf[32] = {" + ", ".join(f"0x{b:02X}U" for b in ARRAY_BUFFER) + "};"
LOAD_USES = (
    "a field of a received diagnostic response",
    "a value from the calibration block in flash",
    "a counter from a sensor's SPI frame",
    "a field of an XCP packet",
    "a measurement from a battery cell monitor frame",
    "a register dump read over I2C",
)
STORE_USES = (
    "an outgoing diagnostic response",
    "the calibration image written to flash",
    "a command frame for an SPI actuator",
    "an XCP response packet",
    "a configuration record in EEPROM",
    "a telemetry frame sent over the UART",
)


def acc_type(width: int) -> str:
    return "uint64_t" if width > 32 else "uint32_t"


def literal(value: int, width: int) -> str:
    return f"0x{value:X}ULL" if width > 32 else f"0x{value:X}U"


def load_loop(width: int, order: str, source: str = "p", base: str = "") -> str:
    n = width // 8
    index = "i" if order == "be" else f"{n - 1}U - i"
    return (f"for (i = 0U; i < {n}U; i++) {{\n"
            f"    raw = (raw << 8U) | ({acc_type(width)}){source}[{base}{index}];\n}}")


def add_load(width: int, order: str, signed: bool) -> None:
    n, (byteorder, described) = width // 8, ORDERS[order]
    function = f"load_s{width}_{order}" if signed else f"load_{order}{width}"
    ctype = STYPE[width] if signed else UTYPE[width]
    acc = acc_type(width)
    loop = load_loop(width, order).replace("\n", "\n    ")
    if signed:
        sign = literal(1 << (width - 1), width)
        if width in (32, 64):
            negative = f"{acc} magnitude = ~raw;\n        value = -({ctype})magnitude - 1;"
        elif width == 16:
            negative = "value = (int16_t)((int32_t)raw - 65536);"
        else:
            negative = f"value = ({ctype})raw - ({ctype}){literal(1 << width, width).rstrip('LU')};"
        body = f"""\
    {acc} raw = 0U;
    {ctype} value;
    uint32_t i;
    {loop}
    if ((raw & {sign}) == 0U) {{
        value = ({ctype})raw;
    }} else {{
        {negative}
    }}
    return value;"""
        what = f"a signed {width}-bit two's complement value, {described}, sign-extended to {ctype}"
        returns = f"The value as {ctype}."
    else:
        cast = "" if ctype == acc else f"({ctype})"
        body = f"""\
    {acc} raw = 0U;
    uint32_t i;
    {loop}
    return {cast}raw;"""
        what = f"an unsigned {width}-bit value stored {described}"
        returns = "The value in host order."
    use = pick(LOAD_USES, function, "endian-load")
    extra = ("Do not rely on implementation-defined conversions of out-of-range values to signed types."
             if signed else "")
    rows = []
    for offset in range(0, len(BUFFER) - n + 1, max(1, (len(BUFFER) - n) // 5)):
        value = int.from_bytes(bytes(BUFFER[offset:offset + n]), byteorder, signed=signed)
        rows.append(f"HX_I({function}(&buf[{offset}]), {value}LL);" if signed
                    else f"HX_U({function}(&buf[{offset}]), {literal(value, width)});")
    FAMILY.add(function.replace("_", "-"), "medium" if signed or width in (24, 48) else "easy",
               ask=f"""Read {what}: {use}. {PORTABLE} The pointer may be unaligned. {extra}""",
               signature=f"{ctype} {function}(const uint8_t *p)",
               reference=f"""\
#include <stdint.h>

/**
 * @brief Load {what}.
 * @param p Pointer to the {n} bytes (any alignment).
 * @return {returns}
 */
{ctype} {function}(const uint8_t *p)
{{
{body}
}}
""", harness_body=BUFFER_C + "\n" + "\n".join(rows))


STORE_VALUES = (0x0123456789ABCDEF, 0xFEDCBA9876543210, 0x00000000000080FF)


def add_store(width: int, order: str) -> None:
    n, (byteorder, described) = width // 8, ORDERS[order]
    function, ctype = f"store_{order}{width}", UTYPE[width]
    shift = "8U * i" if order == "le" else f"{8 * (n - 1)}U - (8U * i)"
    narrow = (f" Only the low {width} bits of value are stored; the rest are ignored."
              if width in (24, 48) else "")
    lines = [f"uint8_t b[{n + 2}];"]
    for value in STORE_VALUES:
        value &= (1 << (8 * {16: 2, 24: 4, 32: 4, 48: 8, 64: 8}[width])) - 1
        want = [0xEE] + list((value & ((1 << width) - 1)).to_bytes(n, byteorder)) + [0xEE]
        lines += [f"memset(b, 0xEE, sizeof b);", f"{function}(&b[1], {literal(value, width)});",
                  "{", f"    static const uint8_t want[{n + 2}] = {{" + ", ".join(f"0x{x:02X}U" for x in want) + "};",
                  f"    HX_MEM(b, want, {n + 2}U);", "}"]
    FAMILY.add(function.replace("_", "-"), "medium" if width in (24, 48) else "easy",
               ask=f"""Write a {width}-bit value {described} into {pick(STORE_USES, function, 'endian-store')}.
               {PORTABLE}{narrow} The destination may be unaligned.""",
               signature=f"void {function}(uint8_t *p, {ctype} value)",
               reference=f"""\
#include <stdint.h>

/**
 * @brief Store a {width}-bit value {order.upper()} into a byte buffer.
 * @param p Destination, {n} bytes (any alignment).
 * @param value The value to store{' (low ' + str(width) + ' bits)' if narrow else ''}.
 */
void {function}(uint8_t *p, {ctype} value)
{{
    uint32_t i;
    for (i = 0U; i < {n}U; i++) {{
        uint32_t shift = {shift};
        p[i] = (uint8_t)(value >> shift);
    }}
}}
""", harness_body="\n".join(lines))


def add_array(width: int, order: str) -> None:
    n, (byteorder, described) = width // 8, ORDERS[order]
    function, ctype, acc = f"{order}{width}_array_to_host", UTYPE[width], acc_type(width)
    index = "k" if order == "be" else f"{n - 1}U - k"
    count = 3
    src = ARRAY_BUFFER
    values = [int.from_bytes(bytes(src[1 + n * i:1 + n * (i + 1)]), byteorder) for i in range(count)]
    guard = literal(int("EE" * n, 16), width)
    FAMILY.add(function.replace("_", "-"), "medium",
               ask=f"""Convert a block of {width}-bit values stored {described} ({n} x count bytes, received
               from {pick(LOAD_USES, function, 'endian-array')}) into an array of host-order {ctype} values.
               Do nothing if either pointer is NULL. The source may be unaligned, so do not cast it to a
               {ctype} pointer.""",
               signature=f"void {function}({ctype} *dst, const uint8_t *src, size_t count)",
               reference=f"""\
#include <stddef.h>
#include <stdint.h>

/**
 * @brief Convert {order.upper()} {width}-bit values from a byte buffer to host order.
 * @param dst Destination array of count values.
 * @param src Source bytes, {n} * count of them (any alignment).
 * @param count Number of values.
 */
void {function}({ctype} *dst, const uint8_t *src, size_t count)
{{
    if ((dst != NULL) && (src != NULL)) {{
        size_t i;
        uint32_t k;
        for (i = 0U; i < count; i++) {{
            {acc} raw = 0U;
            for (k = 0U; k < {n}U; k++) {{
                raw = (raw << 8U) | ({acc})src[({n}U * i) + {index}];
            }}
            dst[i] = {'' if ctype == acc else f'({ctype})'}raw;
        }}
    }}
}}
""", harness_body=ARRAY_BUFFER_C + f"""
static const {ctype} want[4] = {{{', '.join(literal(v, width) for v in values)}, {guard}}};
{ctype} dst[4] = {{{guard}, {guard}, {guard}, {guard}}};
{function}(dst, &buf[1], {count}U);
HX_MEM(dst, want, sizeof want);
{function}(dst, NULL, {count}U);
HX_MEM(dst, want, sizeof want);
{function}(NULL, buf, {count}U);
{function}(dst, buf, 0U);
HX_U(dst[0], {literal(values[0], width)});
""")


for _width, _order in ((16, "le"), (24, "be"), (24, "le"), (48, "be"), (48, "le")):
    add_load(_width, _order, signed=False)
for _width, _order in ((16, "be"), (16, "le"), (24, "le"), (32, "be"), (32, "le"), (48, "be"), (48, "le"),
                       (64, "be"), (64, "le")):
    add_load(_width, _order, signed=True)
for _width, _order in ((16, "be"), (24, "be"), (24, "le"), (32, "le"), (48, "be"), (48, "le"), (64, "le")):
    add_store(_width, _order)
for _width, _order in ((16, "le"), (32, "be"), (32, "le"), (64, "be"), (64, "le")):
    add_array(_width, _order)

SWAP64 = (0x1122334455667788, 0xFF, 0x8000000000000001, 0)
FAMILY.add(
    "bswap64", "easy",
    ask="""Reverse the byte order of a 64-bit word (0x1122334455667788 becomes 0x8877665544332211), for
    timestamps that a network coprocessor delivers in the opposite byte order. Use shifts and masks, no
    compiler builtins.""",
    signature="uint64_t bswap64(uint64_t value)",
    reference="""\
#include <stdint.h>

/**
 * @brief Reverse the byte order of a 64-bit word.
 * @param value The word.
 * @return The word with its eight bytes in reverse order.
 */
uint64_t bswap64(uint64_t value)
{
    uint64_t result = 0U;
    uint32_t i;
    for (i = 0U; i < 8U; i++) {
        uint32_t shift = 8U * i;
        uint64_t byte = (value >> shift) & (uint64_t)0xFFU;
        result = (result << 8U) | byte;
    }
    return result;
}
""",
    harness_body="\n".join(f"HX_U(bswap64(0x{v:X}ULL), 0x{int.from_bytes(v.to_bytes(8, 'big'), 'little'):X}ULL);"
                           for v in SWAP64),
)

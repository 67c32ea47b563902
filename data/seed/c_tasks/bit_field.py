"""Bit manipulation for registers and signals: field get/set, population count, leading zeros, bit
reversal, sign extension, CAN signals in Intel and Motorola (DBC) byte order, bitmap allocation."""

from common import Family, pick

FAMILY = Family("bit_field", area="register access and CAN signal layer of the ECU")

PAYLOAD = [0x12, 0x34, 0x56, 0x78, 0x9A, 0xBC, 0xDE, 0xF0]
PAYLOAD_C = "static const uint8_t payload[8] = {" + ", ".join(f"0x{b:02X}U" for b in PAYLOAD) + "};"


def intel_get(data, start, length):
    if not (1 <= length <= 64 and start + length <= 64):
        return 0
    return (int.from_bytes(bytes(data), "little") >> start) & ((1 << length) - 1)


def motorola_get(data, start, length):
    if not (start < 64 and 1 <= length <= 64):
        return 0
    value, pos = 0, start
    for _ in range(length):
        if pos > 63:
            return 0
        value = (value << 1) | ((data[pos // 8] >> (pos % 8)) & 1)
        pos = pos + 15 if pos % 8 == 0 else pos - 1
    return value


def intel_set(data, start, length, value):
    if not (1 <= length <= 64 and start + length <= 64 and value < (1 << length)):
        return None
    payload = int.from_bytes(bytes(data), "little")
    mask = ((1 << length) - 1) << start
    return list(((payload & ~mask) | (value << start)).to_bytes(8, "little"))


FAMILY.add(
    "bits-get", "easy",
    ask="""Read a bit field out of a 32-bit peripheral register value: width bits starting at bit position
    pos (bit 0 = least significant). A width of 0, or a field that would extend beyond bit 31, gives 0.
    A full 32-bit field must work without undefined shifts.""",
    signature="uint32_t bits_get(uint32_t value, uint8_t pos, uint8_t width)",
    reference=r"""
    #include <stdint.h>

    /**
     * @brief Extract a bit field from a 32-bit value.
     * @param value The register value.
     * @param pos Position of the field's least significant bit, 0..31.
     * @param width Width of the field in bits, 1..32.
     * @return The field, right-aligned; 0 for an invalid field.
     */
    uint32_t bits_get(uint32_t value, uint8_t pos, uint8_t width)
    {
        uint32_t field = 0U;
        if ((width > 0U) && (((uint32_t)pos + (uint32_t)width) <= 32U)) {
            uint32_t mask = (width == 32U) ? 0xFFFFFFFFU : (((uint32_t)1U << width) - 1U);
            field = (value >> pos) & mask;
        }
        return field;
    }
    """,
    harness_body=r"""
    HX_U(bits_get(0x12345678U, 4U, 8U), 0x67U);
    HX_U(bits_get(0x12345678U, 0U, 32U), 0x12345678U);
    HX_U(bits_get(0x12345678U, 28U, 4U), 0x1U);
    HX_U(bits_get(0x12345678U, 28U, 5U), 0U);
    HX_U(bits_get(0x12345678U, 3U, 0U), 0U);
    HX_U(bits_get(0xFFFFFFFFU, 31U, 1U), 1U);
    HX_U(bits_get(0x80000000U, 0U, 31U), 0U);
    HX_U(bits_get(0xA5A5A5A5U, 1U, 3U), 0x2U);
    """,
)

FAMILY.add(
    "bits-set", "medium",
    ask="""Write a bit field into a 32-bit register image: replace the width bits starting at bit pos with
    field (extra high bits of field are ignored) and keep every other bit. A width of 0 or a field
    beyond bit 31 leaves the value unchanged. Handle width 32 without undefined shifts.""",
    signature="uint32_t bits_set(uint32_t value, uint8_t pos, uint8_t width, uint32_t field)",
    reference=r"""
    #include <stdint.h>

    /**
     * @brief Insert a bit field into a 32-bit value.
     * @param value The original register value.
     * @param pos Position of the field's least significant bit, 0..31.
     * @param width Width of the field in bits, 1..32.
     * @param field The new field value (only the low width bits are used).
     * @return The updated value, or value unchanged for an invalid field.
     */
    uint32_t bits_set(uint32_t value, uint8_t pos, uint8_t width, uint32_t field)
    {
        uint32_t result = value;
        if ((width > 0U) && (((uint32_t)pos + (uint32_t)width) <= 32U)) {
            uint32_t mask = (width == 32U) ? 0xFFFFFFFFU : (((uint32_t)1U << width) - 1U);
            result = (value & ~(mask << pos)) | ((field & mask) << pos);
        }
        return result;
    }
    """,
    harness_body=r"""
    HX_U(bits_set(0x12345678U, 4U, 8U, 0xABU), 0x12345AB8U);
    HX_U(bits_set(0U, 0U, 32U, 0xDEADBEEFU), 0xDEADBEEFU);
    HX_U(bits_set(0xFFFFFFFFU, 8U, 4U, 0U), 0xFFFFF0FFU);
    HX_U(bits_set(0U, 4U, 4U, 0x1FU), 0xF0U);
    HX_U(bits_set(0x1234U, 30U, 4U, 1U), 0x1234U);
    HX_U(bits_set(0x1234U, 0U, 0U, 5U), 0x1234U);
    HX_U(bits_set(0U, 31U, 1U, 1U), 0x80000000U);
    """,
)

FAMILY.add(
    "popcount", "easy",
    ask="""Count the set bits of a 32-bit word (e.g. how many of 32 fault flags are active). Do not use
    compiler builtins.""",
    signature="uint8_t popcount32(uint32_t value)",
    reference=r"""
    #include <stdint.h>

    /**
     * @brief Number of bits set in a 32-bit word.
     * @param value The word.
     * @return 0..32.
     */
    uint8_t popcount32(uint32_t value)
    {
        uint32_t v = value;
        uint8_t count = 0U;
        while (v != 0U) {
            v &= (v - 1U); /* clears the lowest set bit */
            count++;
        }
        return count;
    }
    """,
    harness_body=r"""
    HX_U(popcount32(0U), 0U);
    HX_U(popcount32(0xFFFFFFFFU), 32U);
    HX_U(popcount32(0x80000001U), 2U);
    HX_U(popcount32(0x12345678U), 13U);
    HX_U(popcount32(0xF0F0F0F0U), 16U);
    HX_U(popcount32(0x00010000U), 1U);
    """,
)

FAMILY.add(
    "clz", "easy",
    ask="""Count the leading zero bits of a 32-bit value, e.g. to normalise a fixed-point number or find
    the highest pending interrupt. clz32(0) is 32. Portable C only, no builtins.""",
    signature="uint8_t clz32(uint32_t value)",
    reference=r"""
    #include <stdint.h>

    /**
     * @brief Number of leading zero bits of a 32-bit value.
     * @param value The value.
     * @return 0..32 (32 for a zero value).
     */
    uint8_t clz32(uint32_t value)
    {
        uint8_t zeros = 0U;
        uint32_t probe = 0x80000000U;
        while ((probe != 0U) && ((value & probe) == 0U)) {
            zeros++;
            probe >>= 1U;
        }
        return zeros;
    }
    """,
    harness_body=r"""
    HX_U(clz32(0U), 32U);
    HX_U(clz32(1U), 31U);
    HX_U(clz32(0x80000000U), 0U);
    HX_U(clz32(0x00010000U), 15U);
    HX_U(clz32(0x0FFFFFFFU), 4U);
    HX_U(clz32(0x7FFFFFFFU), 1U);
    """,
)

FAMILY.add(
    "reverse8", "easy",
    ask="""Reverse the bit order of a byte (bit 0 becomes bit 7 and so on), needed because the SPI
    peripheral of the LED driver shifts LSB first.""",
    signature="uint8_t bit_reverse8(uint8_t value)",
    reference=r"""
    #include <stdint.h>

    /**
     * @brief Reverse the order of the bits of a byte.
     * @param value The byte.
     * @return The byte with bit i moved to bit 7 - i.
     */
    uint8_t bit_reverse8(uint8_t value)
    {
        uint32_t in = value;
        uint32_t out = 0U;
        uint32_t i;
        for (i = 0U; i < 8U; i++) {
            out = (out << 1U) | (in & 1U);
            in >>= 1U;
        }
        return (uint8_t)out;
    }
    """,
    harness_body=r"""
    HX_U(bit_reverse8(0x01U), 0x80U);
    HX_U(bit_reverse8(0x12U), 0x48U);
    HX_U(bit_reverse8(0xF0U), 0x0FU);
    HX_U(bit_reverse8(0xC1U), 0x83U);
    HX_U(bit_reverse8(0x00U), 0x00U);
    HX_U(bit_reverse8(0xA5U), 0xA5U);
    """,
)

FAMILY.add(
    "reverse32", "medium",
    ask="""Reverse the bit order of a 32-bit word (bit 0 <-> bit 31, bit 1 <-> bit 30, ...), for converting
    a reflected CRC register. Use the swap-halves technique (masks and shifts), not a per-bit loop.""",
    signature="uint32_t bit_reverse32(uint32_t value)",
    reference=r"""
    #include <stdint.h>

    /**
     * @brief Reverse the order of the bits of a 32-bit word.
     * @param value The word.
     * @return The word with bit i moved to bit 31 - i.
     */
    uint32_t bit_reverse32(uint32_t value)
    {
        uint32_t v = value;
        v = ((v >> 1U) & 0x55555555U) | ((v & 0x55555555U) << 1U);
        v = ((v >> 2U) & 0x33333333U) | ((v & 0x33333333U) << 2U);
        v = ((v >> 4U) & 0x0F0F0F0FU) | ((v & 0x0F0F0F0FU) << 4U);
        v = ((v >> 8U) & 0x00FF00FFU) | ((v & 0x00FF00FFU) << 8U);
        v = (v >> 16U) | (v << 16U);
        return v;
    }
    """,
    harness_body=r"""
    HX_U(bit_reverse32(0x00000001U), 0x80000000U);
    HX_U(bit_reverse32(0x12345678U), 0x1E6A2C48U);
    HX_U(bit_reverse32(0xFFFF0000U), 0x0000FFFFU);
    HX_U(bit_reverse32(0xEDB88320U), 0x04C11DB7U);
    HX_U(bit_reverse32(0U), 0U);
    """,
)

FAMILY.add(
    "is-power-of-two", "easy",
    ask="""Check a configured buffer size before it is used with index masking: return true only if the
    value is a power of two (1, 2, 4, ...). Zero is not.""",
    signature="bool is_power_of_two_u32(uint32_t value)",
    reference=r"""
    #include <stdbool.h>
    #include <stdint.h>

    /**
     * @brief Tell whether a value is a power of two.
     * @param value The value.
     * @return true if exactly one bit is set.
     */
    bool is_power_of_two_u32(uint32_t value)
    {
        return (value != 0U) && ((value & (value - 1U)) == 0U);
    }
    """,
    harness_body=r"""
    HX_T(!is_power_of_two_u32(0U));
    HX_T(is_power_of_two_u32(1U));
    HX_T(is_power_of_two_u32(2U));
    HX_T(!is_power_of_two_u32(3U));
    HX_T(is_power_of_two_u32(1024U));
    HX_T(!is_power_of_two_u32(1023U));
    HX_T(is_power_of_two_u32(0x80000000U));
    HX_T(!is_power_of_two_u32(0xFFFFFFFFU));
    """,
)

FAMILY.add(
    "sign-extend", "medium",
    ask="""Sensors deliver signed values of odd widths (e.g. a 12-bit two's complement temperature).
    Sign-extend the low `bits` bits of value (bits 1..32; higher bits of value are ignored) to an
    int32_t. Invalid widths (0 or above 32) give 0. Avoid implementation-defined conversions and shifts
    of negative numbers.""",
    signature="int32_t sign_extend32(uint32_t value, uint8_t bits)",
    reference=r"""
    #include <stdint.h>

    /**
     * @brief Sign-extend a two's complement field to 32 bits.
     * @param value Raw value; only the low bits are used.
     * @param bits Width of the field, 1..32.
     * @return The signed value, or 0 for an invalid width.
     */
    int32_t sign_extend32(uint32_t value, uint8_t bits)
    {
        int32_t result = 0;
        if ((bits >= 1U) && (bits <= 32U)) {
            uint32_t mask = (bits == 32U) ? 0xFFFFFFFFU : (((uint32_t)1U << bits) - 1U);
            uint32_t field = value & mask;
            uint32_t sign_position = (uint32_t)bits - 1U;
            uint32_t sign = (uint32_t)1U << sign_position;
            if ((field & sign) == 0U) {
                result = (int32_t)field;
            } else {
                /* field - 2^bits, computed from the magnitude of its complement */
                uint32_t magnitude_minus_one = (~field) & mask;
                result = -(int32_t)magnitude_minus_one - 1;
            }
        }
        return result;
    }
    """,
    harness_body=r"""
    HX_I(sign_extend32(0xFFFU, 12U), -1);
    HX_I(sign_extend32(0x800U, 12U), -2048);
    HX_I(sign_extend32(0x7FFU, 12U), 2047);
    HX_I(sign_extend32(0x1FU, 5U), -1);
    HX_I(sign_extend32(0x80000000U, 32U), INT32_MIN);
    HX_I(sign_extend32(0x7FFFFFFFU, 32U), INT32_MAX);
    HX_I(sign_extend32(0x12345U, 8U), 0x45);
    HX_I(sign_extend32(0xFF80U, 8U), -128);
    HX_I(sign_extend32(1U, 1U), -1);
    HX_I(sign_extend32(5U, 0U), 0);
    HX_I(sign_extend32(5U, 33U), 0);
    """,
)

INTEL_CASES = [(0, 16), (4, 8), (0, 64), (56, 8), (60, 4), (7, 1), (13, 19), (60, 5), (0, 0)]

FAMILY.add(
    "can-signal-intel", "hard",
    ask="""Extract a signal from an 8-byte CAN payload stored in Intel (little-endian, DBC "@1") byte order:
    the payload is a 64-bit little-endian number (byte 0 holds bits 0..7), start_bit is the position of
    the signal's least significant bit and the signal occupies length consecutive bits upwards. Return
    the raw unsigned value. A length of 0 or above 64, or a signal that would run past bit 63, gives 0.""",
    signature="uint64_t can_signal_get_le(const uint8_t data[8], uint8_t start_bit, uint8_t length)",
    reference=r"""
    #include <stdint.h>

    /**
     * @brief Raw value of an Intel (little-endian) CAN signal.
     * @param data CAN payload, 8 bytes.
     * @param start_bit Bit position of the signal's least significant bit, 0..63.
     * @param length Signal length in bits, 1..64.
     * @return The raw signal value, or 0 for an invalid layout.
     */
    uint64_t can_signal_get_le(const uint8_t data[8], uint8_t start_bit, uint8_t length)
    {
        uint64_t value = 0U;
        if ((length >= 1U) && (length <= 64U) && (((uint32_t)start_bit + (uint32_t)length) <= 64U)) {
            uint64_t payload = 0U;
            uint64_t mask = (length == 64U) ? UINT64_MAX : ((1ULL << length) - 1U);
            int32_t i;
            for (i = 7; i >= 0; i--) {
                payload = (payload << 8U) | (uint64_t)data[i];
            }
            value = (payload >> start_bit) & mask;
        }
        return value;
    }
    """,
    harness_body=PAYLOAD_C + "\n" + "\n".join(
        f"HX_U(can_signal_get_le(payload, {s}U, {n}U), 0x{intel_get(PAYLOAD, s, n):X}ULL);" for s, n in INTEL_CASES),
)

MOTOROLA_CASES = [(7, 16), (7, 64), (3, 8), (55, 16), (63, 1), (56, 2), (12, 12), (0, 1), (39, 20), (7, 0)]

FAMILY.add(
    "can-signal-motorola", "hard",
    ask="""Extract a signal stored in Motorola (big-endian, DBC "@0") byte order from an 8-byte CAN payload.
    Bits are numbered byte x 8 + bit-in-byte (bit 7 of a byte is its most significant bit). start_bit
    is the position of the signal's most significant bit; the following bits go down within the byte,
    and after bit 0 of a byte continue at bit 7 of the next byte (position + 15). Return the raw
    unsigned value; a length of 0 or above 64, a start bit above 63, or a signal that runs past the
    last byte gives 0.""",
    signature="uint64_t can_signal_get_be(const uint8_t data[8], uint8_t start_bit, uint8_t length)",
    reference=r"""
    #include <stdbool.h>
    #include <stdint.h>

    /**
     * @brief Raw value of a Motorola (big-endian, DBC sawtooth numbering) CAN signal.
     * @param data CAN payload, 8 bytes.
     * @param start_bit Position of the signal's most significant bit, 0..63.
     * @param length Signal length in bits, 1..64.
     * @return The raw signal value, or 0 for an invalid layout.
     */
    uint64_t can_signal_get_be(const uint8_t data[8], uint8_t start_bit, uint8_t length)
    {
        uint64_t value = 0U;
        bool valid = (start_bit < 64U) && (length >= 1U) && (length <= 64U);
        uint32_t pos = start_bit;
        uint32_t i;
        for (i = 0U; valid && (i < length); i++) {
            if (pos > 63U) {
                valid = false;
            } else {
                uint32_t bit = ((uint32_t)data[pos >> 3U] >> (pos & 7U)) & 1U;
                value = (value << 1U) | (uint64_t)bit;
                if ((pos & 7U) == 0U) {
                    pos += 15U; /* continue at the MSB of the next byte */
                } else {
                    pos -= 1U;
                }
            }
        }
        return valid ? value : 0U;
    }
    """,
    harness_body=PAYLOAD_C + "\n" + "\n".join(
        f"HX_U(can_signal_get_be(payload, {s}U, {n}U), 0x{motorola_get(PAYLOAD, s, n):X}ULL);"
        for s, n in MOTOROLA_CASES),
)

SET_CASES = [(0, 16, 0xBEEF), (4, 8, 0xA5), (60, 4, 0x3), (0, 64, 0x0102030405060708), (13, 19, 0x7FFFF),
             (8, 4, 0x10), (60, 5, 1)]


def _set_lines() -> str:
    lines = [PAYLOAD_C, "uint8_t d[8];", "uint8_t want[8];"]
    for s, n, v in SET_CASES:
        result = intel_set(PAYLOAD, s, n, v)
        lines.append("memcpy(d, payload, 8U);")
        if result is None:
            lines.append(f"HX_T(!can_signal_set_le(d, {s}U, {n}U, 0x{v:X}ULL));")
            lines.append("HX_MEM(d, payload, 8U);")
        else:
            lines.append(f"HX_T(can_signal_set_le(d, {s}U, {n}U, 0x{v:X}ULL));")
            lines.append("{ static const uint8_t w[8] = {" + ", ".join(f"0x{b:02X}U" for b in result) + "}; "
                         "memcpy(want, w, 8U); }")
            lines.append("HX_MEM(d, want, 8U);")
    return "\n".join(lines)


FAMILY.add(
    "can-signal-intel-set", "hard",
    ask="""Pack a raw signal value into an 8-byte CAN payload in Intel (little-endian, DBC "@1") byte order,
    leaving all other bits untouched: the payload is a 64-bit little-endian number, start_bit is the
    signal's least significant bit position and it spans length bits upwards. Return false and leave the
    payload unchanged if length is 0 or above 64, the signal runs past bit 63, or the value does not fit
    in length bits.""",
    signature="bool can_signal_set_le(uint8_t data[8], uint8_t start_bit, uint8_t length, uint64_t value)",
    reference=r"""
    #include <stdbool.h>
    #include <stdint.h>

    /**
     * @brief Write an Intel (little-endian) CAN signal into a payload.
     * @param data CAN payload, 8 bytes, updated in place.
     * @param start_bit Bit position of the signal's least significant bit, 0..63.
     * @param length Signal length in bits, 1..64.
     * @param value Raw value; must fit in length bits.
     * @return true on success, false for an invalid layout or value.
     */
    bool can_signal_set_le(uint8_t data[8], uint8_t start_bit, uint8_t length, uint64_t value)
    {
        bool ok = false;
        if ((length >= 1U) && (length <= 64U) && (((uint32_t)start_bit + (uint32_t)length) <= 64U)) {
            uint64_t mask = (length == 64U) ? UINT64_MAX : ((1ULL << length) - 1U);
            if ((value & ~mask) == 0U) {
                uint64_t payload = 0U;
                int32_t i;
                uint32_t k;
                for (i = 7; i >= 0; i--) {
                    payload = (payload << 8U) | (uint64_t)data[i];
                }
                payload = (payload & ~(mask << start_bit)) | (value << start_bit);
                for (k = 0U; k < 8U; k++) {
                    uint32_t shift = 8U * k;
                    data[k] = (uint8_t)(payload >> shift);
                }
                ok = true;
            }
        }
        return ok;
    }
    """,
    harness_body=_set_lines(),
)

FAMILY.add(
    "bitmap-first-clear", "medium",
    ask="""Allocate a free message buffer from a bitmap of 32-bit words in which a set bit means "in use":
    return the index of the lowest clear bit (word x 32 + bit, bit 0 = least significant), or -1 if every
    bit is set, count is 0 or words is NULL. The bitmap is not modified.""",
    signature="int32_t bitmap_first_clear(const uint32_t *words, size_t count)",
    reference=r"""
    #include <stddef.h>
    #include <stdint.h>

    /**
     * @brief Index of the lowest clear bit of a bitmap.
     * @param words The bitmap, bit i of word w is bit w * 32 + i.
     * @param count Number of words.
     * @return Index of the first clear bit, or -1 if none.
     */
    int32_t bitmap_first_clear(const uint32_t *words, size_t count)
    {
        int32_t index = -1;
        if (words != NULL) {
            size_t w;
            for (w = 0U; (w < count) && (index < 0); w++) {
                if (words[w] != 0xFFFFFFFFU) {
                    uint32_t bit = 0U;
                    while (((words[w] >> bit) & 1U) != 0U) {
                        bit++;
                    }
                    size_t position = (w * 32U) + bit;
                    index = (int32_t)position;
                }
            }
        }
        return index;
    }
    """,
    harness_body=r"""
    static const uint32_t a[3] = {0xFFFFFFFFU, 0xFFFFFFFFU, 0xFFFFFFF7U};
    static const uint32_t b[2] = {0xFFFFFFFFU, 0x7FFFFFFFU};
    static const uint32_t c[2] = {0xFFFFFFFFU, 0xFFFFFFFFU};
    static const uint32_t d[1] = {0x0000000FU};
    HX_I(bitmap_first_clear(a, 3U), 67);
    HX_I(bitmap_first_clear(b, 2U), 63);
    HX_I(bitmap_first_clear(c, 2U), -1);
    HX_I(bitmap_first_clear(d, 1U), 4);
    HX_I(bitmap_first_clear(a, 2U), -1);
    HX_I(bitmap_first_clear(a, 0U), -1);
    HX_I(bitmap_first_clear(NULL, 2U), -1);
    """,
)


# --- generated variants: register field accessors -----------------------------------------------------
# One getter and one setter per field of the (illustrative) register map below; every field has its own
# position and width, stated in the prompt. Expected values come from field_get / field_set.

# (peripheral, register, field name, what it holds, lsb, width)
REGISTER_FIELDS = (
    ("spi", "ctrl", "baud", "baud rate divider", 8, 4),
    ("spi", "ctrl", "cpol", "clock polarity", 1, 1),
    ("spi", "ctrl", "frame_size", "frame size minus one", 12, 5),
    ("spi", "status", "rx_level", "receive FIFO level", 16, 6),
    ("uart", "cfg", "parity", "parity mode", 4, 2),
    ("uart", "cfg", "stop_bits", "stop bit count code", 6, 2),
    ("uart", "cfg", "oversampling", "oversampling ratio", 24, 8),
    ("uart", "status", "tx_free", "free transmit FIFO slots", 8, 5),
    ("adc", "seq", "channel", "channel number", 0, 5),
    ("adc", "seq", "sample_time", "sample time code", 5, 3),
    ("adc", "seq", "length", "sequence length", 20, 4),
    ("adc", "result", "data", "conversion result", 0, 12),
    ("adc", "result", "tag", "result channel tag", 27, 5),
    ("pwm", "period", "prescaler", "clock prescaler", 28, 4),
    ("pwm", "period", "period", "period in ticks", 0, 16),
    ("pwm", "duty", "dead_time", "dead time in ticks", 16, 10),
    ("can", "btr", "brp", "baud rate prescaler", 0, 10),
    ("can", "btr", "ts1", "time segment 1", 16, 4),
    ("can", "btr", "ts2", "time segment 2", 20, 3),
    ("can", "btr", "sjw", "resynchronisation jump width", 24, 2),
    ("can", "esr", "tec", "transmit error counter", 16, 8),
    ("can", "esr", "lec", "last error code", 4, 3),
    ("dma", "ccr", "priority", "channel priority", 12, 2),
    ("dma", "ccr", "msize", "memory word size code", 10, 2),
    ("dma", "cndtr", "count", "number of data items", 4, 16),
    ("eth", "maccr", "ifg", "inter-frame gap code", 17, 3),
    ("eth", "macvtr", "vid", "VLAN ID to match", 2, 12),
    ("eth", "mtlq", "tc_weight", "traffic class weight", 0, 7),
    ("eth", "mtlq", "queue_size", "queue size in 256-byte blocks", 16, 9),
    ("gpio", "mode", "pin13", "mode of pin 13", 26, 2),
    ("gpio", "afr", "pin3_af", "alternate function of pin 3", 12, 4),
    ("wdt", "ctrl", "window", "window value", 1, 7),
    ("wdt", "ctrl", "lock", "configuration lock bit", 31, 1),
    ("rcc", "pll", "mul", "PLL multiplier", 18, 6),
    ("rcc", "pll", "div", "PLL output divider", 0, 3),
    ("timer", "ccmr", "oc_mode", "output compare mode", 12, 3),
)
assert len({(lo, width) for *_, lo, width in REGISTER_FIELDS}) == len(REGISTER_FIELDS), "fields must differ"
FIELD_REGISTERS = (0x00000000, 0xFFFFFFFF, 0x12345678, 0xA5A5A5A5, 0x80000001, 0xDEADBEEF)
# How a prompt places the field: by its highest and lowest bit, or by its width and lowest bit. The
# reference's macros take the same two numbers and let the compiler derive the mask, so a student copies
# them from the prompt instead of computing a mask.
WHERE = (
    ("occupies bits {hi}..{lo}", "bounds"),
    ("is {width} bit{s} wide, starting at bit {lo}", "width"),
    ("sits in bits [{hi}:{lo}]", "bounds"),
    ("is the {width}-bit field whose least significant bit is bit {lo}", "width"),
)


def field_get(reg: int, lo: int, width: int) -> int:
    return (reg >> lo) & ((1 << width) - 1)


def field_set(reg: int, lo: int, width: int, value: int) -> int:
    mask = (1 << width) - 1
    return reg if value > mask else (reg & ~(mask << lo) & 0xFFFFFFFF) | (value << lo)


def add_field(peripheral: str, register: str, field: str, meaning: str, lo: int, width: int) -> None:
    assert width < 32, "the macros shift 1U by the width"
    hi, mask = lo + width - 1, (1 << width) - 1
    stem, macro = f"{peripheral}_{register}", f"{peripheral}_{register}_{field}".upper()
    where, form = pick(WHERE, stem + field, "field-where")
    where = where.format(hi=hi, lo=lo, width=width, s="" if width == 1 else "s")
    intro = (f"In the {peripheral.upper()} peripheral's {register.upper()} register (32 bits, bit 0 the least "
             f"significant), the {field.upper()} field ({meaning}) {where}.")
    if form == "bounds":
        span = f"bits {hi}..{lo}"
        defines = (f"#define {macro}_POS {lo}U\n#define {macro}_MSB {hi}U\n"
                   f"#define {macro}_MASK (((uint32_t)1U << (({macro}_MSB - {macro}_POS) + 1U)) - 1U)")
    else:
        span = f"{width} bit{'' if width == 1 else 's'} from bit {lo}"
        defines = (f"#define {macro}_POS {lo}U\n#define {macro}_WIDTH {width}U\n"
                   f"#define {macro}_MASK (((uint32_t)1U << {macro}_WIDTH) - 1U)")
    getter = f"{stem}_get_{field}"
    # the field alone, everything but the field, and a single bit at each end: no two fields agree on these
    registers = FIELD_REGISTERS + (mask << lo, ~(mask << lo) & 0xFFFFFFFF, 1 << lo, 1 << hi)
    FAMILY.add(f"{peripheral}-{register}-get-{field.replace('_', '-')}", "easy",
               ask=f"{intro} Return that field, right-aligned, from a register value.",
               signature=f"uint32_t {getter}(uint32_t reg)",
               reference=f"""\
#include <stdint.h>

{defines}

/**
 * @brief Read the {field.upper()} field ({span}) of the {register.upper()} register.
 * @param reg The register value.
 * @return The field, right-aligned.
 */
uint32_t {getter}(uint32_t reg)
{{
    return (reg >> {macro}_POS) & {macro}_MASK;
}}
""", harness_body="\n".join(f"HX_U({getter}(0x{r:08X}U), 0x{field_get(r, lo, width):X}U);" for r in registers))
    setter = f"{stem}_set_{field}"
    values = sorted({0, mask, mask >> 1, 0x5555 & mask, mask + 1, 0xFFFFFFFF})
    rows = [f"HX_U({setter}(0x{r:08X}U, 0x{v:X}U), 0x{field_set(r, lo, width, v):08X}U);"
            for r in FIELD_REGISTERS[1:5] for v in values]
    FAMILY.add(f"{peripheral}-{register}-set-{field.replace('_', '-')}", "easy" if width > 1 else "medium",
               ask=f"""{intro} Return the register value with that field replaced by value and every other
               bit unchanged (read-modify-write). A value that does not fit in the field is a caller error:
               return reg unchanged.""",
               signature=f"uint32_t {setter}(uint32_t reg, uint32_t value)",
               reference=f"""\
#include <stdint.h>

{defines}

/**
 * @brief Replace the {field.upper()} field ({span}) of the {register.upper()} register.
 * @param reg The current register value.
 * @param value The new field value, right-aligned.
 * @return reg with the field replaced, or reg unchanged when value does not fit.
 */
uint32_t {setter}(uint32_t reg, uint32_t value)
{{
    uint32_t result = reg;
    if (value <= {macro}_MASK) {{
        result = (reg & ~({macro}_MASK << {macro}_POS)) | (value << {macro}_POS);
    }}
    return result;
}}
""", harness_body="\n".join(rows))


for _spec in REGISTER_FIELDS:
    add_field(*_spec)

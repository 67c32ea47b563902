"""Saturating integer and fixed-point arithmetic (Q15, Q16.16) for control loops and signal
processing without an FPU; rounding and overflow rules are spelled out in each prompt."""

import math

from common import Family, pick

FAMILY = Family("fixed_point", area="motor control and sensor processing code (no FPU)")

I16 = (-32768, 32767)
I32 = (-(2**31), 2**31 - 1)


def sat(value: int, bounds: tuple[int, int]) -> int:
    return max(bounds[0], min(bounds[1], value))


def tdiv(a: int, b: int) -> int:
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def c_i32(value: int) -> str:
    return "INT32_MIN" if value == -(2**31) else str(value)


def cases(call: str, rows, model) -> str:
    return "\n".join(f"HX_I({call.format(*row)}, {c_i32(model(*row))});" for row in rows)


ADD16 = [(100, 200), (32000, 1000), (-32000, -1000), (32767, -32768), (-32768, -1), (32767, 0), (-5, 5)]
FAMILY.add(
    "sat-add-i16", "easy",
    ask="""Add two signed 16-bit PWM duty corrections with saturation: a result above INT16_MAX is clamped
    to INT16_MAX and one below INT16_MIN to INT16_MIN, instead of wrapping.""",
    signature="int16_t sat_add_i16(int16_t a, int16_t b)",
    reference=r"""
    #include <stdint.h>

    /**
     * @brief Saturating addition of two int16_t values.
     * @param a First operand.
     * @param b Second operand.
     * @return a + b clamped to [INT16_MIN, INT16_MAX].
     */
    int16_t sat_add_i16(int16_t a, int16_t b)
    {
        int32_t sum = (int32_t)a + (int32_t)b;
        if (sum > INT16_MAX) {
            sum = INT16_MAX;
        } else if (sum < INT16_MIN) {
            sum = INT16_MIN;
        } else {
            /* in range */
        }
        return (int16_t)sum;
    }
    """,
    harness_body=cases("sat_add_i16({}, {})", ADD16, lambda a, b: sat(a + b, I16)),
)

SUB8 = [(200, 50), (50, 200), (0, 1), (255, 255), (255, 0), (10, 9)]
FAMILY.add(
    "sat-sub-u8", "easy",
    ask="""Subtract two unsigned 8-bit brightness levels for the dimming ramp, clamping at 0 instead of
    wrapping around when b is larger than a.""",
    signature="uint8_t sat_sub_u8(uint8_t a, uint8_t b)",
    reference=r"""
    #include <stdint.h>

    /**
     * @brief Saturating subtraction of two uint8_t values.
     * @param a Minuend.
     * @param b Subtrahend.
     * @return a - b, or 0 if b > a.
     */
    uint8_t sat_sub_u8(uint8_t a, uint8_t b)
    {
        uint8_t result = 0U;
        if (a > b) {
            result = (uint8_t)(a - b);
        }
        return result;
    }
    """,
    harness_body="\n".join(f"HX_U(sat_sub_u8({a}U, {b}U), {max(0, a - b)}U);" for a, b in SUB8),
)

ADD32 = [(1, 2), (2**31 - 1, 1), (-(2**31), -1), (2**31 - 100, 50), (-(2**31) + 100, -50), (2**31 - 1, -(2**31)),
         (-7, 7), (1 << 30, 1 << 30)]
FAMILY.add(
    "sat-add-i32", "medium",
    ask="""Add two int32_t integrator values with saturation to INT32_MIN/INT32_MAX. The target has no
    cheap 64-bit arithmetic, so detect the overflow before adding, without using a wider type and
    without ever performing a signed overflow.""",
    signature="int32_t sat_add_i32(int32_t a, int32_t b)",
    reference=r"""
    #include <stdint.h>

    /**
     * @brief Saturating addition of two int32_t values without a wider type.
     * @param a First operand.
     * @param b Second operand.
     * @return a + b clamped to [INT32_MIN, INT32_MAX].
     */
    int32_t sat_add_i32(int32_t a, int32_t b)
    {
        int32_t sum;
        if ((b > 0) && (a > (INT32_MAX - b))) {
            sum = INT32_MAX;
        } else if ((b < 0) && (a < (INT32_MIN - b))) {
            sum = INT32_MIN;
        } else {
            sum = a + b;
        }
        return sum;
    }
    """,
    harness_body="\n".join(
        f"HX_I(sat_add_i32({c_i32(a)}, {c_i32(b)}), {c_i32(sat(a + b, I32))});" for a, b in ADD32),
)


def q15_mul(a: int, b: int) -> int:
    p = a * b
    r = (p + 16384) // 32768 if p >= 0 else -((-p + 16384) // 32768)
    return sat(r, I16)


Q15MUL = [(16384, 16384), (-32768, -32768), (-32768, 32767), (32767, 32767), (1, 16384), (-1, 16384), (3, 10923),
          (-3, 10923), (0, -32768), (-16384, 16384)]
FAMILY.add(
    "q15-mul", "medium",
    ask="""Multiply two Q15 fixed-point numbers (int16_t, value / 32768) for the current controller: compute
    the exact product, divide by 2^15 rounding to nearest with ties away from zero, and saturate to the
    int16_t range (so -1.0 x -1.0 gives 32767). Do not right-shift negative numbers.""",
    signature="int16_t q15_mul(int16_t a, int16_t b)",
    reference=r"""
    #include <stdint.h>

    #define Q15_HALF ((int32_t)16384)
    #define Q15_ONE ((int32_t)32768)

    /**
     * @brief Multiply two Q15 values with rounding and saturation.
     * @param a First factor in Q15.
     * @param b Second factor in Q15.
     * @return a * b in Q15, rounded to nearest (ties away from zero), saturated.
     */
    int16_t q15_mul(int16_t a, int16_t b)
    {
        int32_t product = (int32_t)a * (int32_t)b;
        int32_t result;
        if (product >= 0) {
            result = (product + Q15_HALF) / Q15_ONE;
        } else {
            result = -((-product + Q15_HALF) / Q15_ONE);
        }
        if (result > INT16_MAX) {
            result = INT16_MAX;
        } else if (result < INT16_MIN) {
            result = INT16_MIN;
        } else {
            /* in range */
        }
        return (int16_t)result;
    }
    """,
    harness_body=cases("q15_mul({}, {})", Q15MUL, q15_mul),
)

NARROW = [0, 32767, 32768, -32768, -32769, 2**31 - 1, -(2**31), -1234]
FAMILY.add(
    "sat-narrow", "easy",
    ask="""Store a 32-bit accumulator result into a 16-bit DAC register variable: clamp it to the int16_t
    range instead of truncating the upper bits.""",
    signature="int16_t sat_narrow_i32(int32_t value)",
    reference=r"""
    #include <stdint.h>

    /**
     * @brief Convert int32_t to int16_t with saturation.
     * @param value The value to narrow.
     * @return value clamped to [INT16_MIN, INT16_MAX].
     */
    int16_t sat_narrow_i32(int32_t value)
    {
        int32_t clamped = value;
        if (clamped > INT16_MAX) {
            clamped = INT16_MAX;
        } else if (clamped < INT16_MIN) {
            clamped = INT16_MIN;
        } else {
            /* in range */
        }
        return (int16_t)clamped;
    }
    """,
    harness_body="\n".join(f"HX_I(sat_narrow_i32({c_i32(v)}), {sat(v, I16)});" for v in NARROW),
)

FAMILY.add(
    "q15-abs", "easy",
    ask="""Return the absolute value of a Q15 sample for the envelope detector. abs(-32768) does not fit in
    int16_t, so it must saturate to 32767 rather than overflow.""",
    signature="int16_t q15_abs(int16_t x)",
    reference=r"""
    #include <stdint.h>

    /**
     * @brief Saturating absolute value of a Q15 number.
     * @param x The value.
     * @return |x|, with INT16_MIN mapped to INT16_MAX.
     */
    int16_t q15_abs(int16_t x)
    {
        int16_t result = x;
        if (x == INT16_MIN) {
            result = INT16_MAX;
        } else if (x < 0) {
            result = (int16_t)(-x);
        } else {
            /* already non-negative */
        }
        return result;
    }
    """,
    harness_body=cases("q15_abs({})", [(5,), (-5,), (-32768,), (32767,), (0,), (-32767,)], lambda x: min(abs(x), 32767)),
)

Q16MUL = [(65536, 65536), (3 * 65536, -2 * 65536), (98304, 98304), (-98304, 98304), (1, 1), (-1, 65535),
          (2**31 - 1, 2 * 65536), (-(2**31), 2 * 65536), (123456789, 65536 // 4), (-70000, 3)]
FAMILY.add(
    "q16-mul", "medium",
    ask="""Multiply two Q16.16 fixed-point numbers (int32_t, value / 65536) for the wheel-speed filter: use a
    64-bit intermediate product, divide by 65536 truncating toward zero, and saturate to the int32_t
    range.""",
    signature="int32_t q16_mul(int32_t a, int32_t b)",
    reference=r"""
    #include <stdint.h>

    #define Q16_ONE 65536LL

    /**
     * @brief Multiply two Q16.16 values with saturation.
     * @param a First factor in Q16.16.
     * @param b Second factor in Q16.16.
     * @return a * b in Q16.16, truncated toward zero, saturated to int32_t.
     */
    int32_t q16_mul(int32_t a, int32_t b)
    {
        int64_t product = ((int64_t)a * (int64_t)b) / Q16_ONE;
        if (product > INT32_MAX) {
            product = INT32_MAX;
        } else if (product < INT32_MIN) {
            product = INT32_MIN;
        } else {
            /* in range */
        }
        return (int32_t)product;
    }
    """,
    harness_body="\n".join(
        f"HX_I(q16_mul({c_i32(a)}, {c_i32(b)}), {c_i32(sat(tdiv(a * b, 65536), I32))});" for a, b in Q16MUL),
)


def q16_div(a: int, b: int) -> int:
    if b == 0:
        return 0 if a == 0 else (I32[1] if a > 0 else I32[0])
    return sat(tdiv(a * 65536, b), I32)


Q16DIV = [(65536, 2 * 65536), (3 * 65536, -2 * 65536), (1, 3), (-65536, 3 * 65536), (2**31 - 1, 1),
          (-(2**31), 1), (5, 0), (-5, 0), (0, 0), (10 * 65536, 4 * 65536)]
FAMILY.add(
    "q16-div", "hard",
    ask="""Divide two Q16.16 numbers for the PI controller's gain scheduling: result = a x 65536 / b using
    a 64-bit intermediate, truncated toward zero and saturated to the int32_t range. Division by zero
    must not trap: return INT32_MAX for a positive dividend, INT32_MIN for a negative one and 0 for
    0 / 0.""",
    signature="int32_t q16_div(int32_t a, int32_t b)",
    reference=r"""
    #include <stdint.h>

    #define Q16_ONE 65536LL

    /**
     * @brief Divide two Q16.16 values with saturation and a defined division by zero.
     * @param a Dividend in Q16.16.
     * @param b Divisor in Q16.16.
     * @return a / b in Q16.16, truncated toward zero, saturated; saturated by sign for b == 0.
     */
    int32_t q16_div(int32_t a, int32_t b)
    {
        int64_t quotient;
        if (b == 0) {
            if (a > 0) {
                quotient = INT32_MAX;
            } else if (a < 0) {
                quotient = INT32_MIN;
            } else {
                quotient = 0;
            }
        } else {
            quotient = ((int64_t)a * Q16_ONE) / (int64_t)b;
            if (quotient > INT32_MAX) {
                quotient = INT32_MAX;
            } else if (quotient < INT32_MIN) {
                quotient = INT32_MIN;
            } else {
                /* in range */
            }
        }
        return (int32_t)quotient;
    }
    """,
    harness_body="\n".join(f"HX_I(q16_div({c_i32(a)}, {c_i32(b)}), {c_i32(q16_div(a, b))});" for a, b in Q16DIV),
)

AVG = [(10, 20), (2**32 - 1, 2**32 - 1), (2**32 - 1, 2**32 - 2), (0, 1), (7, 0), (3000000000, 4000000000)]
FAMILY.add(
    "avg-u32", "easy",
    ask="""Average two unsigned 32-bit tick counts, rounding down, without overflowing even when both are
    close to UINT32_MAX and without using a 64-bit type.""",
    signature="uint32_t avg_u32(uint32_t a, uint32_t b)",
    reference=r"""
    #include <stdint.h>

    /**
     * @brief Floor of the average of two uint32_t values without overflow.
     * @param a First value.
     * @param b Second value.
     * @return floor((a + b) / 2).
     */
    uint32_t avg_u32(uint32_t a, uint32_t b)
    {
        return (a >> 1U) + (b >> 1U) + (a & b & 1U);
    }
    """,
    harness_body="\n".join(f"HX_U(avg_u32({a}UL, {b}UL), {(a + b) // 2}UL);" for a, b in AVG),
)


def adc_mv(raw: int, vref: int, bits: int) -> int:
    if not 1 <= bits <= 16:
        return 0
    full = (1 << bits) - 1
    raw = min(raw, full)
    return (raw * vref * 2 + full) // (2 * full)


ADC = [(2048, 3300, 12), (4095, 3300, 12), (0, 5000, 12), (5000, 3300, 12), (1, 5000, 10), (512, 5000, 10),
       (65535, 65535, 16), (1, 1, 1), (100, 3300, 0), (100, 3300, 17), (3, 1000, 2)]
FAMILY.add(
    "adc-to-mv", "medium",
    ask="""Convert a raw ADC reading of the battery voltage divider into millivolts: mV = raw x vref_mv /
    (2^bits - 1), rounded to the nearest millivolt (halves round up). Readings above full scale (noise
    on the last bit) are clamped to full scale first. resolution bits must be 1..16, otherwise return
    0. Use integer arithmetic only.""",
    signature="uint16_t adc_to_millivolts(uint16_t raw, uint16_t vref_mv, uint8_t bits)",
    reference=r"""
    #include <stdint.h>

    /**
     * @brief Scale a raw ADC value to millivolts.
     * @param raw Raw conversion result.
     * @param vref_mv Reference voltage (full scale) in millivolts.
     * @param bits ADC resolution in bits, 1..16.
     * @return The voltage in mV, rounded half up; 0 for an invalid resolution.
     */
    uint16_t adc_to_millivolts(uint16_t raw, uint16_t vref_mv, uint8_t bits)
    {
        uint32_t mv = 0U;
        if ((bits >= 1U) && (bits <= 16U)) {
            uint32_t full_scale = ((uint32_t)1U << bits) - 1U;
            uint32_t reading = ((uint32_t)raw > full_scale) ? full_scale : (uint32_t)raw;
            /* (2 * raw * vref + full) / (2 * full) rounds halves up */
            uint64_t scaled = ((uint64_t)reading * (uint64_t)vref_mv * 2U) + (uint64_t)full_scale;
            mv = (uint32_t)(scaled / ((uint64_t)full_scale * 2U));
        }
        return (uint16_t)mv;
    }
    """,
    harness_body="\n".join(f"HX_U(adc_to_millivolts({r}U, {v}U, {b}U), {adc_mv(r, v, b)}U);" for r, v, b in ADC),
)


def lerp(a: int, b: int, t: int) -> int:
    t = min(t, 32768)
    return a + tdiv((b - a) * t, 32768)


LERP = [(0, 1000, 16384), (-32768, 32767, 32768), (-32768, 32767, 0), (-32768, 32767, 16384), (1000, 0, 8192),
        (100, 200, 40000), (5, 6, 1), (-100, -300, 12345)]
FAMILY.add(
    "q15-lerp", "medium",
    ask="""Interpolate between two calibration points a and b with a Q15 weight t (0 = a, 32768 = b; larger
    weights are clamped to 32768): a + (b - a) x t / 32768, the division truncating toward zero. The
    difference b - a can exceed the int16_t range, so compute in 32 bits.""",
    signature="int16_t q15_lerp(int16_t a, int16_t b, uint16_t t)",
    reference=r"""
    #include <stdint.h>

    #define Q15_ONE ((int32_t)32768)

    /**
     * @brief Linear interpolation with a Q15 weight.
     * @param a Value at t = 0.
     * @param b Value at t = 32768.
     * @param t Weight in Q15, 0..32768 (larger values are clamped).
     * @return a + (b - a) * t / 32768, truncated toward zero.
     */
    int16_t q15_lerp(int16_t a, int16_t b, uint16_t t)
    {
        int32_t weight = (t > 32768U) ? Q15_ONE : (int32_t)t;
        int32_t delta = (int32_t)b - (int32_t)a;
        return (int16_t)((int32_t)a + ((delta * weight) / Q15_ONE));
    }
    """,
    harness_body=cases("q15_lerp({}, {}, {}U)", LERP, lerp),
)

SQRT = [0, 1, 2, 3, 4, 15, 16, 17, 1000000, 4294967295, 4294836225, 4294836224, 99980001]
FAMILY.add(
    "isqrt", "medium",
    ask="""Compute the integer square root (rounded down) of a 32-bit value, e.g. the RMS of a sum of
    squared current samples, with the bit-by-bit (digit-by-digit) method: no floating point, no
    division, a bounded loop.""",
    signature="uint16_t isqrt32(uint32_t value)",
    reference=r"""
    #include <stdint.h>

    /**
     * @brief Floor of the square root of a 32-bit value.
     * @param value The radicand.
     * @return floor(sqrt(value)), 0..65535.
     */
    uint16_t isqrt32(uint32_t value)
    {
        uint32_t remainder = value;
        uint32_t root = 0U;
        uint32_t bit = (uint32_t)1U << 30U;
        while (bit > remainder) {
            bit >>= 2U;
        }
        while (bit != 0U) {
            if (remainder >= (root + bit)) {
                remainder -= root + bit;
                root = (root >> 1U) + bit;
            } else {
                root >>= 1U;
            }
            bit >>= 2U;
        }
        return (uint16_t)root;
    }
    """,
    harness_body="\n".join(f"HX_U(isqrt32({v}UL), {math.isqrt(v)}U);" for v in SQRT),
)


def lowpass(state: int, inp: int, alpha: int) -> int:
    alpha = min(alpha, 32768)
    return state + tdiv((inp - state) * alpha, 32768)


LOWPASS = [(0, 1000, 16384), (0, 1000, 32768), (1000, 0, 3277), (-(2**31), 2**31 - 1, 16384), (500, 500, 100),
           (0, -7, 32767), (10, 20, 65535), (2**31 - 1, -(2**31), 32768)]
FAMILY.add(
    "lowpass-q15", "medium",
    ask="""Run one step of a first-order IIR low-pass filter on a sensor value: new = state + (input - state)
    x alpha / 32768, where alpha is a Q15 smoothing factor in 0..32768 (larger values are clamped to
    32768) and the division truncates toward zero. state and input span the full int32_t range, so use
    a 64-bit intermediate.""",
    signature="int32_t lowpass_q15(int32_t state, int32_t input, uint16_t alpha_q15)",
    reference=r"""
    #include <stdint.h>

    #define Q15_ONE 32768LL

    /**
     * @brief One step of a first-order low-pass filter with a Q15 coefficient.
     * @param state Previous filter output.
     * @param input New input sample.
     * @param alpha_q15 Smoothing factor in Q15, 0..32768 (larger values are clamped).
     * @return state + (input - state) * alpha / 32768, truncated toward zero.
     */
    int32_t lowpass_q15(int32_t state, int32_t input, uint16_t alpha_q15)
    {
        int64_t alpha = (alpha_q15 > 32768U) ? Q15_ONE : (int64_t)alpha_q15;
        int64_t delta = (int64_t)input - (int64_t)state;
        return (int32_t)((int64_t)state + ((delta * alpha) / Q15_ONE));
    }
    """,
    harness_body="\n".join(
        f"HX_I(lowpass_q15({c_i32(s)}, {c_i32(i)}, {a}U), {c_i32(lowpass(s, i, a))});" for s, i, a in LOWPASS),
)


# --- generated variants: saturating arithmetic per type, Q-format multiply per rounding, Q conversions --
# Expected values come from the Python models below (exact integer arithmetic, then the stated rounding
# and saturation).

INT_TYPES = {  # name: (C type, bounds, wider C type for the exact result)
    "i8": ("int8_t", (-128, 127), "int32_t"), "i16": ("int16_t", I16, "int32_t"), "i32": ("int32_t", I32, "int64_t"),
    "u8": ("uint8_t", (0, 255), "uint32_t"), "u16": ("uint16_t", (0, 65535), "uint32_t"),
    "u32": ("uint32_t", (0, 2**32 - 1), "uint64_t"),
}
LIMITS = {"int8_t": ("INT8_MIN", "INT8_MAX"), "int16_t": ("INT16_MIN", "INT16_MAX"),
          "int32_t": ("INT32_MIN", "INT32_MAX"), "uint8_t": (None, "UINT8_MAX"), "uint16_t": (None, "UINT16_MAX"),
          "uint32_t": (None, "UINT32_MAX")}
SAT_USES = ("integrator of the speed controller", "accumulated sensor offsets", "torque request arbitration",
            "battery current estimate", "diagnostic event counters", "cell voltage deltas")


def c_int(value: int) -> str:
    if value == -(2**31):
        return "INT32_MIN"
    if value == -(2**63):
        return "INT64_MIN"
    return f"{value}LL" if abs(value) > 2**31 - 1 else str(value)


def clamp_lines(variable: str, ctype: str, indent: str = "    ", limits: tuple | None = None) -> str:
    low, high = limits or LIMITS[ctype]
    text = f"{indent}if ({variable} > {high}) {{\n{indent}    {variable} = {high};\n{indent}}}"
    if low is not None:
        text += f" else if ({variable} < {low}) {{\n{indent}    {variable} = {low};\n{indent}}}"
    return text + f" else {{\n{indent}    /* in range */\n{indent}}}"


def add_saturating(kind: str, op: str) -> None:
    ctype, bounds, wide = INT_TYPES[kind]
    function = f"sat_{op}_{kind}"
    symbol, verb = ("+", "Add") if op == "add" else ("-", "Subtract")
    if kind.startswith("u") and op == "sub":
        body = f"    {ctype} result = 0U;\n    if (a > b) {{\n        result = ({ctype})(a - b);\n    }}\n    return result;"
    else:
        body = (f"    {wide} exact = ({wide})a {symbol} ({wide})b;\n{clamp_lines('exact', ctype)}\n"
                f"    return ({ctype})exact;")
    low, high = bounds
    rows = [(high, 1), (low, 1), (high, high), (low, high), (100, 27), (high, low), (low, low), (5, 7), (0, 0)]
    model = (lambda a, b: sat(a + b, bounds)) if op == "add" else (lambda a, b: sat(a - b, bounds))
    harness_rows = [f"HX_I({function}({c_int(a)}, {c_int(b)}), {c_int(model(a, b))});" for a, b in rows]
    FAMILY.add(f"sat-{op}-{kind}", "easy" if kind in ("i8", "u8", "u16") else "medium",
               ask=f"""{verb} two {ctype} values for the {pick(SAT_USES, function, 'sat-use')} with saturation: a result
               outside the {ctype} range is clamped to the nearest limit instead of wrapping. Avoid signed
               overflow and implementation-defined conversions.""",
               signature=f"{ctype} {function}({ctype} a, {ctype} b)",
               reference=f"""\
#include <stdint.h>

/**
 * @brief Saturating {'addition' if op == 'add' else 'subtraction'} of two {ctype} values.
 * @param a First operand.
 * @param b Second operand.
 * @return a {symbol} b clamped to the {ctype} range.
 */
{ctype} {function}({ctype} a, {ctype} b)
{{
{body}
}}
""", harness_body="\n".join(harness_rows))


Q_FORMATS = {  # name: (C type, fractional bits, wider type, what it is used for)
    "q7": ("int8_t", 7, "int32_t", "audio gain steps"), "q15": ("int16_t", 15, "int32_t", "filter coefficients"),
    "q31": ("int32_t", 31, "int64_t", "high-resolution mixer gains"),
    "q8_8": ("int16_t", 8, "int32_t", "temperature readings in degrees"),
    "q4_12": ("int16_t", 12, "int32_t", "PID gains"), "q24_8": ("int32_t", 8, "int64_t", "position in millimetres"),
    "q16_16": ("int32_t", 16, "int64_t", "wheel-speed filter values"),
}
ROUNDINGS = {
    "trunc": "truncating toward zero",
    "floor": "rounding toward minus infinity (floor)",
    "round": "rounding to nearest with ties away from zero",
    "halfup": "rounding to nearest with ties toward plus infinity (add one half, then floor)",
}


def q_label(name: str) -> str:
    ctype, frac, _, _ = Q_FORMATS[name]
    bits = int(ctype[3:-2])
    return f"Q{frac}" if frac == bits - 1 else f"Q{bits - frac}.{frac}"


def scale_down(value: int, divisor: int, rounding: str) -> int:
    if rounding == "trunc":
        return tdiv(value, divisor)
    if rounding == "floor":
        return value // divisor
    if rounding == "halfup":
        return (value + divisor // 2) // divisor
    magnitude = (abs(value) + divisor // 2) // divisor
    return magnitude if value >= 0 else -magnitude


def scale_down_lines(source: str, rounding: str, one: str, half: str) -> str:
    """C statements setting `result` to source / one with the given rounding, without shifting negatives."""
    if rounding == "trunc":
        return f"    result = {source} / {one};"
    if rounding == "round":
        return (f"    if ({source} >= 0) {{\n        result = ({source} + {half}) / {one};\n    }} else {{\n"
                f"        result = -((-{source} + {half}) / {one});\n    }}")
    shifted = source if rounding == "floor" else f"({source} + {half})"
    return (f"    if ({shifted} >= 0) {{\n        result = {shifted} / {one};\n    }} else {{\n"
            f"        result = -((-{shifted} + ({one} - 1)) / {one});\n    }}")


def wide_literal(value: int, wide: str) -> str:
    return f"(({wide}){value})" if wide == "int32_t" else f"{value}LL"


def add_q_mul(fmt: str, rounding: str) -> None:
    ctype, frac, wide, use = Q_FORMATS[fmt]
    bounds = (-(1 << (int(ctype[3:-2]) - 1)), (1 << (int(ctype[3:-2]) - 1)) - 1)
    function, label, macro = f"{fmt}_mul_{rounding}", q_label(fmt), fmt.upper()
    one, half = 1 << frac, 1 << (frac - 1)
    lo, hi = bounds
    rows = [(hi, hi), (lo, lo), (lo, hi), (1, half), (-1, half), (-3, half), (-1, 3 << (frac - 2)),
            (1, 3 << (frac - 2)), (hi, -1), (half, half), (-half, 3), (37, -91 if lo < -91 else -5)]

    def model(a: int, b: int) -> int:
        return sat(scale_down(a * b, one, rounding), bounds)

    FAMILY.add(f"{fmt.replace('_', '-')}-mul-{rounding}", "medium" if rounding in ("trunc", "round") else "hard",
               ask=f"""Multiply two {label} fixed-point numbers ({ctype}, value / 2^{frac}) holding {use}: form
               the exact product in a wider integer, divide it by 2^{frac} {ROUNDINGS[rounding]}, and
               saturate to the {ctype} range. Do not right-shift negative numbers.""",
               signature=f"{ctype} {function}({ctype} a, {ctype} b)",
               reference=f"""\
#include <stdint.h>

#define {macro}_ONE {wide_literal(one, wide)}
#define {macro}_HALF {wide_literal(half, wide)}

/**
 * @brief Multiply two {label} values, {ROUNDINGS[rounding]}, with saturation.
 * @param a First factor in {label}.
 * @param b Second factor in {label}.
 * @return a * b in {label}, saturated to the {ctype} range.
 */
{ctype} {function}({ctype} a, {ctype} b)
{{
    {wide} product = ({wide})a * ({wide})b;
    {wide} result;
{scale_down_lines('product', rounding, f'{macro}_ONE', f'{macro}_HALF')}
{clamp_lines('result', ctype)}
    return ({ctype})result;
}}
""", harness_body="\n".join(f"HX_I({function}({c_int(a)}, {c_int(b)}), {c_int(model(a, b))});" for a, b in rows))


def add_q_convert(source: str, target: str) -> None:
    s_type, s_frac, _, _ = Q_FORMATS[source]
    t_type, t_frac, _, use = Q_FORMATS[target]
    s_bits, t_bits = int(s_type[3:-2]), int(t_type[3:-2])
    s_bounds = (-(1 << (s_bits - 1)), (1 << (s_bits - 1)) - 1)
    t_bounds = (-(1 << (t_bits - 1)), (1 << (t_bits - 1)) - 1)
    function = f"{source}_to_{target}"
    if t_frac >= s_frac:
        factor = 1 << (t_frac - s_frac)
        how = f"multiply by 2^{t_frac - s_frac}"
        lines = f"    result = value * {factor}LL;"
        model = lambda v: sat(v * factor, t_bounds)  # noqa: E731
    else:
        divisor = 1 << (s_frac - t_frac)
        how = f"divide by 2^{s_frac - t_frac} rounding to nearest with ties away from zero"
        lines = scale_down_lines("value", "round", f"{divisor}LL", f"{divisor // 2}LL")
        model = lambda v: sat(scale_down(v, divisor, "round"), t_bounds)  # noqa: E731
    lo, hi = s_bounds
    inputs = sorted({lo, hi, 0, 1, -1, hi // 3, lo // 5, 1 << (s_frac - 1), -(1 << (s_frac - 1)) - 1, 12345 % hi,
                     -(3 << max(0, s_frac - t_frac - 1)) if s_frac > t_frac else -77})
    FAMILY.add(f"{source.replace('_', '-')}-to-{target.replace('_', '-')}", "medium",
               ask=f"""Convert a {q_label(source)} value ({s_type}, value / 2^{s_frac}) to {q_label(target)}
               ({t_type}, value / 2^{t_frac}) for the {use} path: {how}, and saturate to the {t_type} range.
               Do not shift negative numbers.""",
               signature=f"{t_type} {function}({s_type} x)",
               reference=f"""\
#include <stdint.h>

/**
 * @brief Convert {q_label(source)} to {q_label(target)} with saturation.
 * @param x The value in {q_label(source)}.
 * @return x in {q_label(target)}, saturated to the {t_type} range.
 */
{t_type} {function}({s_type} x)
{{
    int64_t value = (int64_t)x;
    int64_t result;
{lines}
{clamp_lines('result', t_type, limits=(f'{t_bounds[0]}LL', f'{t_bounds[1]}LL'))}
    return ({t_type})result;
}}
""", harness_body="\n".join(f"HX_I({function}({c_int(v)}), {c_int(model(v))});" for v in inputs))


for _kind in ("i8", "u8", "u16", "u32"):
    add_saturating(_kind, "add")
for _kind in ("i8", "i16", "i32", "u16", "u32"):
    add_saturating(_kind, "sub")
for _fmt in Q_FORMATS:
    for _rounding in ROUNDINGS:
        if (_fmt, _rounding) not in {("q15", "round"), ("q16_16", "trunc")}:  # q15-mul and q16-mul above
            add_q_mul(_fmt, _rounding)
for _source, _target in (("q15", "q7"), ("q31", "q15"), ("q15", "q31"), ("q16_16", "q15"), ("q8_8", "q15"),
                         ("q15", "q8_8"), ("q4_12", "q15"), ("q24_8", "q16_16"), ("q16_16", "q8_8"), ("q31", "q7"),
                         ("q7", "q4_12"), ("q16_16", "q24_8")):
    add_q_convert(_source, _target)

"""Input conditioning: switch debouncing (shift register, integrator, vertical counters, time based),
hysteresis, edge detection, long presses, majority vote, median and slew-rate filters."""

from common import Family

FAMILY = Family("debounce", area="digital and analog input handling of the door/seat module")


def hx_bool(value: bool) -> str:
    return "true" if value else "false"


# --- shift register ---------------------------------------------------------------------------------

def shift_model(samples):
    history, stable, out = 0, False, []
    for raw in samples:
        history = ((history << 1) | raw) & 0xFF
        changed = (history == 0xFF and not stable) or (history == 0x00 and stable)
        if changed:
            stable = not stable
        out.append((changed, stable))
    return out


SHIFT_SAMPLES = [1] * 9 + [0] + [1] * 3 + [0] * 8 + [1, 0]


def _shift_harness() -> str:
    lines = ["uint8_t history = 0U;", "bool stable = false;"]
    for raw, (changed, stable) in zip(SHIFT_SAMPLES, shift_model(SHIFT_SAMPLES)):
        lines.append(f"HX_U(debounce_shift(&history, {hx_bool(raw)}, &stable), {int(changed)}U);")
        lines.append(f"HX_U(stable, {int(stable)}U);")
    lines += ["HX_U(history, 0x02U);", "HX_T(!debounce_shift(NULL, true, &stable));"]
    return "\n".join(lines)


FAMILY.add(
    "shift-register", "easy",
    ask="""Debounce a door-ajar switch sampled every 5 ms with an 8-sample shift register: shift the new raw
    sample into bit 0 of history. The stable state becomes true when the last 8 samples were all 1
    (history 0xFF) and false when they were all 0 (0x00); otherwise it keeps its value. Return true
    only when the stable state changed on this call. NULL pointers: return false.""",
    signature="bool debounce_shift(uint8_t *history, bool raw, bool *stable)",
    reference=r"""
    #include <stdbool.h>
    #include <stddef.h>
    #include <stdint.h>

    /**
     * @brief Shift-register debouncing of one input.
     * @param history Last 8 raw samples, newest in bit 0; updated.
     * @param raw New raw sample.
     * @param stable Debounced state; updated.
     * @return true if the debounced state changed on this call.
     */
    bool debounce_shift(uint8_t *history, bool raw, bool *stable)
    {
        bool changed = false;
        if ((history != NULL) && (stable != NULL)) {
            *history = (uint8_t)(((uint32_t)*history << 1U) | (raw ? 1U : 0U));
            if ((*history == 0xFFU) && !*stable) {
                *stable = true;
                changed = true;
            } else if ((*history == 0x00U) && *stable) {
                *stable = false;
                changed = true;
            } else {
                /* bouncing or unchanged */
            }
        }
        return changed;
    }
    """,
    harness_body=_shift_harness(),
)

# --- integrator -------------------------------------------------------------------------------------

DEBOUNCE_T = """\
typedef struct {
    uint8_t counter; /* 0..limit */
    bool state;      /* debounced state */
} debounce_t;"""


def integrate_model(samples, limit):
    counter, state, out = 0, False, []
    limit = max(limit, 1)
    for raw in samples:
        if raw and counter < limit:
            counter += 1
        elif not raw and counter > 0:
            counter -= 1
        if counter == limit:
            state = True
        elif counter == 0:
            state = False
        out.append((state, counter))
    return out


INTEGRATE = [1, 1, 0, 1, 1, 1, 0, 0, 1, 0, 0, 0, 0, 1]


def _integrate_harness() -> str:
    lines = ["debounce_t d;", "memset(&d, 0, sizeof d);"]
    for raw, (state, counter) in zip(INTEGRATE, integrate_model(INTEGRATE, 3)):
        lines.append(f"HX_U(debounce_integrate(&d, {hx_bool(raw)}, 3U), {int(state)}U);")
        lines.append(f"HX_U(d.counter, {counter}U);")
    lines += ["memset(&d, 0, sizeof d);", "HX_T(debounce_integrate(&d, true, 0U));", "HX_U(d.counter, 1U);",
              "HX_T(!debounce_integrate(NULL, true, 3U));"]
    return "\n".join(lines)


FAMILY.add(
    "integrator", "medium",
    ask="""Debounce the seat-belt buckle switch with an integrator: each call counts counter up by one when
    raw is true (not beyond limit) and down by one when it is false (not below 0). The debounced state
    becomes true when the counter reaches limit and false when it reaches 0; in between it keeps its
    value. Return the debounced state. A limit of 0 is treated as 1. A NULL pointer returns false.""",
    signature="bool debounce_integrate(debounce_t *d, bool raw, uint8_t limit)",
    types=DEBOUNCE_T,
    reference=f"""\
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

{DEBOUNCE_T}

/**
 * @brief Integrator debouncing of one input.
 * @param d Debouncer state; updated.
 * @param raw New raw sample.
 * @param limit Counter value at which the input counts as active (0 is treated as 1).
 * @return The debounced state.
 */
bool debounce_integrate(debounce_t *d, bool raw, uint8_t limit)
{{
    bool state = false;
    if (d != NULL) {{
        uint8_t top = (limit == 0U) ? 1U : limit;
        if (raw) {{
            if (d->counter < top) {{
                d->counter++;
            }}
        }} else if (d->counter > 0U) {{
            d->counter--;
        }} else {{
            /* already at the bottom */
        }}
        if (d->counter >= top) {{
            d->counter = top;
            d->state = true;
        }} else if (d->counter == 0U) {{
            d->state = false;
        }} else {{
            /* keep the previous state */
        }}
        state = d->state;
    }}
    return state;
}}
""",
    harness_body=_integrate_harness(),
)

# --- vertical counters ------------------------------------------------------------------------------


def vertical_model(samples):
    state, counters, out = 0, [3] * 8, []
    for sample in samples:
        toggled = 0
        for bit in range(8):
            if ((sample >> bit) & 1) == ((state >> bit) & 1):
                counters[bit] = 3
            elif counters[bit] == 0:
                toggled |= 1 << bit
                counters[bit] = 3
            else:
                counters[bit] -= 1
        state ^= toggled
        out.append((toggled, state))
    return out


VERTICAL = [0x01, 0x01, 0x01, 0x01, 0x03, 0x03, 0x02, 0x03, 0x03, 0x03, 0x83, 0x83, 0x83, 0x83, 0x00, 0x00,
            0x00, 0x00, 0x00, 0xFF]


def _vertical_harness() -> str:
    lines = ["uint8_t cnt0 = 0xFFU;", "uint8_t cnt1 = 0xFFU;", "uint8_t state = 0x00U;"]
    for sample, (toggled, state) in zip(VERTICAL, vertical_model(VERTICAL)):
        lines.append(f"HX_U(debounce_vertical(0x{sample:02X}U, &cnt0, &cnt1, &state), 0x{toggled:02X}U);")
        lines.append(f"HX_U(state, 0x{state:02X}U);")
    return "\n".join(lines)


FAMILY.add(
    "vertical-counter", "hard",
    ask="""Debounce 8 switch inputs of one port at once with vertical counters. Each input has a 2-bit
    down-counter whose low bits are stored in cnt0 and high bits in cnt1 (bit i belongs to input i);
    the caller initialises both to 0xFF (counter 3) and state to 0. On every call: an input whose sample
    equals its debounced state has its counter reset to 3; otherwise its counter counts down, and when a
    differing sample arrives while the counter is already 0 (the 4th consecutive differing sample) the
    state bit toggles and the counter wraps to 3. Update state and return the mask of inputs that
    toggled. Use bitwise operations on whole bytes, not a loop over the inputs.""",
    signature="uint8_t debounce_vertical(uint8_t sample, uint8_t *cnt0, uint8_t *cnt1, uint8_t *state)",
    reference=r"""
    #include <stdint.h>

    /**
     * @brief Debounce 8 inputs in parallel with 2-bit vertical down-counters.
     * @param sample Raw sample of the 8 inputs.
     * @param cnt0 Low bits of the per-input counters; updated.
     * @param cnt1 High bits of the per-input counters; updated.
     * @param state Debounced state of the 8 inputs; updated.
     * @return Mask of the inputs whose debounced state toggled.
     */
    uint8_t debounce_vertical(uint8_t sample, uint8_t *cnt0, uint8_t *cnt1, uint8_t *state)
    {
        uint8_t delta = (uint8_t)(sample ^ *state);
        /* count down where delta is set, reset to 3 (both bits set) where it is clear */
        *cnt0 = (uint8_t)~(uint32_t)(*cnt0 & delta);
        *cnt1 = (uint8_t)(*cnt0 ^ (uint8_t)(*cnt1 & delta));
        /* a counter that wrapped from 0 to 3 while delta is set toggles its input */
        delta = (uint8_t)(delta & *cnt0 & *cnt1);
        *state = (uint8_t)(*state ^ delta);
        return delta;
    }
    """,
    harness_body=_vertical_harness(),
)

# --- time based -------------------------------------------------------------------------------------

TIME_T = """\
typedef struct {
    bool candidate;    /* last raw level seen */
    bool state;        /* debounced level */
    uint32_t since_ms; /* time the candidate level was first seen */
} debounce_time_t;"""


def time_model(steps, hold):
    candidate, state, since, out = False, False, 0, []
    for raw, now in steps:
        if raw != candidate:
            candidate, since = raw, now
        if candidate != state and ((now - since) % 2**32) >= hold:
            state = candidate
        out.append(state)
    return out


TIME_STEPS = [(True, 0xFFFFFFF0), (True, 0xFFFFFFFA), (True, 0x00000004), (True, 0x00000010), (False, 0x14),
              (True, 0x18), (False, 0x20), (False, 0x30), (False, 0x33), (False, 0x34), (True, 0x40)]


def _time_harness() -> str:
    lines = ["debounce_time_t d;", "memset(&d, 0, sizeof d);"]
    for (raw, now), state in zip(TIME_STEPS, time_model(TIME_STEPS, 20)):
        lines.append(f"HX_U(debounce_time(&d, {hx_bool(raw)}, 0x{now:08X}UL, 20U), {int(state)}U);")
    lines.append("HX_T(!debounce_time(NULL, true, 0U, 20U));")
    return "\n".join(lines)


FAMILY.add(
    "time-based", "medium",
    ask="""Debounce the window switch by time rather than by sample count: whenever the raw level differs
    from the stored candidate, it becomes the new candidate and its time is recorded; once the candidate
    differs from the debounced state and has been stable for at least hold_ms milliseconds, it becomes
    the debounced state. now_ms is a free-running millisecond counter that wraps at 2^32, so compute
    elapsed time with unsigned subtraction. Return the debounced state; NULL returns false.""",
    signature="bool debounce_time(debounce_time_t *d, bool raw, uint32_t now_ms, uint32_t hold_ms)",
    types=TIME_T,
    reference=f"""\
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

{TIME_T}

/**
 * @brief Time-based debouncing of one input.
 * @param d Debouncer state; updated.
 * @param raw Raw input level.
 * @param now_ms Current time of a free-running millisecond counter.
 * @param hold_ms Time a new level must be stable before it is accepted.
 * @return The debounced state.
 */
bool debounce_time(debounce_time_t *d, bool raw, uint32_t now_ms, uint32_t hold_ms)
{{
    bool state = false;
    if (d != NULL) {{
        if (raw != d->candidate) {{
            d->candidate = raw;
            d->since_ms = now_ms;
        }}
        /* unsigned subtraction gives the elapsed time across the counter wrap */
        if ((d->candidate != d->state) && ((uint32_t)(now_ms - d->since_ms) >= hold_ms)) {{
            d->state = d->candidate;
        }}
        state = d->state;
    }}
    return state;
}}
""",
    harness_body=_time_harness(),
)

FAMILY.add(
    "hysteresis", "easy",
    ask="""Turn the cabin temperature reading into an on/off request for the fan with hysteresis: when off,
    switch on once value reaches high (value >= high); when on, switch off once value falls to low
    (value <= low); otherwise keep the current state. Return the new state.""",
    signature="bool hysteresis_update(bool state, int32_t value, int32_t low, int32_t high)",
    reference=r"""
    #include <stdbool.h>
    #include <stdint.h>

    /**
     * @brief Two-threshold comparator with hysteresis.
     * @param state Current output state.
     * @param value Current measurement.
     * @param low Threshold at or below which an active output turns off.
     * @param high Threshold at or above which an inactive output turns on.
     * @return The new output state.
     */
    bool hysteresis_update(bool state, int32_t value, int32_t low, int32_t high)
    {
        bool next = state;
        if (!state && (value >= high)) {
            next = true;
        } else if (state && (value <= low)) {
            next = false;
        } else {
            /* between the thresholds: keep the state */
        }
        return next;
    }
    """,
    harness_body=r"""
    HX_T(!hysteresis_update(false, 250, 200, 260));
    HX_T(hysteresis_update(false, 260, 200, 260));
    HX_T(hysteresis_update(true, 230, 200, 260));
    HX_T(hysteresis_update(true, 201, 200, 260));
    HX_T(!hysteresis_update(true, 200, 200, 260));
    HX_T(!hysteresis_update(false, 230, 200, 260));
    HX_T(hysteresis_update(false, 1000, -50, -10));
    HX_T(hysteresis_update(true, -49, -50, -10));
    HX_T(!hysteresis_update(true, -80, -50, -10));
    """,
)

FAMILY.add(
    "edge-detect", "easy",
    ask="""Detect edges on 8 debounced inputs between two scans: report the inputs that went from 0 to 1
    through rising and those that went from 1 to 0 through falling. Either output pointer may be NULL
    and is then skipped.""",
    signature="void edge_detect(uint8_t previous, uint8_t current, uint8_t *rising, uint8_t *falling)",
    reference=r"""
    #include <stddef.h>
    #include <stdint.h>

    /**
     * @brief Rising and falling edges of 8 inputs.
     * @param previous Input levels at the previous scan.
     * @param current Input levels now.
     * @param rising Receives the inputs that went 0 -> 1; may be NULL.
     * @param falling Receives the inputs that went 1 -> 0; may be NULL.
     */
    void edge_detect(uint8_t previous, uint8_t current, uint8_t *rising, uint8_t *falling)
    {
        if (rising != NULL) {
            *rising = (uint8_t)(~(uint32_t)previous & (uint32_t)current);
        }
        if (falling != NULL) {
            *falling = (uint8_t)((uint32_t)previous & ~(uint32_t)current);
        }
    }
    """,
    harness_body=r"""
    uint8_t up = 0xEEU;
    uint8_t down = 0xEEU;
    edge_detect(0x0FU, 0x3CU, &up, &down);
    HX_U(up, 0x30U);
    HX_U(down, 0x03U);
    edge_detect(0xFFU, 0xFFU, &up, &down);
    HX_U(up, 0x00U);
    HX_U(down, 0x00U);
    edge_detect(0x00U, 0x81U, &up, NULL);
    HX_U(up, 0x81U);
    edge_detect(0x81U, 0x00U, NULL, &down);
    HX_U(down, 0x81U);
    """,
)

BUTTON_T = """\
typedef struct {
    uint16_t held_ms; /* time the button has been held, saturating at 65535 */
    bool long_sent;   /* a long press was already reported for this press */
} button_t;"""


def button_model(steps, long_ms):
    held, sent, out = 0, False, []
    for pressed, dt in steps:
        event = 0
        if pressed:
            held = min(held + dt, 65535)
            if not sent and held >= long_ms:
                sent, event = True, 2
        else:
            if held > 0 and not sent:
                event = 1
            held, sent = 0, False
        out.append((event, held))
    return out


BUTTON_STEPS = [(True, 10), (True, 10), (False, 10), (False, 10), (True, 500), (True, 490), (True, 10), (True, 10),
                (False, 10), (True, 60000), (True, 60000), (False, 10), (True, 999), (False, 10)]


def _button_harness() -> str:
    lines = ["button_t b;", "memset(&b, 0, sizeof b);"]
    for (pressed, dt), (event, held) in zip(BUTTON_STEPS, button_model(BUTTON_STEPS, 1000)):
        lines.append(f"HX_U(button_update(&b, {hx_bool(pressed)}, {dt}U, 1000U), {event}U);")
        lines.append(f"HX_U(b.held_ms, {held}U);")
    lines.append("HX_U(button_update(NULL, true, 10U, 1000U), 0U);")
    return "\n".join(lines)


FAMILY.add(
    "long-press", "medium",
    ask="""Classify presses of the debounced trunk-release button, called every tick with the elapsed time
    dt_ms. While pressed, add dt_ms to held_ms (saturating at 65535) and, the first time held_ms reaches
    long_ms during this press, return 2 (long press). On release, return 1 (short press) if the button
    had been held (held_ms > 0) and no long press was reported, then reset the press. Otherwise return
    0. A NULL pointer returns 0.""",
    signature="uint8_t button_update(button_t *b, bool pressed, uint16_t dt_ms, uint16_t long_ms)",
    types=BUTTON_T,
    reference=f"""\
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BUTTON_NONE  0U
#define BUTTON_SHORT 1U
#define BUTTON_LONG  2U

{BUTTON_T}

/**
 * @brief Short/long press detection for one button.
 * @param b Button state; updated.
 * @param pressed Debounced button level.
 * @param dt_ms Time since the previous call in milliseconds.
 * @param long_ms Hold time that makes a long press.
 * @return BUTTON_NONE, BUTTON_SHORT (on release) or BUTTON_LONG (once while held).
 */
uint8_t button_update(button_t *b, bool pressed, uint16_t dt_ms, uint16_t long_ms)
{{
    uint8_t event = BUTTON_NONE;
    if (b != NULL) {{
        if (pressed) {{
            uint32_t held = (uint32_t)b->held_ms + (uint32_t)dt_ms;
            b->held_ms = (held > 0xFFFFU) ? 0xFFFFU : (uint16_t)held;
            if (!b->long_sent && (b->held_ms >= long_ms)) {{
                b->long_sent = true;
                event = BUTTON_LONG;
            }}
        }} else {{
            if ((b->held_ms > 0U) && !b->long_sent) {{
                event = BUTTON_SHORT;
            }}
            b->held_ms = 0U;
            b->long_sent = false;
        }}
    }}
    return event;
}}
""",
    harness_body=_button_harness(),
)

MAJORITY = [(0x07, 3), (0x05, 3), (0x04, 3), (0x0F, 8), (0x1F, 8), (0xF0, 8), (0x01, 1), (0x00, 1), (0xFF, 0),
            (0xFF, 9), (0xFE, 2), (0x03, 2)]


def majority(samples, count):
    if not 1 <= count <= 8:
        return False
    return bin(samples & ((1 << count) - 1)).count("1") * 2 > count


FAMILY.add(
    "majority", "easy",
    ask="""Filter a noisy digital input by majority vote over the last count samples, held in the low count
    bits of samples (count 1..8): return true if more than half of them are 1. Other count values
    return false.""",
    signature="bool debounce_majority(uint8_t samples, uint8_t count)",
    reference=r"""
    #include <stdbool.h>
    #include <stdint.h>

    /**
     * @brief Majority vote over the most recent samples.
     * @param samples Sample history, newest in bit 0.
     * @param count Number of samples to consider, 1..8.
     * @return true if more than count / 2 of the considered samples are set.
     */
    bool debounce_majority(uint8_t samples, uint8_t count)
    {
        bool result = false;
        if ((count >= 1U) && (count <= 8U)) {
            uint32_t ones = 0U;
            uint32_t i;
            for (i = 0U; i < count; i++) {
                ones += ((uint32_t)samples >> i) & 1U;
            }
            result = ((ones * 2U) > (uint32_t)count);
        }
        return result;
    }
    """,
    harness_body="\n".join(
        f"HX_T({'' if majority(s, c) else '!'}debounce_majority(0x{s:02X}U, {c}U));" for s, c in MAJORITY),
)

MEDIAN = [(1, 2, 3), (3, 2, 1), (2, 3, 1), (5, 5, 1), (65535, 0, 100), (7, 7, 7), (10, 30, 20), (0, 65535, 65535)]

FAMILY.add(
    "median3", "easy",
    ask="""Reject single-sample spikes on the seat position potentiometer with a median-of-three filter:
    return the middle value of the last three readings.""",
    signature="uint16_t median3_u16(uint16_t a, uint16_t b, uint16_t c)",
    reference=r"""
    #include <stdint.h>

    /**
     * @brief Median of three values.
     * @param a First reading.
     * @param b Second reading.
     * @param c Third reading.
     * @return The middle value.
     */
    uint16_t median3_u16(uint16_t a, uint16_t b, uint16_t c)
    {
        uint16_t median;
        if (a > b) {
            if (b > c) {
                median = b;
            } else if (a > c) {
                median = c;
            } else {
                median = a;
            }
        } else {
            if (a > c) {
                median = a;
            } else if (b > c) {
                median = c;
            } else {
                median = b;
            }
        }
        return median;
    }
    """,
    harness_body="\n".join(f"HX_U(median3_u16({a}U, {b}U, {c}U), {sorted((a, b, c))[1]}U);" for a, b, c in MEDIAN),
)


def slew(current, target, step):
    if target > current:
        return min(target, current + step)
    return max(target, current - step)


SLEW = [(0, 1000, 100), (950, 1000, 100), (0, -1000, 100), (-32768, 32767, 65535), (32767, -32768, 1000),
        (500, 500, 10), (10, 20, 0), (-32768, -32768, 5)]

FAMILY.add(
    "slew-limit", "easy",
    ask="""Limit the rate of change of the seat motor set-point: move current toward target by at most
    max_step per call and never overshoot the target. Intermediate values must not overflow int16_t.""",
    signature="int16_t slew_limit(int16_t current, int16_t target, uint16_t max_step)",
    reference=r"""
    #include <stdint.h>

    /**
     * @brief Move a value toward a target with a limited step.
     * @param current Current value.
     * @param target Desired value.
     * @param max_step Largest allowed change per call.
     * @return The new value, at most max_step away from current and never beyond target.
     */
    int16_t slew_limit(int16_t current, int16_t target, uint16_t max_step)
    {
        int32_t next = (int32_t)target;
        int32_t step = (int32_t)max_step;
        if (((int32_t)target - (int32_t)current) > step) {
            next = (int32_t)current + step;
        } else if (((int32_t)current - (int32_t)target) > step) {
            next = (int32_t)current - step;
        } else {
            /* the target is within one step */
        }
        return (int16_t)next;
    }
    """,
    harness_body="\n".join(f"HX_I(slew_limit({c}, {t}, {s}U), {slew(c, t, s)});" for c, t, s in SLEW),
)

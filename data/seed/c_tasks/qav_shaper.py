"""IEEE 802.1Qav credit-based shaper: sendSlope = idleSlope - portTransmitRate, hiCredit/loCredit
(802.1Q Annex L), credit accumulation while waiting and drain while transmitting, reservations."""

from common import Family

FAMILY = Family("qav_shaper", area="credit-based shaper (802.1Qav) of the AVB bridge")

NS = 1_000_000_000


def tdiv(a: int, b: int) -> int:
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def cdiv(a: int, b: int) -> int:
    return -(-a // b)


FAMILY.add(
    "send-slope", "easy",
    ask="""Derive the sendSlope of a credit-based shaper queue from its configured idleSlope and the port
    transmit rate, both in bit/s. The result is negative (or zero) for a valid configuration. If the
    idle slope exceeds the port rate, or the port rate does not fit in an int64_t, the configuration
    is invalid: return 0.""",
    signature="int64_t qav_send_slope_bps(uint64_t idle_slope_bps, uint64_t port_rate_bps)",
    facts={"qav_send_slope": None},
    reference=r"""
    #include <stdint.h>

    /**
     * @brief sendSlope of a credit-based shaper.
     * @param idle_slope_bps idleSlope in bit/s.
     * @param port_rate_bps portTransmitRate in bit/s.
     * @return idleSlope - portTransmitRate in bit/s, or 0 for an invalid configuration.
     */
    int64_t qav_send_slope_bps(uint64_t idle_slope_bps, uint64_t port_rate_bps)
    {
        int64_t slope = 0;
        if ((idle_slope_bps <= port_rate_bps) && (port_rate_bps <= (uint64_t)INT64_MAX)) {
            uint64_t magnitude = port_rate_bps - idle_slope_bps;
            slope = -(int64_t)magnitude;
        }
        return slope;
    }
    """,
    harness_body=r"""
    HX_I(qav_send_slope_bps(75000000U, 100000000U), -25000000LL);
    HX_I(qav_send_slope_bps(0U, 1000000000U), -1000000000LL);
    HX_I(qav_send_slope_bps(20000000U, 1000000000U), -980000000LL);
    HX_I(qav_send_slope_bps(1000000000U, 1000000000U), 0);
    HX_I(qav_send_slope_bps(2000000U, 1000000U), 0);
    HX_I(qav_send_slope_bps(1U, 0xFFFFFFFFFFFFFFFFULL), 0);
    """,
)

IDLE = [(266, 1, 125), (100, 3, 250), (1, 1, 3), (1542, 2, 125), (64, 1, 0)]

FAMILY.add(
    "idle-slope-for-stream", "medium",
    ask="""Compute the idleSlope a stream reservation needs: frame_octets (already including all per-frame
    overhead) times 8 bits times frames_per_interval, sent once per class measurement interval of
    interval_us microseconds. Return bit/s rounded up so the reservation is never too small, or 0 for a
    zero interval.""",
    signature="uint64_t qav_idle_slope_bps(uint16_t frame_octets, uint16_t frames_per_interval, uint32_t interval_us)",
    reference=r"""
    #include <stdint.h>

    #define US_PER_SECOND 1000000ULL

    /**
     * @brief idleSlope required by a stream.
     * @param frame_octets Frame size on the wire, including overhead, in octets.
     * @param frames_per_interval Frames sent per class measurement interval.
     * @param interval_us Class measurement interval in microseconds.
     * @return Bandwidth in bit/s, rounded up; 0 if interval_us is 0.
     */
    uint64_t qav_idle_slope_bps(uint16_t frame_octets, uint16_t frames_per_interval, uint32_t interval_us)
    {
        uint64_t slope = 0U;
        if (interval_us > 0U) {
            uint64_t bits = (uint64_t)frame_octets * 8U * (uint64_t)frames_per_interval;
            slope = ((bits * US_PER_SECOND) + (uint64_t)interval_us - 1U) / (uint64_t)interval_us;
        }
        return slope;
    }
    """,
    harness_body="\n".join(
        f"HX_U(qav_idle_slope_bps({o}U, {f}U, {i}U), {cdiv(o * 8 * f * 10**6, i) if i else 0}ULL);"
        for o, f, i in IDLE),
)

HI = [(1522, 75000000, 100000000), (1522, 20000000, 1000000000), (9018, 1000000, 1000000000), (1, 0, 100), (100, 5, 0)]

FAMILY.add(
    "hi-credit", "medium",
    ask="""Compute hiCredit, the upper bound of the credit of an SR class queue (802.1Q Annex L): the
    maximum interference size in bits times idleSlope / portTransmitRate, truncated toward zero. The
    interference size is given in octets (at most 100000) and both rates in bit/s (at most 100 Gbit/s),
    so the product of bits and idle slope fits in 64 bits. A zero port rate gives 0.""",
    signature="int64_t qav_hi_credit_bits(uint32_t max_interference_octets, uint64_t idle_slope_bps, uint64_t port_rate_bps)",
    reference=r"""
    #include <stdint.h>

    /**
     * @brief hiCredit of a credit-based shaper queue.
     * @param max_interference_octets maxInterferenceSize in octets.
     * @param idle_slope_bps idleSlope in bit/s.
     * @param port_rate_bps portTransmitRate in bit/s.
     * @return maxInterferenceSize * idleSlope / portTransmitRate in bits, or 0 if the port rate is 0.
     */
    int64_t qav_hi_credit_bits(uint32_t max_interference_octets, uint64_t idle_slope_bps, uint64_t port_rate_bps)
    {
        int64_t credit = 0;
        if (port_rate_bps > 0U) {
            uint64_t bits = (uint64_t)max_interference_octets * 8U;
            uint64_t hi_bits = (bits * idle_slope_bps) / port_rate_bps;
            credit = (int64_t)hi_bits;
        }
        return credit;
    }
    """,
    harness_body="\n".join(
        f"HX_I(qav_hi_credit_bits({o}U, {i}ULL, {r}ULL), {(o * 8 * i) // r if r else 0}LL);" for o, i, r in HI),
)

LO = [(1522, 75000000, 100000000), (1522, 20000000, 1000000000), (64, 0, 100000000), (1522, 100000000, 100000000),
      (300, 7, 0)]

FAMILY.add(
    "lo-credit", "medium",
    ask="""Compute loCredit, the lowest credit an SR class queue can reach (802.1Q Annex L): the maximum
    frame size of the class in bits times sendSlope / portTransmitRate, where sendSlope is idleSlope
    minus portTransmitRate. The result is negative or zero, truncated toward zero. Octets are at most
    100000 and rates at most 100 Gbit/s with idleSlope <= portTransmitRate. A zero port rate gives 0.""",
    signature="int64_t qav_lo_credit_bits(uint32_t max_frame_octets, uint64_t idle_slope_bps, uint64_t port_rate_bps)",
    facts={"qav_send_slope": None},
    reference=r"""
    #include <stdint.h>

    /**
     * @brief loCredit of a credit-based shaper queue.
     * @param max_frame_octets maxFrameSize of the class in octets.
     * @param idle_slope_bps idleSlope in bit/s.
     * @param port_rate_bps portTransmitRate in bit/s.
     * @return maxFrameSize * sendSlope / portTransmitRate in bits (<= 0), or 0 if the port rate is 0.
     */
    int64_t qav_lo_credit_bits(uint32_t max_frame_octets, uint64_t idle_slope_bps, uint64_t port_rate_bps)
    {
        int64_t credit = 0;
        if ((port_rate_bps > 0U) && (idle_slope_bps <= port_rate_bps)) {
            uint64_t bits = (uint64_t)max_frame_octets * 8U;
            uint64_t send_slope_magnitude = port_rate_bps - idle_slope_bps;
            uint64_t lo_bits = (bits * send_slope_magnitude) / port_rate_bps;
            credit = -(int64_t)lo_bits;
        }
        return credit;
    }
    """,
    harness_body="\n".join(
        f"HX_I(qav_lo_credit_bits({o}U, {i}ULL, {r}ULL), {tdiv(o * 8 * (i - r), r) if r else 0}LL);"
        for o, i, r in LO),
)


def _waiting(credit, idle, elapsed, empty):
    inc = idle * elapsed // NS
    if empty:
        return 0 if credit > 0 else min(credit + inc, 0)
    return credit + inc


WAITING = [(-1000, 100000000, 5000, False), (-1000, 100000000, 20000, True), (-1000, 100000000, 5000, True),
           (300, 100000000, 1000, True), (300, 100000000, 1000, False), (0, 75000000, 1, False),
           (0, 100000000000, 4294967295, False), (5, 999999999, 3, False)]

FAMILY.add(
    "credit-while-waiting", "hard",
    ask="""Update the credit (in bits) of a credit-based shaper queue that is not transmitting, after
    elapsed_ns nanoseconds. The credit grows at idleSlope bit/s (increment truncated to whole bits). If
    the queue is empty, a positive credit is reset to zero at once and a negative credit grows but stops
    at zero; if frames are waiting, the credit simply grows. The idle slope can be up to 100 Gbit/s and
    elapsed_ns up to 2^32 - 1, so compute the increment without overflowing 64 bits.""",
    signature="int64_t qav_credit_while_waiting(int64_t credit_bits, uint64_t idle_slope_bps, uint32_t elapsed_ns, bool queue_empty)",
    reference=r"""
    #include <stdbool.h>
    #include <stdint.h>

    #define NS_PER_SECOND 1000000000ULL

    /**
     * @brief Credit of a non-transmitting CBS queue after some time.
     * @param credit_bits Current credit in bits.
     * @param idle_slope_bps idleSlope in bit/s (up to 100 Gbit/s).
     * @param elapsed_ns Elapsed time in nanoseconds.
     * @param queue_empty true if no frame is queued.
     * @return The new credit in bits.
     */
    int64_t qav_credit_while_waiting(int64_t credit_bits, uint64_t idle_slope_bps, uint32_t elapsed_ns, bool queue_empty)
    {
        /* split the slope so that neither product can overflow */
        uint64_t whole = (idle_slope_bps / NS_PER_SECOND) * (uint64_t)elapsed_ns;
        uint64_t part = ((idle_slope_bps % NS_PER_SECOND) * (uint64_t)elapsed_ns) / NS_PER_SECOND;
        uint64_t gained = whole + part;
        int64_t increment = (int64_t)gained;
        int64_t credit = credit_bits;
        if (queue_empty) {
            if (credit > 0) {
                credit = 0;
            } else {
                credit += increment;
                if (credit > 0) {
                    credit = 0;
                }
            }
        } else {
            credit += increment;
        }
        return credit;
    }
    """,
    harness_body="\n".join(
        f"HX_I(qav_credit_while_waiting({c}, {i}ULL, {e}U, {'true' if q else 'false'}), {_waiting(c, i, e, q)}LL);"
        for c, i, e, q in WAITING),
)

AFTER = [(0, 75000000, 100000000, 1522), (5000, 50000000, 1000000000, 100), (100, 1000000000, 1000000000, 64),
         (-200, 10000000, 100000000, 64), (7, 1, 0, 64)]


def _after(credit, idle, rate, octets):
    return credit if rate == 0 else credit + tdiv(octets * 8 * (idle - rate), rate)


FAMILY.add(
    "credit-after-frame", "medium",
    ask="""While a frame is transmitted, the credit of a credit-based shaper queue drains at sendSlope
    (idleSlope - portTransmitRate). Given the credit before the frame, the slopes in bit/s and the frame
    size in octets, return the credit after transmission: credit + frame bits * sendSlope /
    portTransmitRate, the change truncated toward zero. A zero port rate leaves the credit unchanged.
    Rates are at most 100 Gbit/s and idleSlope <= portTransmitRate.""",
    signature="int64_t qav_credit_after_frame(int64_t credit_bits, uint64_t idle_slope_bps, uint64_t port_rate_bps, uint16_t frame_octets)",
    facts={"qav_send_slope": None},
    reference=r"""
    #include <stdint.h>

    /**
     * @brief Credit of a CBS queue after transmitting one frame.
     * @param credit_bits Credit before the frame, in bits.
     * @param idle_slope_bps idleSlope in bit/s.
     * @param port_rate_bps portTransmitRate in bit/s.
     * @param frame_octets Size of the transmitted frame in octets.
     * @return The new credit in bits.
     */
    int64_t qav_credit_after_frame(int64_t credit_bits, uint64_t idle_slope_bps, uint64_t port_rate_bps, uint16_t frame_octets)
    {
        int64_t credit = credit_bits;
        if ((port_rate_bps > 0U) && (idle_slope_bps <= port_rate_bps)) {
            uint64_t bits = (uint64_t)frame_octets * 8U;
            uint64_t drain = (bits * (port_rate_bps - idle_slope_bps)) / port_rate_bps;
            credit -= (int64_t)drain;
        }
        return credit;
    }
    """,
    harness_body="\n".join(
        f"HX_I(qav_credit_after_frame({c}, {i}ULL, {r}ULL, {o}U), {_after(c, i, r, o)}LL);" for c, i, r, o in AFTER),
)

FAMILY.add(
    "may-transmit", "easy",
    ask="""The transmission selection of a credit-based shaper queue: a frame may be selected for
    transmission only if one is queued and the credit is zero or positive.""",
    signature="bool qav_may_transmit(int64_t credit_bits, bool frame_queued)",
    reference=r"""
    #include <stdbool.h>
    #include <stdint.h>

    /**
     * @brief Transmission eligibility of a credit-based shaper queue.
     * @param credit_bits Current credit in bits.
     * @param frame_queued true if a frame is waiting in the queue.
     * @return true if a frame is queued and the credit is >= 0.
     */
    bool qav_may_transmit(int64_t credit_bits, bool frame_queued)
    {
        return frame_queued && (credit_bits >= 0);
    }
    """,
    harness_body=r"""
    HX_T(qav_may_transmit(0, true));
    HX_T(qav_may_transmit(12345, true));
    HX_T(!qav_may_transmit(-1, true));
    HX_T(!qav_may_transmit(100, false));
    HX_T(!qav_may_transmit(INT64_MIN, true));
    HX_T(qav_may_transmit(INT64_MAX, true));
    """,
)

FAMILY.add(
    "reservation-fits", "medium",
    ask="""Admission control for stream reservations on a port: check that the idle slopes of all SR queues
    together stay within max_percent of the port transmit rate, i.e. sum x 100 <= rate x max_percent.
    Rates are at most 10^12 bit/s and there are at most 8 queues, so this fits in 64 bits. A NULL list,
    or max_percent above 100, is rejected.""",
    signature="bool qav_reservation_fits(const uint64_t *idle_slopes_bps, size_t count, uint64_t port_rate_bps, uint8_t max_percent)",
    reference=r"""
    #include <stdbool.h>
    #include <stddef.h>
    #include <stdint.h>

    /**
     * @brief Check that reserved bandwidth stays within a share of the port rate.
     * @param idle_slopes_bps idleSlope of each SR queue in bit/s.
     * @param count Number of queues.
     * @param port_rate_bps portTransmitRate in bit/s.
     * @param max_percent Maximum reservable share in percent, 0..100.
     * @return true if sum(idle slopes) * 100 <= port rate * max_percent.
     */
    bool qav_reservation_fits(const uint64_t *idle_slopes_bps, size_t count, uint64_t port_rate_bps, uint8_t max_percent)
    {
        bool fits = false;
        if ((idle_slopes_bps != NULL) && (max_percent <= 100U)) {
            uint64_t sum = 0U;
            size_t i;
            for (i = 0U; i < count; i++) {
                sum += idle_slopes_bps[i];
            }
            fits = ((sum * 100U) <= (port_rate_bps * (uint64_t)max_percent));
        }
        return fits;
    }
    """,
    harness_body=r"""
    static const uint64_t slopes[3] = {50000000U, 20000000U, 5000000U};
    HX_T(qav_reservation_fits(slopes, 3U, 100000000U, 75U));
    HX_T(!qav_reservation_fits(slopes, 3U, 100000000U, 74U));
    HX_T(qav_reservation_fits(slopes, 2U, 100000000U, 70U));
    HX_T(qav_reservation_fits(slopes, 0U, 100000000U, 0U));
    HX_T(!qav_reservation_fits(slopes, 3U, 1000000000U, 101U));
    HX_T(!qav_reservation_fits(NULL, 0U, 100000000U, 75U));
    HX_T(qav_reservation_fits(slopes, 3U, 1000000000000ULL, 1U));
    """,
)

TX = [(1522, 1000000000), (64, 100000000), (1, 3), (1522, 1), (100, 0), (125, 10000000000), (1, 3000000000)]


def _tx(octets, rate):
    return 0 if rate == 0 else min(cdiv(octets * 8 * NS, rate), 2**32 - 1)


FAMILY.add(
    "tx-time", "easy",
    ask="""Compute the transmission time of a frame for the shaper's timers: the frame's bits divided by the
    port rate in bit/s, in nanoseconds rounded up, saturating at UINT32_MAX. A zero rate gives 0.""",
    signature="uint32_t qav_tx_time_ns(uint16_t frame_octets, uint64_t port_rate_bps)",
    reference=r"""
    #include <stdint.h>

    #define NS_PER_SECOND 1000000000ULL

    /**
     * @brief Transmission time of a frame.
     * @param frame_octets Frame size in octets.
     * @param port_rate_bps Port transmit rate in bit/s.
     * @return Time in ns, rounded up and saturated at UINT32_MAX; 0 if the rate is 0.
     */
    uint32_t qav_tx_time_ns(uint16_t frame_octets, uint64_t port_rate_bps)
    {
        uint64_t ns = 0U;
        if (port_rate_bps > 0U) {
            uint64_t scaled_bits = (uint64_t)frame_octets * 8U * NS_PER_SECOND;
            ns = (scaled_bits / port_rate_bps) + (((scaled_bits % port_rate_bps) != 0U) ? 1U : 0U);
            if (ns > (uint64_t)UINT32_MAX) {
                ns = (uint64_t)UINT32_MAX;
            }
        }
        return (uint32_t)ns;
    }
    """,
    harness_body="\n".join(f"HX_U(qav_tx_time_ns({o}U, {r}ULL), {_tx(o, r)}U);" for o, r in TX),
)


def _wait(credit, idle):
    if credit >= 0:
        return 0
    if idle == 0:
        return 2**32 - 1
    return min(cdiv(-credit * NS, idle), 2**32 - 1)


WAITS = [(-500, 100000000), (-1, 3), (100, 100000000), (-1, 0), (-(2**63), 10000000000), (-3044, 75000000),
         (-40000000000, 10000000000), (-50000000000, 10000000000), (-42949672950, 10000000000), (0, 5)]

FAMILY.add(
    "wait-ns", "hard",
    ask="""A frame is queued but the credit of its credit-based shaper queue is negative. Compute how many
    nanoseconds must pass, at the idle slope in bit/s, before the credit reaches zero again: -credit x
    1e9 / idleSlope, rounded up, saturated at UINT32_MAX. A credit of zero or more needs no wait (0); an
    idle slope of zero never recovers (UINT32_MAX). The credit can be any int64_t value including
    INT64_MIN and the idle slope is at most 10 Gbit/s: avoid every overflow.""",
    signature="uint32_t qav_wait_ns(int64_t credit_bits, uint64_t idle_slope_bps)",
    reference=r"""
    #include <stdint.h>

    #define NS_PER_SECOND 1000000000ULL

    /**
     * @brief Time until a negative CBS credit recovers to zero.
     * @param credit_bits Current credit in bits.
     * @param idle_slope_bps idleSlope in bit/s (at most 10 Gbit/s).
     * @return Nanoseconds, rounded up and saturated at UINT32_MAX; 0 if the credit is not negative.
     */
    uint32_t qav_wait_ns(int64_t credit_bits, uint64_t idle_slope_bps)
    {
        uint64_t wait = 0U;
        if (credit_bits < 0) {
            if (idle_slope_bps == 0U) {
                wait = (uint64_t)UINT32_MAX;
            } else {
                uint64_t deficit = (uint64_t)(-(credit_bits + 1)) + 1U;
                uint64_t whole_seconds = deficit / idle_slope_bps;
                if (whole_seconds >= 5U) {
                    wait = (uint64_t)UINT32_MAX; /* at least 5 s: beyond 32 bits of ns */
                } else {
                    /* remainder < idle slope <= 1e10, so remainder * 1e9 fits in 64 bits */
                    uint64_t remainder = deficit % idle_slope_bps;
                    uint64_t part = ((remainder * NS_PER_SECOND) + idle_slope_bps - 1U) / idle_slope_bps;
                    wait = (whole_seconds * NS_PER_SECOND) + part;
                    if (wait > (uint64_t)UINT32_MAX) {
                        wait = (uint64_t)UINT32_MAX;
                    }
                }
            }
        }
        return (uint32_t)wait;
    }
    """,
    harness_body="\n".join(
        f"HX_U(qav_wait_ns({'INT64_MIN' if c == -(2**63) else str(c) + 'LL'}, {i}ULL), {_wait(c, i)}U);"
        for c, i in WAITS),
)

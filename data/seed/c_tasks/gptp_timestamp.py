"""IEEE 802.1AS / 1588 time arithmetic: 48-bit seconds + 32-bit nanoseconds (ns < 1e9), the 10-octet
Timestamp wire format, the 2^-16 ns scaled correctionField, link delay and rate ratio."""

from common import Family

FAMILY = Family("gptp_timestamp", area="gPTP (802.1AS) time-synchronisation stack")

NS = 1_000_000_000
TS = "A PTP timestamp is a 48-bit seconds count (held in a uint64_t) plus a nanoseconds field below 1e9."


def tdiv(a: int, b: int) -> int:
    """C99 integer division: truncates toward zero."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


FAMILY.add(
    "to-ns", "easy",
    ask=f"""Convert a PTP timestamp into a single nanosecond count. {TS} Return UINT64_MAX when the
    nanoseconds field is not below one second or the result would not fit in 64 bits; check before
    multiplying.""",
    signature="uint64_t ptp_ts_to_ns(uint64_t seconds, uint32_t nanoseconds)",
    facts={"ptp_ns_per_second": "NS_PER_SECOND"},
    defines=[("NS_PER_SECOND", "nanoseconds in one second")],
    reference=r"""
    #include <stdint.h>

    #define NS_PER_SECOND 1000000000ULL

    /**
     * @brief Convert seconds + nanoseconds into nanoseconds.
     * @param seconds Seconds part of the timestamp.
     * @param nanoseconds Nanoseconds part, below NS_PER_SECOND.
     * @return Total nanoseconds, or UINT64_MAX if nanoseconds is out of range or the result overflows.
     */
    uint64_t ptp_ts_to_ns(uint64_t seconds, uint32_t nanoseconds)
    {
        uint64_t total = UINT64_MAX;
        if (((uint64_t)nanoseconds < NS_PER_SECOND) &&
            (seconds <= ((UINT64_MAX - (uint64_t)nanoseconds) / NS_PER_SECOND))) {
            total = (seconds * NS_PER_SECOND) + (uint64_t)nanoseconds;
        }
        return total;
    }
    """,
    harness_body=r"""
    HX_U(ptp_ts_to_ns(0U, 0U), 0U);
    HX_U(ptp_ts_to_ns(1U, 0U), 1000000000ULL);
    HX_U(ptp_ts_to_ns(1U, 500U), 1000000500ULL);
    HX_U(ptp_ts_to_ns(1700000000ULL, 123456789U), 1700000000123456789ULL);
    HX_U(ptp_ts_to_ns(18446744073ULL, 709551614U), 18446744073709551614ULL);
    HX_U(ptp_ts_to_ns(18446744073ULL, 709551616U), UINT64_MAX);
    HX_U(ptp_ts_to_ns(18446744074ULL, 0U), UINT64_MAX);
    HX_U(ptp_ts_to_ns(1U, 1000000000U), UINT64_MAX);
    """,
)

FAMILY.add(
    "from-ns", "easy",
    ask=f"""Split a nanosecond count (for example a free-running hardware clock reading) into a PTP
    timestamp. {TS} Either output pointer may be NULL, in which case that part is not stored.""",
    signature="void ptp_ts_from_ns(uint64_t total_ns, uint64_t *seconds, uint32_t *nanoseconds)",
    facts={"ptp_ns_per_second": None},
    reference=r"""
    #include <stddef.h>
    #include <stdint.h>

    #define NS_PER_SECOND 1000000000ULL

    /**
     * @brief Split nanoseconds into seconds + nanoseconds.
     * @param total_ns Time in nanoseconds.
     * @param seconds Receives the whole seconds; may be NULL.
     * @param nanoseconds Receives the remaining nanoseconds (< 1e9); may be NULL.
     */
    void ptp_ts_from_ns(uint64_t total_ns, uint64_t *seconds, uint32_t *nanoseconds)
    {
        if (seconds != NULL) {
            *seconds = total_ns / NS_PER_SECOND;
        }
        if (nanoseconds != NULL) {
            *nanoseconds = (uint32_t)(total_ns % NS_PER_SECOND);
        }
    }
    """,
    harness_body=r"""
    uint64_t s = 77U;
    uint32_t ns = 77U;
    ptp_ts_from_ns(1700000000123456789ULL, &s, &ns);
    HX_U(s, 1700000000ULL);
    HX_U(ns, 123456789U);
    ptp_ts_from_ns(999999999U, &s, &ns);
    HX_U(s, 0U);
    HX_U(ns, 999999999U);
    ptp_ts_from_ns(1000000000U, &s, &ns);
    HX_U(s, 1U);
    HX_U(ns, 0U);
    ptp_ts_from_ns(UINT64_MAX, &s, &ns);
    HX_U(s, 18446744073ULL);
    HX_U(ns, 709551615U);
    s = 5U;
    ptp_ts_from_ns(42000000007ULL, &s, NULL);
    HX_U(s, 42U);
    ptp_ts_from_ns(42000000007ULL, NULL, &ns);
    HX_U(ns, 7U);
    """,
)

FAMILY.add(
    "add-ns", "hard",
    ask=f"""Shift a PTP timestamp, in place, by a signed number of nanoseconds (for example to apply a
    path delay or a clock correction). {TS} The result must be normalised. Return false and leave the
    timestamp unchanged if a pointer is NULL, the input nanoseconds are not below 1e9, the result would
    be negative or its seconds would not fit in 48 bits. INT64_MIN must be handled without overflow.""",
    signature="bool ptp_ts_add_ns(uint64_t *seconds, uint32_t *nanoseconds, int64_t delta_ns)",
    facts={"ptp_ns_per_second": None},
    reference=r"""
    #include <stdbool.h>
    #include <stddef.h>
    #include <stdint.h>

    #define NS_PER_SECOND 1000000000ULL
    #define PTP_SECONDS_LIMIT 0x1000000000000ULL /* 2^48 */

    /**
     * @brief Add a signed nanosecond offset to a PTP timestamp in place.
     * @param seconds Seconds part (48 bits), updated on success.
     * @param nanoseconds Nanoseconds part (< 1e9), updated on success.
     * @param delta_ns Offset to add, in nanoseconds.
     * @return true on success, false if the input is invalid or the result is out of range.
     */
    bool ptp_ts_add_ns(uint64_t *seconds, uint32_t *nanoseconds, int64_t delta_ns)
    {
        bool ok = false;
        if ((seconds != NULL) && (nanoseconds != NULL) && ((uint64_t)*nanoseconds < NS_PER_SECOND) &&
            (*seconds < PTP_SECONDS_LIMIT)) {
            uint64_t sec = *seconds;
            uint64_t ns = (uint64_t)*nanoseconds;
            if (delta_ns >= 0) {
                uint64_t magnitude = (uint64_t)delta_ns;
                sec += magnitude / NS_PER_SECOND;
                ns += magnitude % NS_PER_SECOND;
                if (ns >= NS_PER_SECOND) {
                    ns -= NS_PER_SECOND;
                    sec++;
                }
                ok = (sec < PTP_SECONDS_LIMIT);
            } else {
                /* -(delta + 1) + 1 is the magnitude, computed without overflowing at INT64_MIN */
                uint64_t magnitude = (uint64_t)(-(delta_ns + 1)) + 1U;
                uint64_t borrow_sec = magnitude / NS_PER_SECOND;
                uint64_t borrow_ns = magnitude % NS_PER_SECOND;
                if (ns < borrow_ns) {
                    ns += NS_PER_SECOND;
                    borrow_sec++;
                }
                ns -= borrow_ns;
                if (sec >= borrow_sec) {
                    sec -= borrow_sec;
                    ok = true;
                }
            }
            if (ok) {
                *seconds = sec;
                *nanoseconds = (uint32_t)ns;
            }
        }
        return ok;
    }
    """,
    harness_body=r"""
    uint64_t s = 10U;
    uint32_t ns = 500U;
    HX_T(ptp_ts_add_ns(&s, &ns, 600));
    HX_U(s, 10U);
    HX_U(ns, 1100U);
    s = 10U; ns = 999999999U;
    HX_T(ptp_ts_add_ns(&s, &ns, 1));
    HX_U(s, 11U);
    HX_U(ns, 0U);
    s = 10U; ns = 5U;
    HX_T(ptp_ts_add_ns(&s, &ns, -6));
    HX_U(s, 9U);
    HX_U(ns, 999999999U);
    s = 10U; ns = 0U;
    HX_T(ptp_ts_add_ns(&s, &ns, -10000000000LL));
    HX_U(s, 0U);
    HX_U(ns, 0U);
    s = 10U; ns = 0U;
    HX_T(!ptp_ts_add_ns(&s, &ns, -10000000001LL));
    HX_U(s, 10U);
    HX_U(ns, 0U);
    s = 0xFFFFFFFFFFFFULL; ns = 999999999U;
    HX_T(!ptp_ts_add_ns(&s, &ns, 1));
    HX_U(s, 0xFFFFFFFFFFFFULL);
    s = 5U; ns = 1000000000U;
    HX_T(!ptp_ts_add_ns(&s, &ns, 1));
    s = 0U; ns = 0U;
    HX_T(ptp_ts_add_ns(&s, &ns, INT64_MAX));
    HX_U(s, 9223372036ULL);
    HX_U(ns, 854775807U);
    HX_T(!ptp_ts_add_ns(&s, &ns, INT64_MIN));
    HX_U(s, 9223372036ULL);
    HX_T(!ptp_ts_add_ns(NULL, &ns, 1));
    """,
)

DIFF_CASES = [((10, 0), (9, 999999999)), ((9, 999999999), (10, 0)), ((100, 5), (100, 5)),
              ((1700000000, 0), (0, 0)), ((0, 0), (3, 250)), ((281474976710655, 999999999), (281474976710600, 1))]

FAMILY.add(
    "diff-ns", "medium",
    ask=f"""Compute the signed difference a - b in nanoseconds between two PTP timestamps, e.g. the offset
    between a received Sync and the local clock. {TS} Both inputs are valid and the difference fits in
    an int64_t, but the seconds are unsigned, so subtracting them directly can wrap.""",
    signature="int64_t ptp_ts_diff_ns(uint64_t a_sec, uint32_t a_ns, uint64_t b_sec, uint32_t b_ns)",
    facts={"ptp_ns_per_second": None},
    reference=r"""
    #include <stdint.h>

    #define NS_PER_SECOND 1000000000LL

    /**
     * @brief Signed difference between two PTP timestamps.
     * @param a_sec Seconds of timestamp a.
     * @param a_ns Nanoseconds of timestamp a (< 1e9).
     * @param b_sec Seconds of timestamp b.
     * @param b_ns Nanoseconds of timestamp b (< 1e9).
     * @return a - b in nanoseconds.
     */
    int64_t ptp_ts_diff_ns(uint64_t a_sec, uint32_t a_ns, uint64_t b_sec, uint32_t b_ns)
    {
        int64_t seconds;
        if (a_sec >= b_sec) {
            uint64_t ahead = a_sec - b_sec;
            seconds = (int64_t)ahead;
        } else {
            uint64_t behind = b_sec - a_sec;
            seconds = -(int64_t)behind;
        }
        return (seconds * NS_PER_SECOND) + ((int64_t)a_ns - (int64_t)b_ns);
    }
    """,
    harness_body="\n".join(
        f"HX_I(ptp_ts_diff_ns({a[0]}ULL, {a[1]}U, {b[0]}ULL, {b[1]}U), {(a[0] - b[0]) * NS + a[1] - b[1]}LL);"
        for a, b in DIFF_CASES),
)

FAMILY.add(
    "compare", "easy",
    ask=f"""Order two PTP timestamps for the best-master and sorting code: return -1 if a is earlier than
    b, 0 if they are equal and 1 if a is later. {TS}""",
    signature="int32_t ptp_ts_compare(uint64_t a_sec, uint32_t a_ns, uint64_t b_sec, uint32_t b_ns)",
    reference=r"""
    #include <stdint.h>

    /**
     * @brief Compare two PTP timestamps.
     * @param a_sec Seconds of timestamp a.
     * @param a_ns Nanoseconds of timestamp a.
     * @param b_sec Seconds of timestamp b.
     * @param b_ns Nanoseconds of timestamp b.
     * @return -1 if a < b, 0 if a == b, 1 if a > b.
     */
    int32_t ptp_ts_compare(uint64_t a_sec, uint32_t a_ns, uint64_t b_sec, uint32_t b_ns)
    {
        int32_t order = 0;
        if (a_sec < b_sec) {
            order = -1;
        } else if (a_sec > b_sec) {
            order = 1;
        } else if (a_ns < b_ns) {
            order = -1;
        } else if (a_ns > b_ns) {
            order = 1;
        } else {
            order = 0;
        }
        return order;
    }
    """,
    harness_body=r"""
    HX_I(ptp_ts_compare(1U, 0U, 2U, 0U), -1);
    HX_I(ptp_ts_compare(2U, 0U, 1U, 999999999U), 1);
    HX_I(ptp_ts_compare(5U, 10U, 5U, 20U), -1);
    HX_I(ptp_ts_compare(5U, 20U, 5U, 10U), 1);
    HX_I(ptp_ts_compare(5U, 20U, 5U, 20U), 0);
    HX_I(ptp_ts_compare(0xFFFFFFFFFFFFULL, 0U, 0U, 999999999U), 1);
    """,
)

FAMILY.add(
    "is-valid", "easy",
    ask="""Validate a timestamp taken from a received gPTP message before using it: the seconds must fit in
    the 48-bit secondsField and the nanoseconds must be strictly below one second.""",
    signature="bool ptp_ts_is_valid(uint64_t seconds, uint32_t nanoseconds)",
    facts={"ptp_ns_per_second": "PTP_NS_PER_S"},
    defines=[("PTP_NS_PER_S", "nanoseconds per second")],
    reference=r"""
    #include <stdbool.h>
    #include <stdint.h>

    #define PTP_NS_PER_S 1000000000U
    #define PTP_SECONDS_MAX 0xFFFFFFFFFFFFULL /* 48-bit secondsField */

    /**
     * @brief Tell whether a PTP timestamp is well-formed.
     * @param seconds Seconds part; must fit in 48 bits.
     * @param nanoseconds Nanoseconds part; must be below PTP_NS_PER_S.
     * @return true if both parts are in range.
     */
    bool ptp_ts_is_valid(uint64_t seconds, uint32_t nanoseconds)
    {
        return (seconds <= PTP_SECONDS_MAX) && (nanoseconds < PTP_NS_PER_S);
    }
    """,
    harness_body=r"""
    HX_T(ptp_ts_is_valid(0U, 0U));
    HX_T(ptp_ts_is_valid(1700000000ULL, 999999999U));
    HX_T(!ptp_ts_is_valid(1U, 1000000000U));
    HX_T(!ptp_ts_is_valid(1U, 0xFFFFFFFFU));
    HX_T(ptp_ts_is_valid(0xFFFFFFFFFFFFULL, 5U));
    HX_T(!ptp_ts_is_valid(0x1000000000000ULL, 5U));
    """,
)

FAMILY.add(
    "pack", "medium",
    ask="""Serialise a PTP timestamp into the 10-octet Timestamp format used in gPTP messages (for example
    the preciseOriginTimestamp of a Follow_Up): secondsField as 48 bits followed by nanosecondsField as
    32 bits, both in network byte order. Bits of the seconds above 48 are dropped.""",
    signature="void ptp_ts_pack(uint8_t out[10], uint64_t seconds, uint32_t nanoseconds)",
    reference=r"""
    #include <stdint.h>

    /**
     * @brief Write a PTP Timestamp (48-bit seconds, 32-bit nanoseconds, big-endian).
     * @param out Destination, 10 octets.
     * @param seconds Seconds; only the low 48 bits are written.
     * @param nanoseconds Nanoseconds.
     */
    void ptp_ts_pack(uint8_t out[10], uint64_t seconds, uint32_t nanoseconds)
    {
        uint32_t i;
        for (i = 0U; i < 6U; i++) {
            uint32_t shift = 8U * (5U - i);
            out[i] = (uint8_t)(seconds >> shift);
        }
        for (i = 0U; i < 4U; i++) {
            uint32_t shift = 8U * (3U - i);
            out[6U + i] = (uint8_t)(nanoseconds >> shift);
        }
    }
    """,
    harness_body=r"""
    uint8_t out[12];
    static const uint8_t a[12] = {0x12U, 0x34U, 0x56U, 0x78U, 0x9AU, 0xBCU, 0x3BU, 0x9AU, 0xC9U, 0xFFU, 0xEEU, 0xEEU};
    static const uint8_t b[12] = {0x00U, 0x00U, 0x00U, 0x00U, 0x00U, 0x01U, 0x00U, 0x00U, 0x00U, 0x01U, 0xEEU, 0xEEU};
    static const uint8_t c[12] = {0x00U, 0x00U, 0x65U, 0x53U, 0xF1U, 0x00U, 0x07U, 0x5BU, 0xCDU, 0x15U, 0xEEU, 0xEEU};
    memset(out, 0xEE, sizeof out);
    ptp_ts_pack(out, 0x123456789ABCULL, 999999999U);
    HX_MEM(out, a, 12U);
    ptp_ts_pack(out, 0xFFFF000000000001ULL, 1U);
    HX_MEM(out, b, 12U);
    ptp_ts_pack(out, 1700000000ULL, 123456789U);
    HX_MEM(out, c, 12U);
    """,
)

FAMILY.add(
    "unpack", "medium",
    ask="""Parse the 10-octet PTP Timestamp format received on the wire (48-bit secondsField then 32-bit
    nanosecondsField, network byte order). Return false and leave the outputs untouched if any pointer
    is NULL or the nanoseconds are not below 1e9; otherwise store both parts and return true.""",
    signature="bool ptp_ts_unpack(const uint8_t in[10], uint64_t *seconds, uint32_t *nanoseconds)",
    facts={"ptp_ns_per_second": None},
    reference=r"""
    #include <stdbool.h>
    #include <stddef.h>
    #include <stdint.h>

    #define NS_PER_SECOND 1000000000U

    /**
     * @brief Read a PTP Timestamp (48-bit seconds, 32-bit nanoseconds, big-endian).
     * @param in Source, 10 octets.
     * @param seconds Receives the seconds.
     * @param nanoseconds Receives the nanoseconds.
     * @return true on success, false for NULL pointers or nanoseconds >= 1e9.
     */
    bool ptp_ts_unpack(const uint8_t in[10], uint64_t *seconds, uint32_t *nanoseconds)
    {
        bool ok = false;
        if ((in != NULL) && (seconds != NULL) && (nanoseconds != NULL)) {
            uint64_t sec = 0U;
            uint32_t ns = 0U;
            uint32_t i;
            for (i = 0U; i < 6U; i++) {
                sec = (sec << 8U) | (uint64_t)in[i];
            }
            for (i = 6U; i < 10U; i++) {
                ns = (ns << 8U) | (uint32_t)in[i];
            }
            if (ns < NS_PER_SECOND) {
                *seconds = sec;
                *nanoseconds = ns;
                ok = true;
            }
        }
        return ok;
    }
    """,
    harness_body=r"""
    static const uint8_t a[10] = {0x12U, 0x34U, 0x56U, 0x78U, 0x9AU, 0xBCU, 0x3BU, 0x9AU, 0xC9U, 0xFFU};
    static const uint8_t c[10] = {0x00U, 0x00U, 0x65U, 0x53U, 0xF1U, 0x00U, 0x07U, 0x5BU, 0xCDU, 0x15U};
    static const uint8_t bad[10] = {0x00U, 0x00U, 0x00U, 0x00U, 0x00U, 0x01U, 0x3BU, 0x9AU, 0xCAU, 0x00U};
    uint64_t s = 1U;
    uint32_t ns = 1U;
    HX_T(ptp_ts_unpack(a, &s, &ns));
    HX_U(s, 0x123456789ABCULL);
    HX_U(ns, 999999999U);
    HX_T(ptp_ts_unpack(c, &s, &ns));
    HX_U(s, 1700000000ULL);
    HX_U(ns, 123456789U);
    HX_T(!ptp_ts_unpack(bad, &s, &ns));
    HX_U(s, 1700000000ULL);
    HX_U(ns, 123456789U);
    HX_T(!ptp_ts_unpack(a, NULL, &ns));
    """,
)

CORRECTIONS = [0x10000, 0x18000, -0x18000, -1, 65535, -(2**63), 1000 * 65536 + 12345, 2**63 - 1, -65536]

FAMILY.add(
    "correction-to-ns", "medium",
    ask="""The correctionField of a gPTP message is a signed 64-bit count of nanoseconds multiplied by 2^16.
    Convert it to whole nanoseconds, truncating toward zero (so -1.5 ns becomes -1 ns, not -2 ns). Do not
    rely on right-shifting a negative value.""",
    signature="int64_t ptp_correction_to_ns(int64_t correction)",
    reference=r"""
    #include <stdint.h>

    #define PTP_CORRECTION_SCALE 65536LL /* correctionField unit: 2^-16 ns */

    /**
     * @brief Convert a scaled correctionField to whole nanoseconds.
     * @param correction correctionField value, nanoseconds * 2^16.
     * @return Nanoseconds, truncated toward zero.
     */
    int64_t ptp_correction_to_ns(int64_t correction)
    {
        /* C99 division truncates toward zero, unlike an arithmetic right shift. */
        return correction / PTP_CORRECTION_SCALE;
    }
    """,
    harness_body="\n".join(
        f"HX_I(ptp_correction_to_ns({'INT64_MIN' if c == -(2**63) else str(c) + 'LL'}), {tdiv(c, 65536)}LL);"
        for c in CORRECTIONS),
)

TO_CORRECTION = [1, -1, 0, 140737488355327, 140737488355328, -140737488355328, -140737488355329, 1000]


def _to_correction(ns: int) -> int:
    return max(-(2**63), min(2**63 - 1, ns * 65536))


FAMILY.add(
    "ns-to-correction", "medium",
    ask="""Turn a residence time or path delay in nanoseconds into the scaled correctionField format
    (nanoseconds multiplied by 2^16, signed 64 bits) to add to a forwarded Sync. Values that do not fit
    saturate to INT64_MAX or INT64_MIN as the sign requires; avoid signed overflow.""",
    signature="int64_t ptp_ns_to_correction(int64_t ns)",
    reference=r"""
    #include <stdint.h>

    #define PTP_CORRECTION_SCALE 65536LL /* correctionField unit: 2^-16 ns */

    /**
     * @brief Convert nanoseconds to a scaled correctionField, saturating.
     * @param ns Time in nanoseconds.
     * @return ns * 2^16, saturated to the int64_t range.
     */
    int64_t ptp_ns_to_correction(int64_t ns)
    {
        int64_t scaled;
        if (ns > (INT64_MAX / PTP_CORRECTION_SCALE)) {
            scaled = INT64_MAX;
        } else if (ns < (INT64_MIN / PTP_CORRECTION_SCALE)) {
            scaled = INT64_MIN;
        } else {
            scaled = ns * PTP_CORRECTION_SCALE;
        }
        return scaled;
    }
    """,
    harness_body="\n".join(
        f"HX_I(ptp_ns_to_correction({n}LL), "
        f"{'INT64_MIN' if _to_correction(n) == -(2**63) else str(_to_correction(n)) + 'LL'});"
        for n in TO_CORRECTION),
)

LINK_DELAY = [(1000, 1500, 1700, 1400), (0, NS + 250, NS + 10250, 10500), (0, 0, 100, 50), (0, 0, 200, 401),
              (0, 0, 101, 50), (5 * NS, 7 * NS, 7 * NS + 4000, 5 * NS + 5000)]

FAMILY.add(
    "mean-link-delay", "medium",
    ask="""Compute the mean link delay from one peer-delay exchange: t1 = Pdelay_Req sent (our clock),
    t2 = Pdelay_Req received (peer clock), t3 = Pdelay_Resp sent (peer clock), t4 = Pdelay_Resp received
    (our clock), all in nanoseconds. Assume a neighbour rate ratio of exactly 1: the delay is
    ((t4 - t1) - (t3 - t2)) / 2, truncated toward zero. t4 >= t1 and t3 >= t2; the result can be
    negative on a noisy link.""",
    signature="int64_t ptp_mean_link_delay_ns(uint64_t t1, uint64_t t2, uint64_t t3, uint64_t t4)",
    reference=r"""
    #include <stdint.h>

    /**
     * @brief Mean link delay of a peer-delay exchange (neighbour rate ratio 1).
     * @param t1 Pdelay_Req transmit time at the requester, ns.
     * @param t2 Pdelay_Req receive time at the responder, ns.
     * @param t3 Pdelay_Resp transmit time at the responder, ns.
     * @param t4 Pdelay_Resp receive time at the requester, ns.
     * @return ((t4 - t1) - (t3 - t2)) / 2 in ns, truncated toward zero.
     */
    int64_t ptp_mean_link_delay_ns(uint64_t t1, uint64_t t2, uint64_t t3, uint64_t t4)
    {
        uint64_t round_trip_span = t4 - t1;
        uint64_t turnaround_span = t3 - t2;
        int64_t round_trip = (int64_t)round_trip_span;
        int64_t turnaround = (int64_t)turnaround_span;
        return (round_trip - turnaround) / 2;
    }
    """,
    harness_body="\n".join(
        f"HX_I(ptp_mean_link_delay_ns({t1}ULL, {t2}ULL, {t3}ULL, {t4}ULL), {tdiv((t4 - t1) - (t3 - t2), 2)}LL);"
        for t1, t2, t3, t4 in LINK_DELAY),
)


def _delay_rr(t1, t2, t3, t4, ppb):
    d = t4 - t1
    return tdiv(d + tdiv(d * ppb, NS) - (t3 - t2), 2)


DELAY_RR = [(0, 0, 999000, 1000000, 100000), (0, 0, 999000, 1000000, -100000), (0, 0, 999000, 1000000, 0),
            (10, 20, 999999979, 1000000009, 1), (NS, 3 * NS, 3 * NS + 12345, NS + 16000, -2500),
            (0, 0, 500000000, 500000500, 999)]

FAMILY.add(
    "link-delay-rate-ratio", "hard",
    ask="""Compute the gPTP mean link delay including the neighbour rate ratio r = 1 + rate_ratio_ppb * 1e-9
    (the peer's clock frequency relative to ours): delay = ((t4 - t1) * r - (t3 - t2)) / 2, where t1/t4
    are our Pdelay_Req transmit and Pdelay_Resp receive times and t2/t3 the peer's receive and transmit
    times, in nanoseconds. Use integer arithmetic only: (t4 - t1) * r is (t4 - t1) plus (t4 - t1) *
    rate_ratio_ppb / 1e9 truncated toward zero, and the final division by two also truncates toward
    zero. t4 - t1 is below one second and t3 >= t2.""",
    signature="int64_t ptp_mean_link_delay_rr_ns(uint64_t t1, uint64_t t2, uint64_t t3, uint64_t t4, int32_t rate_ratio_ppb)",
    reference=r"""
    #include <stdint.h>

    #define PPB_PER_UNIT 1000000000LL

    /**
     * @brief Mean link delay of a peer-delay exchange, corrected by the neighbour rate ratio.
     * @param t1 Pdelay_Req transmit time at the requester, ns.
     * @param t2 Pdelay_Req receive time at the responder, ns.
     * @param t3 Pdelay_Resp transmit time at the responder, ns.
     * @param t4 Pdelay_Resp receive time at the requester, ns.
     * @param rate_ratio_ppb Neighbour rate ratio minus one, in parts per billion.
     * @return ((t4 - t1) * r - (t3 - t2)) / 2 in ns, truncated toward zero.
     */
    int64_t ptp_mean_link_delay_rr_ns(uint64_t t1, uint64_t t2, uint64_t t3, uint64_t t4, int32_t rate_ratio_ppb)
    {
        uint64_t round_trip_span = t4 - t1;
        uint64_t turnaround_span = t3 - t2;
        int64_t round_trip = (int64_t)round_trip_span;
        int64_t turnaround = (int64_t)turnaround_span;
        int64_t scaled = round_trip + ((round_trip * (int64_t)rate_ratio_ppb) / PPB_PER_UNIT);
        return (scaled - turnaround) / 2;
    }
    """,
    harness_body="\n".join(
        f"HX_I(ptp_mean_link_delay_rr_ns({t1}ULL, {t2}ULL, {t3}ULL, {t4}ULL, {ppb}), {_delay_rr(t1, t2, t3, t4, ppb)}LL);"
        for t1, t2, t3, t4, ppb in DELAY_RR),
)


def _offset(o_s, o_ns, corr, r_s, r_ns, delay):
    return (r_s * NS + r_ns) - (o_s * NS + o_ns) - tdiv(corr, 65536) - delay


OFFSETS = [(100, 0, 0, 100, 1000, 1000), (100, 999999000, 500 * 65536, 101, 2000, 800),
           (1700000000, 5, -3 * 65536 - 100, 1699999999, 999999990, 250), (7, 0, 0x18000, 7, 0, 0),
           (50, 123, 0, 50, 123, 0), (20, 500000000, 0, 20, 0, 100)]

FAMILY.add(
    "offset-from-master", "medium",
    ask="""Compute the slave's offset from the grandmaster on receipt of a Sync/Follow_Up pair: offset =
    sync receive time - (preciseOriginTimestamp + correction + mean link delay). The origin and receive
    times are PTP timestamps (48-bit seconds + nanoseconds below 1e9); the correction is the raw
    correctionField (ns * 2^16, converted with truncation toward zero); the link delay is in ns. The
    offset is returned in ns and may be negative.""",
    signature="int64_t ptp_offset_from_master_ns(uint64_t origin_sec, uint32_t origin_ns, int64_t correction_scaled, "
              "uint64_t rx_sec, uint32_t rx_ns, int64_t link_delay_ns)",
    facts={"ptp_ns_per_second": None},
    reference=r"""
    #include <stdint.h>

    #define NS_PER_SECOND 1000000000LL
    #define PTP_CORRECTION_SCALE 65536LL

    /**
     * @brief Offset of the local clock from the grandmaster.
     * @param origin_sec Seconds of the preciseOriginTimestamp.
     * @param origin_ns Nanoseconds of the preciseOriginTimestamp.
     * @param correction_scaled Accumulated correctionField, ns * 2^16.
     * @param rx_sec Seconds of the local Sync receive timestamp.
     * @param rx_ns Nanoseconds of the local Sync receive timestamp.
     * @param link_delay_ns Mean link delay, ns.
     * @return Local time minus grandmaster time, in ns.
     */
    int64_t ptp_offset_from_master_ns(uint64_t origin_sec, uint32_t origin_ns, int64_t correction_scaled, uint64_t rx_sec, uint32_t rx_ns, int64_t link_delay_ns)
    {
        int64_t seconds;
        int64_t elapsed;
        if (rx_sec >= origin_sec) {
            uint64_t ahead = rx_sec - origin_sec;
            seconds = (int64_t)ahead;
        } else {
            uint64_t behind = origin_sec - rx_sec;
            seconds = -(int64_t)behind;
        }
        elapsed = (seconds * NS_PER_SECOND) + ((int64_t)rx_ns - (int64_t)origin_ns);
        return elapsed - (correction_scaled / PTP_CORRECTION_SCALE) - link_delay_ns;
    }
    """,
    harness_body="\n".join(
        f"HX_I(ptp_offset_from_master_ns({a}ULL, {b}U, {c}LL, {d}ULL, {e}U, {f}LL), {_offset(a, b, c, d, e, f)}LL);"
        for a, b, c, d, e, f in OFFSETS),
)


def _ratio(t3a, t4a, t3b, t4b):
    d3, d4 = t3b - t3a, t4b - t4a
    return tdiv((d3 - d4) * NS, d4) if d4 else 0


RATIOS = [(0, 0, 1000000100, 1000000000), (0, 0, 999999900, 1000000000), (5, 7, 125000005, 125000007),
          (1000, 2000, 2000001000, 2000000000 + 2000), (0, 0, 10, 0), (NS, 2 * NS, 5 * NS + 2222, 6 * NS)]

FAMILY.add(
    "neighbor-rate-ratio", "hard",
    ask="""Estimate the neighbour rate ratio from two peer-delay responses: the peer's Pdelay_Resp transmit
    times t3 (its clock) and our receive times t4 (our clock) of an earlier and a later exchange. The
    ratio is (t3_last - t3_first) / (t4_last - t4_first); return it as parts per billion away from 1,
    i.e. ((t3_last - t3_first) - (t4_last - t4_first)) * 1e9 / (t4_last - t4_first), truncated toward
    zero. Return 0 if the t4 interval is zero. The intervals are below 9 seconds and later stamps are
    never smaller than earlier ones.""",
    signature="int32_t ptp_neighbor_rate_ratio_ppb(uint64_t t3_first, uint64_t t4_first, uint64_t t3_last, uint64_t t4_last)",
    reference=r"""
    #include <stdint.h>

    #define PPB_PER_UNIT 1000000000LL

    /**
     * @brief Neighbour rate ratio from two peer-delay exchanges, in ppb away from 1.
     * @param t3_first Peer's Pdelay_Resp transmit time of the first exchange, ns.
     * @param t4_first Our Pdelay_Resp receive time of the first exchange, ns.
     * @param t3_last Peer's Pdelay_Resp transmit time of the last exchange, ns.
     * @param t4_last Our Pdelay_Resp receive time of the last exchange, ns.
     * @return (ratio - 1) * 1e9, truncated toward zero; 0 if the t4 interval is zero.
     */
    int32_t ptp_neighbor_rate_ratio_ppb(uint64_t t3_first, uint64_t t4_first, uint64_t t3_last, uint64_t t4_last)
    {
        int32_t ppb = 0;
        uint64_t peer_span = t3_last - t3_first;
        uint64_t local_span = t4_last - t4_first;
        int64_t peer_interval = (int64_t)peer_span;
        int64_t local_interval = (int64_t)local_span;
        if (local_interval != 0) {
            int64_t ratio_ppb = ((peer_interval - local_interval) * PPB_PER_UNIT) / local_interval;
            ppb = (int32_t)ratio_ppb;
        }
        return ppb;
    }
    """,
    harness_body="\n".join(
        f"HX_I(ptp_neighbor_rate_ratio_ppb({a}ULL, {b}ULL, {c}ULL, {d}ULL), {_ratio(a, b, c, d)});"
        for a, b, c, d in RATIOS),
)


# --- generated variants: intervals, coarser units, rate offsets -----------------------------------------
# Expected values come from exact Python integer arithmetic with the stated truncation or rounding.

UNITS = {"ns": (NS, "nanoseconds"), "us": (1_000_000, "microseconds"), "ms": (1_000, "milliseconds")}


def log_interval(log: int, per_second: int) -> int:
    if not -31 <= log <= 31:
        return 0
    return per_second << log if log >= 0 else per_second >> -log


for _unit, (_per_second, _words) in UNITS.items():
    _function = f"gptp_log_interval_to_{_unit}"
    FAMILY.add(
        f"log-interval-to-{_unit}", "easy",
        ask=f"""gPTP messages carry their interval as logMessageInterval, an int8_t base-2 logarithm of the
        interval in seconds (-3 means 125 ms). Convert it to {_words}, truncating any fraction toward zero.
        Only -31..31 are supported: return 0 for any other value. Do not use floating point.""",
        signature=f"uint64_t {_function}(int8_t log_interval)",
        reference=f"""\
#include <stdint.h>

#define {_unit.upper()}_PER_SECOND {_per_second}ULL

/**
 * @brief The length of a gPTP log interval in {_words}.
 * @param log_interval Base-2 logarithm of the interval in seconds, -31..31.
 * @return 2^log_interval seconds in {_words}, truncated; 0 outside -31..31.
 */
uint64_t {_function}(int8_t log_interval)
{{
    uint64_t result = 0U;
    if ((log_interval >= -31) && (log_interval <= 31)) {{
        if (log_interval >= 0) {{
            result = {_unit.upper()}_PER_SECOND << (uint32_t)log_interval;
        }} else {{
            uint32_t shift = (uint32_t)(-(int32_t)log_interval);
            result = {_unit.upper()}_PER_SECOND >> shift;
        }}
    }}
    return result;
}}
""",
        harness_body="\n".join(f"HX_U({_function}({log}), {log_interval(log, _per_second)}ULL);"
                               for log in (0, 1, -1, -3, -7, -9, -10, 3, 31, -31, 32, -32, 127, -128)),
    )

TS_CASES = ((0, 0), (1, 999999999), (1700000000, 123456789), (18446744073, 709551), (18446744073709551, 999999),
            (1, 1000000000), (18446744073709552, 0))


def ts_to_unit(seconds: int, ns: int, per_second: int) -> int:
    total = seconds * per_second + ns // (NS // per_second)
    return 2**64 - 1 if ns >= NS or total >= 2**64 else total


for _unit in ("us", "ms"):
    _per_second, _words = UNITS[_unit]
    _function = f"ptp_ts_to_{_unit}"
    FAMILY.add(
        f"to-{_unit}", "medium",
        ask=f"""Convert a PTP timestamp into whole {_words} since the epoch for the event log, dropping any
        remaining fraction. {TS} Return UINT64_MAX when the nanoseconds field is not below one second or
        the result does not fit in 64 bits; check before multiplying.""",
        signature=f"uint64_t {_function}(uint64_t seconds, uint32_t nanoseconds)",
        reference=f"""\
#include <stdint.h>

#define NS_PER_SECOND 1000000000U
#define {_unit.upper()}_PER_SECOND {_per_second}ULL
#define NS_PER_{_unit.upper()} {NS // _per_second}U

/**
 * @brief Convert seconds + nanoseconds into whole {_words}.
 * @param seconds Seconds part of the timestamp.
 * @param nanoseconds Nanoseconds part, below one second.
 * @return Total {_words} (truncated), or UINT64_MAX if nanoseconds is out of range or the result overflows.
 */
uint64_t {_function}(uint64_t seconds, uint32_t nanoseconds)
{{
    uint64_t total = UINT64_MAX;
    if (nanoseconds < NS_PER_SECOND) {{
        uint64_t fraction = (uint64_t)nanoseconds / (uint64_t)NS_PER_{_unit.upper()};
        if (seconds <= ((UINT64_MAX - fraction) / {_unit.upper()}_PER_SECOND)) {{
            total = (seconds * {_unit.upper()}_PER_SECOND) + fraction;
        }}
    }}
    return total;
}}
""",
        harness_body="\n".join(f"HX_U({_function}({s}ULL, {n}U), {ts_to_unit(s, n, _per_second)}ULL);"
                               for s, n in TS_CASES),
    )

DIFF_UNIT_CASES = DIFF_CASES + [((5, 1500), (5, 0)), ((5, 0), (5, 1500)), ((5, 2500), (5, 0)), ((5, 0), (5, 2500)),
                                ((7, 500000), (7, 0)), ((7, 0), (7, 500000)), ((7, 499999), (7, 0))]


def diff_unit(a: tuple, b: tuple, per_unit: int, rounding: str) -> int:
    diff = (a[0] - b[0]) * NS + a[1] - b[1]
    if rounding == "trunc":
        return tdiv(diff, per_unit)
    magnitude = (abs(diff) + per_unit // 2) // per_unit
    return magnitude if diff >= 0 else -magnitude


for _unit in ("us", "ms"):
    for _rounding, _how in (("trunc", "truncated toward zero"), ("round", "rounded to nearest, ties away from zero")):
        _per_second, _words = UNITS[_unit]
        _per_unit = NS // _per_second
        _function = f"ptp_ts_diff_{_unit}_{_rounding}"
        _scale = (f"    result = diff / NS_PER_{_unit.upper()};" if _rounding == "trunc" else
                  f"    if (diff >= 0) {{\n        result = (diff + (NS_PER_{_unit.upper()} / 2)) / NS_PER_{_unit.upper()};\n"
                  f"    }} else {{\n        result = -((-diff + (NS_PER_{_unit.upper()} / 2)) / NS_PER_{_unit.upper()});\n    }}")
        FAMILY.add(
            f"diff-{_unit}-{_rounding}", "medium",
            ask=f"""Report the signed difference a - b between two PTP timestamps in {_words}, {_how}, for
            the servo's statistics. {TS} Both inputs are valid and the difference in nanoseconds fits in
            an int64_t, but the seconds are unsigned, so subtracting them directly can wrap.""",
            signature=f"int64_t {_function}(uint64_t a_sec, uint32_t a_ns, uint64_t b_sec, uint32_t b_ns)",
            reference=f"""\
#include <stdint.h>

#define NS_PER_SECOND 1000000000LL
#define NS_PER_{_unit.upper()} {_per_unit}LL

/**
 * @brief Signed difference between two PTP timestamps in {_words}, {_how}.
 * @param a_sec Seconds of timestamp a.
 * @param a_ns Nanoseconds of timestamp a (< 1e9).
 * @param b_sec Seconds of timestamp b.
 * @param b_ns Nanoseconds of timestamp b (< 1e9).
 * @return a - b in {_words}.
 */
int64_t {_function}(uint64_t a_sec, uint32_t a_ns, uint64_t b_sec, uint32_t b_ns)
{{
    int64_t seconds;
    int64_t diff;
    int64_t result;
    if (a_sec >= b_sec) {{
        uint64_t ahead = a_sec - b_sec;
        seconds = (int64_t)ahead;
    }} else {{
        uint64_t behind = b_sec - a_sec;
        seconds = -(int64_t)behind;
    }}
    diff = (seconds * NS_PER_SECOND) + ((int64_t)a_ns - (int64_t)b_ns);
{_scale}
    return result;
}}
""",
            harness_body="\n".join(
                f"HX_I({_function}({a[0]}ULL, {a[1]}U, {b[0]}ULL, {b[1]}U), {diff_unit(a, b, _per_unit, _rounding)}LL);"
                for a, b in DIFF_UNIT_CASES),
        )

SCALED = 1 << 41  # cumulativeScaledRateOffset = (rateRatio - 1) * 2^41 (802.1AS follow-up TLV)
SCALED_CASES = (0, 1, -1, 2199, 2200, -2200, 2**31 - 1, -(2**31), 219902326, -219902326, 123456789)
PPB_CASES = (0, 1, -1, 100, -100, 976, 1000000, -1000000, 976562, 976563, -976563, 2**31 - 1, -(2**31))
FAMILY.add(
    "scaled-rate-offset-to-ppb", "medium",
    ask="""The Follow_Up information TLV of 802.1AS carries cumulativeScaledRateOffset, an int32_t equal to
    (rateRatio - 1) x 2^41. Convert it to parts per billion (ppb, i.e. (rateRatio - 1) x 10^9), truncating
    toward zero, with 64-bit integer arithmetic only.""",
    signature="int32_t gptp_scaled_rate_offset_to_ppb(int32_t scaled)",
    reference="""\
#include <stdint.h>

#define PPB_PER_UNIT 1000000000LL
#define SCALED_RATE_ONE 2199023255552LL /* 2^41 */

/**
 * @brief Convert a cumulativeScaledRateOffset to parts per billion.
 * @param scaled (rateRatio - 1) * 2^41.
 * @return (rateRatio - 1) * 1e9, truncated toward zero.
 */
int32_t gptp_scaled_rate_offset_to_ppb(int32_t scaled)
{
    int64_t ppb = ((int64_t)scaled * PPB_PER_UNIT) / SCALED_RATE_ONE;
    return (int32_t)ppb;
}
""",
    harness_body="\n".join(f"HX_I(gptp_scaled_rate_offset_to_ppb({c_v}), {tdiv(v * NS, SCALED)});"
                           for v, c_v in ((v, "INT32_MIN" if v == -(2**31) else str(v)) for v in SCALED_CASES)),
)


def ppb_to_scaled(ppb: int) -> int:
    return max(-(2**31), min(2**31 - 1, tdiv(ppb * SCALED, NS)))


FAMILY.add(
    "ppb-to-scaled-rate-offset", "medium",
    ask="""When our bridge forwards a Follow_Up it writes its rate offset into cumulativeScaledRateOffset,
    an int32_t equal to (rateRatio - 1) x 2^41. Convert a rate offset given in parts per billion
    ((rateRatio - 1) x 10^9) to that field, truncating toward zero and saturating to the int32_t range.
    Use 64-bit integer arithmetic only and make sure the intermediate product cannot overflow.""",
    signature="int32_t gptp_ppb_to_scaled_rate_offset(int32_t ppb)",
    reference="""\
#include <stdint.h>

#define PPB_PER_UNIT 1000000000LL
#define SCALED_RATE_LO 512LL        /* 2^41 = 2^9 * 2^32 */
#define SCALED_RATE_HI 4294967296LL
#define INT32_MAX_64 2147483647LL
#define INT32_MIN_64 (-2147483648LL)

/**
 * @brief Convert a rate offset in parts per billion to a cumulativeScaledRateOffset.
 * @param ppb (rateRatio - 1) * 1e9.
 * @return (rateRatio - 1) * 2^41, truncated toward zero and saturated to the int32_t range.
 */
int32_t gptp_ppb_to_scaled_rate_offset(int32_t ppb)
{
    /* |ppb| * 2^41 can exceed 63 bits: divide ppb * 2^9 by 1e9 first; a non-zero quotient means at
       least 2^32 in magnitude (saturate), otherwise the remainder * 2^32 / 1e9 is the result */
    int64_t scaled_lo = (int64_t)ppb * SCALED_RATE_LO;
    int64_t quotient = scaled_lo / PPB_PER_UNIT;
    int64_t remainder = scaled_lo % PPB_PER_UNIT;
    int64_t result;
    if (quotient != 0) {
        result = (quotient > 0) ? INT32_MAX_64 : INT32_MIN_64;
    } else {
        result = (remainder * SCALED_RATE_HI) / PPB_PER_UNIT;
        if (result > INT32_MAX_64) {
            result = INT32_MAX_64;
        } else if (result < INT32_MIN_64) {
            result = INT32_MIN_64;
        } else {
            /* in range */
        }
    }
    return (int32_t)result;
}
""",
    harness_body="\n".join(f"HX_I(gptp_ppb_to_scaled_rate_offset({'INT32_MIN' if p == -(2**31) else p}), "
                           f"{'INT32_MIN' if ppb_to_scaled(p) == -(2**31) else ppb_to_scaled(p)});" for p in PPB_CASES),
)

"""IEEE 802.1Qbv time-aware shaper: gate-state octets (bit i = traffic class i), gate control lists
(every interval > 0 ns, sum of intervals <= cycle time), cycle start times, guard bands."""

from common import Family

FAMILY = Family("qbv_gcl", area="time-aware shaper (802.1Qbv) of the TSN switch")

GCL_BITS = "Gate states are an octet in which bit i is the gate of traffic class i (1 = open)."

FAMILY.add(
    "gate-is-open", "easy",
    ask=f"""Report whether the transmission gate of one traffic class is open in a gate-state octet of an
    802.1Qbv gate control list entry. {GCL_BITS} Traffic classes above 7 do not exist: report them as
    closed.""",
    signature="bool qbv_gate_is_open(uint8_t gate_states, uint8_t traffic_class)",
    facts={"qbv_gate_bits": None},
    reference=r"""
    #include <stdbool.h>
    #include <stdint.h>

    /**
     * @brief Tell whether the gate of a traffic class is open.
     * @param gate_states Gate-state octet: bit i is the gate of traffic class i, 1 = open.
     * @param traffic_class Traffic class, 0..7.
     * @return true if the gate is open, false if it is closed or the class does not exist.
     */
    bool qbv_gate_is_open(uint8_t gate_states, uint8_t traffic_class)
    {
        bool open = false;
        if (traffic_class < 8U) {
            open = ((((uint32_t)gate_states >> traffic_class) & 1U) != 0U);
        }
        return open;
    }
    """,
    harness_body=r"""
    HX_T(qbv_gate_is_open(0x05U, 0U));
    HX_T(!qbv_gate_is_open(0x05U, 1U));
    HX_T(qbv_gate_is_open(0x05U, 2U));
    HX_T(qbv_gate_is_open(0x80U, 7U));
    HX_T(!qbv_gate_is_open(0x7FU, 7U));
    HX_T(!qbv_gate_is_open(0xFFU, 8U));
    HX_T(qbv_gate_is_open(0x08U, 3U));
    """,
)

FAMILY.add(
    "gate-mask", "easy",
    ask=f"""Build the gate-state octet for a GCL entry from a list of traffic classes that must be open.
    {GCL_BITS} Entries above 7 are configuration errors and are ignored; duplicates are harmless. A NULL
    list or an empty list gives all gates closed.""",
    signature="uint8_t qbv_gate_mask(const uint8_t *classes, size_t count)",
    facts={"qbv_gate_bits": None},
    reference=r"""
    #include <stddef.h>
    #include <stdint.h>

    /**
     * @brief Build a gate-state octet that opens the listed traffic classes.
     * @param classes Traffic classes to open (0..7; larger values are ignored).
     * @param count Number of entries in classes.
     * @return Gate-state octet with bit i set for every listed class i.
     */
    uint8_t qbv_gate_mask(const uint8_t *classes, size_t count)
    {
        uint32_t mask = 0U;
        if (classes != NULL) {
            size_t i;
            for (i = 0U; i < count; i++) {
                if (classes[i] < 8U) {
                    mask |= ((uint32_t)1U << classes[i]);
                }
            }
        }
        return (uint8_t)mask;
    }
    """,
    harness_body=r"""
    static const uint8_t a[3] = {0U, 3U, 7U};
    static const uint8_t b[4] = {1U, 1U, 9U, 2U};
    static const uint8_t c[8] = {7U, 6U, 5U, 4U, 3U, 2U, 1U, 0U};
    HX_U(qbv_gate_mask(a, 3U), 0x89U);
    HX_U(qbv_gate_mask(b, 4U), 0x06U);
    HX_U(qbv_gate_mask(c, 8U), 0xFFU);
    HX_U(qbv_gate_mask(c, 2U), 0xC0U);
    HX_U(qbv_gate_mask(a, 0U), 0x00U);
    HX_U(qbv_gate_mask(NULL, 3U), 0x00U);
    """,
)

FAMILY.add(
    "gcl-validate", "medium",
    ask="""Validate an administrative gate control list before it is installed: the list needs at least
    one entry, every time interval must be greater than zero, the cycle time must be non-zero and the
    sum of all intervals must not exceed the cycle time. The sum must be computed so that it cannot
    wrap around. A NULL list is invalid.""",
    signature="bool qbv_gcl_is_valid(const uint32_t *intervals_ns, size_t count, uint32_t cycle_time_ns)",
    facts={"qbv_interval_rules": None},
    reference=r"""
    #include <stdbool.h>
    #include <stddef.h>
    #include <stdint.h>

    /**
     * @brief Check the time intervals of a gate control list against its cycle time.
     * @param intervals_ns Time interval of each GCL entry, in nanoseconds.
     * @param count Number of GCL entries.
     * @param cycle_time_ns Cycle time in nanoseconds.
     * @return true if count > 0, every interval > 0, cycle time > 0 and the intervals fit in the cycle.
     */
    bool qbv_gcl_is_valid(const uint32_t *intervals_ns, size_t count, uint32_t cycle_time_ns)
    {
        bool valid = (intervals_ns != NULL) && (count > 0U) && (cycle_time_ns > 0U);
        uint64_t sum = 0U;
        size_t i;
        for (i = 0U; valid && (i < count); i++) {
            if (intervals_ns[i] == 0U) {
                valid = false;
            } else {
                sum += (uint64_t)intervals_ns[i];
                if (sum > (uint64_t)cycle_time_ns) {
                    valid = false;
                }
            }
        }
        return valid;
    }
    """,
    harness_body=r"""
    static const uint32_t ok3[3] = {100U, 200U, 300U};
    static const uint32_t zero[3] = {100U, 0U, 300U};
    static const uint32_t big[2] = {0xFFFFFFFFU, 0xFFFFFFFFU};
    static const uint32_t one[1] = {1000U};
    HX_T(qbv_gcl_is_valid(ok3, 3U, 600U));
    HX_T(qbv_gcl_is_valid(ok3, 3U, 1000000U));
    HX_T(!qbv_gcl_is_valid(ok3, 3U, 599U));
    HX_T(!qbv_gcl_is_valid(zero, 3U, 1000U));
    HX_T(!qbv_gcl_is_valid(ok3, 0U, 1000U));
    HX_T(!qbv_gcl_is_valid(NULL, 3U, 1000U));
    HX_T(!qbv_gcl_is_valid(big, 2U, 0xFFFFFFFFU));
    HX_T(qbv_gcl_is_valid(big, 1U, 0xFFFFFFFFU));
    HX_T(qbv_gcl_is_valid(one, 1U, 1000U));
    HX_T(!qbv_gcl_is_valid(one, 1U, 0U));
    """,
)

FAMILY.add(
    "entry-at", "medium",
    ask="""Find which gate control list entry is in effect at a given time offset from the start of the
    schedule. The offset is first reduced modulo the cycle time. Entry i starts when entries 0..i-1
    have elapsed; if the intervals add up to less than the cycle time, the last entry stays in effect
    until the cycle ends. Return the entry index, or count if the list is NULL or empty or the cycle
    time is zero.""",
    signature="size_t qbv_entry_at(const uint32_t *intervals_ns, size_t count, uint32_t cycle_time_ns, uint64_t offset_ns)",
    facts={"qbv_interval_rules": None},
    reference=r"""
    #include <stddef.h>
    #include <stdint.h>

    /**
     * @brief Index of the gate control list entry in effect at a time offset.
     * @param intervals_ns Time interval of each GCL entry, in nanoseconds.
     * @param count Number of GCL entries.
     * @param cycle_time_ns Cycle time in nanoseconds.
     * @param offset_ns Time since the schedule started, in nanoseconds.
     * @return The entry index (the last entry covers the rest of the cycle), or count on invalid input.
     */
    size_t qbv_entry_at(const uint32_t *intervals_ns, size_t count, uint32_t cycle_time_ns, uint64_t offset_ns)
    {
        size_t index = count;
        if ((intervals_ns != NULL) && (count > 0U) && (cycle_time_ns > 0U)) {
            uint64_t in_cycle = offset_ns % (uint64_t)cycle_time_ns;
            uint64_t entry_end = 0U;
            size_t i = 0U;
            index = count - 1U;
            while (i < (count - 1U)) {
                entry_end += (uint64_t)intervals_ns[i];
                if (in_cycle < entry_end) {
                    index = i;
                    break;
                }
                i++;
            }
        }
        return index;
    }
    """,
    harness_body=r"""
    static const uint32_t gcl[3] = {100U, 200U, 300U};
    HX_U(qbv_entry_at(gcl, 3U, 1000U, 0U), 0U);
    HX_U(qbv_entry_at(gcl, 3U, 1000U, 99U), 0U);
    HX_U(qbv_entry_at(gcl, 3U, 1000U, 100U), 1U);
    HX_U(qbv_entry_at(gcl, 3U, 1000U, 299U), 1U);
    HX_U(qbv_entry_at(gcl, 3U, 1000U, 300U), 2U);
    HX_U(qbv_entry_at(gcl, 3U, 1000U, 600U), 2U);
    HX_U(qbv_entry_at(gcl, 3U, 1000U, 999U), 2U);
    HX_U(qbv_entry_at(gcl, 3U, 1000U, 1000U), 0U);
    HX_U(qbv_entry_at(gcl, 3U, 1000U, 1150U), 1U);
    HX_U(qbv_entry_at(gcl, 3U, 1000U, 1000000000250ULL), 1U);
    HX_U(qbv_entry_at(gcl, 0U, 1000U, 5U), 0U);
    HX_U(qbv_entry_at(gcl, 3U, 0U, 5U), 3U);
    HX_U(qbv_entry_at(NULL, 3U, 1000U, 5U), 3U);
    """,
)

FAMILY.add(
    "gate-states-at", "hard",
    ask=f"""Compute the operational gate states of a port at an absolute gPTP time. The schedule starts at
    base_time_ns and repeats every cycle_time_ns; within a cycle, entry i is in effect after entries
    0..i-1 have elapsed, and the last entry stays in effect until the end of the cycle when the
    intervals are shorter than the cycle. {GCL_BITS} Before the base time, and for an invalid list
    (NULL pointers, no entries, zero cycle time), all gates are open (0xFF).""",
    signature="uint8_t qbv_gate_states_at(const uint8_t *states, const uint32_t *intervals_ns, size_t count, "
              "uint32_t cycle_time_ns, uint64_t base_time_ns, uint64_t now_ns)",
    facts={"qbv_gate_bits": None, "qbv_interval_rules": None},
    reference=r"""
    #include <stdbool.h>
    #include <stddef.h>
    #include <stdint.h>

    #define QBV_ALL_GATES_OPEN 0xFFU

    /**
     * @brief Gate states of a time-aware shaper at an absolute time.
     * @param states Gate-state octet of each GCL entry (bit i = traffic class i, 1 = open).
     * @param intervals_ns Time interval of each GCL entry, in nanoseconds.
     * @param count Number of GCL entries.
     * @param cycle_time_ns Cycle time in nanoseconds.
     * @param base_time_ns Time at which the schedule starts, in nanoseconds.
     * @param now_ns Current time, in nanoseconds.
     * @return The gate states in effect, or 0xFF before the base time or for an invalid list.
     */
    uint8_t qbv_gate_states_at(const uint8_t *states, const uint32_t *intervals_ns, size_t count, uint32_t cycle_time_ns, uint64_t base_time_ns, uint64_t now_ns)
    {
        uint8_t gates = QBV_ALL_GATES_OPEN;
        if ((states != NULL) && (intervals_ns != NULL) && (count > 0U) && (cycle_time_ns > 0U) &&
            (now_ns >= base_time_ns)) {
            uint64_t in_cycle = (now_ns - base_time_ns) % (uint64_t)cycle_time_ns;
            uint64_t entry_end = 0U;
            size_t i = 0U;
            bool found = false;
            gates = states[count - 1U];
            while ((i < (count - 1U)) && !found) {
                entry_end += (uint64_t)intervals_ns[i];
                if (in_cycle < entry_end) {
                    gates = states[i];
                    found = true;
                }
                i++;
            }
        }
        return gates;
    }
    """,
    harness_body=r"""
    static const uint8_t states[3] = {0x01U, 0x06U, 0xF8U};
    static const uint32_t gcl[3] = {100U, 200U, 300U};
    HX_U(qbv_gate_states_at(states, gcl, 3U, 1000U, 5000U, 4999U), 0xFFU);
    HX_U(qbv_gate_states_at(states, gcl, 3U, 1000U, 5000U, 5000U), 0x01U);
    HX_U(qbv_gate_states_at(states, gcl, 3U, 1000U, 5000U, 5100U), 0x06U);
    HX_U(qbv_gate_states_at(states, gcl, 3U, 1000U, 5000U, 5350U), 0xF8U);
    HX_U(qbv_gate_states_at(states, gcl, 3U, 1000U, 5000U, 5700U), 0xF8U);
    HX_U(qbv_gate_states_at(states, gcl, 3U, 1000U, 5000U, 6000U), 0x01U);
    HX_U(qbv_gate_states_at(states, gcl, 3U, 1000U, 5000U, 6250U), 0x06U);
    HX_U(qbv_gate_states_at(states, gcl, 3U, 1000U, 0U, 1000000000099ULL), 0x01U);
    HX_U(qbv_gate_states_at(states, gcl, 0U, 1000U, 0U, 50U), 0xFFU);
    HX_U(qbv_gate_states_at(states, gcl, 3U, 0U, 0U, 50U), 0xFFU);
    HX_U(qbv_gate_states_at(NULL, gcl, 3U, 1000U, 0U, 50U), 0xFFU);
    """,
)

FAMILY.add(
    "open-time", "medium",
    ask=f"""For bandwidth planning, compute how long per cycle the gate of one traffic class is open: the
    sum of the intervals of all GCL entries whose gate state opens that class. {GCL_BITS} The result
    saturates at UINT32_MAX instead of wrapping. Return 0 for a class above 7 or NULL arrays.""",
    signature="uint32_t qbv_open_time_ns(const uint8_t *states, const uint32_t *intervals_ns, size_t count, uint8_t traffic_class)",
    facts={"qbv_gate_bits": None},
    reference=r"""
    #include <stddef.h>
    #include <stdint.h>

    /**
     * @brief Total time per cycle during which a traffic class's gate is open.
     * @param states Gate-state octet of each GCL entry (bit i = traffic class i, 1 = open).
     * @param intervals_ns Time interval of each GCL entry, in nanoseconds.
     * @param count Number of GCL entries.
     * @param traffic_class Traffic class, 0..7.
     * @return Open time in nanoseconds, saturated at UINT32_MAX; 0 on invalid input.
     */
    uint32_t qbv_open_time_ns(const uint8_t *states, const uint32_t *intervals_ns, size_t count, uint8_t traffic_class)
    {
        uint64_t total = 0U;
        if ((states != NULL) && (intervals_ns != NULL) && (traffic_class < 8U)) {
            size_t i;
            for (i = 0U; i < count; i++) {
                if (((((uint32_t)states[i]) >> traffic_class) & 1U) != 0U) {
                    total += (uint64_t)intervals_ns[i];
                }
            }
        }
        if (total > (uint64_t)UINT32_MAX) {
            total = (uint64_t)UINT32_MAX;
        }
        return (uint32_t)total;
    }
    """,
    harness_body=r"""
    static const uint8_t states[4] = {0x01U, 0x06U, 0xF8U, 0x03U};
    static const uint32_t gcl[4] = {100U, 200U, 300U, 50U};
    static const uint8_t both[2] = {0x01U, 0x01U};
    static const uint32_t huge[2] = {0xFFFFFFFFU, 10U};
    HX_U(qbv_open_time_ns(states, gcl, 4U, 0U), 150U);
    HX_U(qbv_open_time_ns(states, gcl, 4U, 1U), 250U);
    HX_U(qbv_open_time_ns(states, gcl, 4U, 2U), 200U);
    HX_U(qbv_open_time_ns(states, gcl, 4U, 3U), 300U);
    HX_U(qbv_open_time_ns(states, gcl, 4U, 7U), 300U);
    HX_U(qbv_open_time_ns(states, gcl, 4U, 8U), 0U);
    HX_U(qbv_open_time_ns(both, huge, 2U, 0U), 0xFFFFFFFFU);
    HX_U(qbv_open_time_ns(NULL, gcl, 4U, 0U), 0U);
    """,
)

FAMILY.add(
    "time-to-open", "hard",
    ask=f"""A frame of a given traffic class is waiting for its gate. Compute how many nanoseconds remain
    until the gate opens, given the current offset within the cycle. {GCL_BITS} Here the intervals add
    up exactly to the cycle time and the schedule repeats, so the search wraps from the last entry to
    the first; the offset is reduced modulo that sum first. Return 0 if the gate is open now and
    UINT32_MAX if no entry ever opens the class (or the class is above 7, or the list is
    NULL/empty).""",
    signature="uint32_t qbv_time_to_open_ns(const uint8_t *states, const uint32_t *intervals_ns, size_t count, "
              "uint32_t offset_ns, uint8_t traffic_class)",
    facts={"qbv_gate_bits": None},
    reference=r"""
    #include <stdbool.h>
    #include <stddef.h>
    #include <stdint.h>

    /**
     * @brief Time until the gate of a traffic class next opens.
     * @param states Gate-state octet of each GCL entry (bit i = traffic class i, 1 = open).
     * @param intervals_ns Time interval of each GCL entry, in nanoseconds; they sum to the cycle time.
     * @param count Number of GCL entries.
     * @param offset_ns Current time offset within the cycle, in nanoseconds.
     * @param traffic_class Traffic class, 0..7.
     * @return Nanoseconds until the gate opens (0 = open now), UINT32_MAX if it never opens.
     */
    uint32_t qbv_time_to_open_ns(const uint8_t *states, const uint32_t *intervals_ns, size_t count, uint32_t offset_ns, uint8_t traffic_class)
    {
        uint64_t wait = (uint64_t)UINT32_MAX;
        uint64_t cycle = 0U;
        size_t i;
        if ((states != NULL) && (intervals_ns != NULL) && (traffic_class < 8U)) {
            for (i = 0U; i < count; i++) {
                cycle += (uint64_t)intervals_ns[i];
            }
        }
        if (cycle > 0U) {
            uint64_t now = (uint64_t)offset_ns % cycle;
            uint64_t start = 0U;
            size_t current = 0U;
            bool done = false;
            /* find the entry in effect now */
            while ((start + (uint64_t)intervals_ns[current]) <= now) {
                start += (uint64_t)intervals_ns[current];
                current++;
            }
            /* walk forward from the current entry, at most one full cycle */
            for (i = 0U; (i < count) && !done; i++) {
                size_t entry = (current + i) % count;
                if (((((uint32_t)states[entry]) >> traffic_class) & 1U) != 0U) {
                    wait = (start > now) ? (start - now) : 0U;
                    done = true;
                } else {
                    start += (uint64_t)intervals_ns[entry];
                }
            }
        }
        if (wait > (uint64_t)UINT32_MAX) {
            wait = (uint64_t)UINT32_MAX;
        }
        return (uint32_t)wait;
    }
    """,
    harness_body=r"""
    static const uint8_t states[4] = {0x01U, 0x06U, 0xF8U, 0x03U};
    static const uint32_t gcl[4] = {100U, 200U, 300U, 400U};
    static const uint8_t only0[1] = {0x01U};
    static const uint32_t whole[1] = {1000U};
    HX_U(qbv_time_to_open_ns(states, gcl, 4U, 50U, 0U), 0U);
    HX_U(qbv_time_to_open_ns(states, gcl, 4U, 150U, 0U), 450U);
    HX_U(qbv_time_to_open_ns(states, gcl, 4U, 50U, 3U), 250U);
    HX_U(qbv_time_to_open_ns(states, gcl, 4U, 350U, 3U), 0U);
    HX_U(qbv_time_to_open_ns(states, gcl, 4U, 700U, 2U), 400U);
    HX_U(qbv_time_to_open_ns(states, gcl, 4U, 999U, 1U), 0U);
    HX_U(qbv_time_to_open_ns(states, gcl, 4U, 50U, 1U), 50U);
    HX_U(qbv_time_to_open_ns(states, gcl, 4U, 1050U, 1U), 50U);
    HX_U(qbv_time_to_open_ns(states, gcl, 4U, 300U, 0U), 300U);
    HX_U(qbv_time_to_open_ns(only0, whole, 1U, 10U, 5U), 0xFFFFFFFFU);
    HX_U(qbv_time_to_open_ns(states, gcl, 4U, 10U, 9U), 0xFFFFFFFFU);
    HX_U(qbv_time_to_open_ns(states, gcl, 0U, 10U, 0U), 0xFFFFFFFFU);
    """,
)

FAMILY.add(
    "frame-fits", "hard",
    ask=f"""Before starting a transmission, the time-aware shaper must be sure the frame completes before
    the gate of its traffic class closes. {GCL_BITS} The port is in GCL entry `entry`, elapsed_ns into
    its interval. The gate stays open across consecutive following entries that also open the class,
    but do not wrap past the last entry of the list. Return true if the gate is open now and remains
    open for at least tx_time_ns. Return false for an entry index out of range, an elapsed time larger
    than the entry's interval, a class above 7 or NULL arrays.""",
    signature="bool qbv_frame_fits(const uint8_t *states, const uint32_t *intervals_ns, size_t count, size_t entry, "
              "uint32_t elapsed_ns, uint32_t tx_time_ns, uint8_t traffic_class)",
    facts={"qbv_gate_bits": None},
    reference=r"""
    #include <stdbool.h>
    #include <stddef.h>
    #include <stdint.h>

    /**
     * @brief Tell whether a frame's transmission ends before its gate closes.
     * @param states Gate-state octet of each GCL entry (bit i = traffic class i, 1 = open).
     * @param intervals_ns Time interval of each GCL entry, in nanoseconds.
     * @param count Number of GCL entries.
     * @param entry Index of the entry in effect now.
     * @param elapsed_ns Time already spent in that entry, in nanoseconds.
     * @param tx_time_ns Transmission time of the frame, in nanoseconds.
     * @param traffic_class Traffic class of the frame, 0..7.
     * @return true if the gate is open now and stays open for tx_time_ns.
     */
    bool qbv_frame_fits(const uint8_t *states, const uint32_t *intervals_ns, size_t count, size_t entry, uint32_t elapsed_ns, uint32_t tx_time_ns, uint8_t traffic_class)
    {
        bool fits = false;
        if ((states != NULL) && (intervals_ns != NULL) && (entry < count) && (traffic_class < 8U) &&
            (elapsed_ns <= intervals_ns[entry])) {
            uint64_t open_for = 0U;
            size_t i = entry;
            while ((i < count) && (((((uint32_t)states[i]) >> traffic_class) & 1U) != 0U)) {
                open_for += (uint64_t)intervals_ns[i];
                i++;
            }
            if (i > entry) {
                fits = (open_for - (uint64_t)elapsed_ns) >= (uint64_t)tx_time_ns;
            }
        }
        return fits;
    }
    """,
    harness_body=r"""
    static const uint8_t states[4] = {0x01U, 0x01U, 0x06U, 0x01U};
    static const uint32_t gcl[4] = {100U, 200U, 300U, 400U};
    HX_T(qbv_frame_fits(states, gcl, 4U, 0U, 50U, 250U, 0U));
    HX_T(!qbv_frame_fits(states, gcl, 4U, 0U, 50U, 251U, 0U));
    HX_T(qbv_frame_fits(states, gcl, 4U, 3U, 0U, 400U, 0U));
    HX_T(!qbv_frame_fits(states, gcl, 4U, 3U, 0U, 401U, 0U));
    HX_T(!qbv_frame_fits(states, gcl, 4U, 0U, 0U, 1U, 1U));
    HX_T(qbv_frame_fits(states, gcl, 4U, 2U, 299U, 1U, 2U));
    HX_T(!qbv_frame_fits(states, gcl, 4U, 2U, 299U, 2U, 2U));
    HX_T(qbv_frame_fits(states, gcl, 4U, 1U, 0U, 0U, 0U));
    HX_T(!qbv_frame_fits(states, gcl, 4U, 1U, 201U, 1U, 0U));
    HX_T(!qbv_frame_fits(states, gcl, 4U, 4U, 0U, 1U, 0U));
    HX_T(!qbv_frame_fits(states, gcl, 4U, 0U, 0U, 1U, 8U));
    """,
)

FAMILY.add(
    "cycle-start", "medium",
    ask="""Compute when the first gating cycle of a new schedule starts (802.1Qbv SetCycleStartTime): if
    the administrative base time is now or in the future, the cycle starts at the base time; if it lies
    in the past, it starts at base_time + N * cycle_time for the smallest integer N that gives a time at
    or after now. A zero cycle time returns the base time. You may assume no 64-bit overflow.""",
    signature="uint64_t qbv_cycle_start_ns(uint64_t base_time_ns, uint32_t cycle_time_ns, uint64_t now_ns)",
    reference=r"""
    #include <stdint.h>

    /**
     * @brief Start time of the first cycle of a gate control schedule.
     * @param base_time_ns Administrative base time, in nanoseconds.
     * @param cycle_time_ns Cycle time, in nanoseconds.
     * @param now_ns Current time, in nanoseconds.
     * @return The first cycle boundary at or after now_ns (base_time_ns if it is not in the past).
     */
    uint64_t qbv_cycle_start_ns(uint64_t base_time_ns, uint32_t cycle_time_ns, uint64_t now_ns)
    {
        uint64_t start = base_time_ns;
        if ((cycle_time_ns > 0U) && (now_ns > base_time_ns)) {
            uint64_t cycle = (uint64_t)cycle_time_ns;
            uint64_t cycles = (now_ns - base_time_ns + cycle - 1U) / cycle;
            start = base_time_ns + (cycles * cycle);
        }
        return start;
    }
    """,
    harness_body=r"""
    HX_U(qbv_cycle_start_ns(1000U, 300U, 500U), 1000U);
    HX_U(qbv_cycle_start_ns(1000U, 300U, 1000U), 1000U);
    HX_U(qbv_cycle_start_ns(1000U, 300U, 1001U), 1300U);
    HX_U(qbv_cycle_start_ns(1000U, 300U, 1300U), 1300U);
    HX_U(qbv_cycle_start_ns(1000U, 300U, 1301U), 1600U);
    HX_U(qbv_cycle_start_ns(0U, 1000000U, 1000000000000001ULL), 1000000001000000ULL);
    HX_U(qbv_cycle_start_ns(7U, 0U, 5000U), 7U);
    HX_U(qbv_cycle_start_ns(250000U, 125000U, 1000000000U), 1000000000U);
    """,
)

FAMILY.add(
    "cycle-time-rational", "easy",
    ask="""The 802.1Qbv managed object AdminCycleTime is a rational number of seconds (numerator /
    denominator). Convert it to whole nanoseconds, truncating, for the hardware register. Return 0 when
    the denominator is zero or the result does not fit in 32 bits; the intermediate product must not
    overflow.""",
    signature="uint32_t qbv_cycle_time_ns(uint32_t numerator, uint32_t denominator)",
    facts={"ptp_ns_per_second": "NSEC_PER_SEC"},
    defines=[("NSEC_PER_SEC", "nanoseconds per second")],
    reference=r"""
    #include <stdint.h>

    #define NSEC_PER_SEC 1000000000ULL

    /**
     * @brief Convert a rational cycle time in seconds to nanoseconds.
     * @param numerator Numerator of the cycle time in seconds.
     * @param denominator Denominator of the cycle time in seconds.
     * @return The cycle time in nanoseconds (truncated), or 0 if invalid or too large for 32 bits.
     */
    uint32_t qbv_cycle_time_ns(uint32_t numerator, uint32_t denominator)
    {
        uint32_t result = 0U;
        if (denominator != 0U) {
            uint64_t ns = ((uint64_t)numerator * NSEC_PER_SEC) / (uint64_t)denominator;
            if (ns <= (uint64_t)UINT32_MAX) {
                result = (uint32_t)ns;
            }
        }
        return result;
    }
    """,
    harness_body=r"""
    HX_U(qbv_cycle_time_ns(1U, 1000U), 1000000U);
    HX_U(qbv_cycle_time_ns(1U, 8000U), 125000U);
    HX_U(qbv_cycle_time_ns(3U, 7U), 428571428U);
    HX_U(qbv_cycle_time_ns(1U, 3U), 333333333U);
    HX_U(qbv_cycle_time_ns(4U, 1U), 4000000000U);
    HX_U(qbv_cycle_time_ns(5U, 1U), 0U);
    HX_U(qbv_cycle_time_ns(0xFFFFFFFFU, 0xFFFFFFFFU), 1000000000U);
    HX_U(qbv_cycle_time_ns(1U, 0U), 0U);
    """,
)

FAMILY.add(
    "guard-band", "medium",
    ask="""Size the guard band that must precede a protected window: the time needed to transmit the
    largest interfering frame, counting the frame's octets plus 20 octets of preamble, start frame
    delimiter and minimum inter-packet gap, at the given link speed in Mbit/s. Round up to whole
    nanoseconds. A link speed of 0 gives 0.""",
    signature="uint32_t qbv_guard_band_ns(uint16_t max_frame_octets, uint32_t link_speed_mbps)",
    reference=r"""
    #include <stdint.h>

    #define ETH_WIRE_OVERHEAD_OCTETS 20U /* preamble + SFD (8) and inter-packet gap (12) */

    /**
     * @brief Guard band needed before a protected window.
     * @param max_frame_octets Largest interfering frame, in octets (without preamble and gap).
     * @param link_speed_mbps Link speed in Mbit/s.
     * @return Transmission time of the frame on the wire, in nanoseconds rounded up; 0 if the speed is 0.
     */
    uint32_t qbv_guard_band_ns(uint16_t max_frame_octets, uint32_t link_speed_mbps)
    {
        uint32_t guard = 0U;
        if (link_speed_mbps > 0U) {
            uint64_t bits = ((uint64_t)max_frame_octets + ETH_WIRE_OVERHEAD_OCTETS) * 8U;
            uint64_t ns = ((bits * 1000U) + (uint64_t)link_speed_mbps - 1U) / (uint64_t)link_speed_mbps;
            guard = (uint32_t)ns;
        }
        return guard;
    }
    """,
    harness_body=r"""
    HX_U(qbv_guard_band_ns(1522U, 100U), 123360U);
    HX_U(qbv_guard_band_ns(1522U, 1000U), 12336U);
    HX_U(qbv_guard_band_ns(64U, 2500U), 269U);
    HX_U(qbv_guard_band_ns(64U, 10U), 67200U);
    HX_U(qbv_guard_band_ns(0U, 1000U), 160U);
    HX_U(qbv_guard_band_ns(1500U, 10000U), 1216U);
    HX_U(qbv_guard_band_ns(1522U, 0U), 0U);
    """,
)

FAMILY.add(
    "gates-closing", "easy",
    ask=f"""When the shaper moves from one GCL entry to the next, the MAC must stop the queues whose gate
    goes from open to closed. {GCL_BITS} Return the octet of traffic classes that are open in the current
    entry and closed in the next one.""",
    signature="uint8_t qbv_gates_closing(uint8_t current_states, uint8_t next_states)",
    facts={"qbv_gate_bits": None},
    reference=r"""
    #include <stdint.h>

    /**
     * @brief Traffic classes whose gate closes at a GCL entry change.
     * @param current_states Gate-state octet of the current entry (bit i = traffic class i, 1 = open).
     * @param next_states Gate-state octet of the next entry.
     * @return Octet with bit i set if class i goes from open to closed.
     */
    uint8_t qbv_gates_closing(uint8_t current_states, uint8_t next_states)
    {
        return (uint8_t)((uint32_t)current_states & ~(uint32_t)next_states & 0xFFU);
    }
    """,
    harness_body=r"""
    HX_U(qbv_gates_closing(0xFFU, 0x0FU), 0xF0U);
    HX_U(qbv_gates_closing(0x01U, 0x02U), 0x01U);
    HX_U(qbv_gates_closing(0x00U, 0xFFU), 0x00U);
    HX_U(qbv_gates_closing(0x81U, 0x81U), 0x00U);
    HX_U(qbv_gates_closing(0xA5U, 0x5AU), 0xA5U);
    """,
)

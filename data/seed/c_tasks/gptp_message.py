"""IEEE 802.1AS (gPTP) messages: the 34-octet common header, message types (Sync 0x0, Pdelay_Req 0x2,
Pdelay_Resp 0x3, Follow_Up 0x8, Pdelay_Resp_Follow_Up 0xA, Announce 0xB), EtherType 0x88F7 to
01-80-C2-00-00-0E, sequence numbers, log intervals, system identities."""

from common import Family

FAMILY = Family("gptp_message", area="gPTP (802.1AS) protocol engine")

HEADER = """The message buffer starts at the 34-octet PTP common header: octet 0 holds majorSdoId (high
nibble) and messageType (low nibble), octets 2-3 messageLength, 8-15 correctionField, 20-29
sourcePortIdentity (8-octet clockIdentity, 16-bit portNumber), 30-31 sequenceId, all multi-octet fields
big-endian."""

ALL_TYPES = [("GPTP_MSG_SYNC", "Sync"), ("GPTP_MSG_FOLLOW_UP", "Follow_Up"), ("GPTP_MSG_PDELAY_REQ", "Pdelay_Req"),
             ("GPTP_MSG_PDELAY_RESP", "Pdelay_Resp"),
             ("GPTP_MSG_PDELAY_RESP_FOLLOW_UP", "Pdelay_Resp_Follow_Up"), ("GPTP_MSG_ANNOUNCE", "Announce")]
ALL_FACTS = {"gptp_msg_sync": "GPTP_MSG_SYNC", "gptp_msg_follow_up": "GPTP_MSG_FOLLOW_UP",
             "gptp_msg_pdelay_req": "GPTP_MSG_PDELAY_REQ", "gptp_msg_pdelay_resp": "GPTP_MSG_PDELAY_RESP",
             "gptp_msg_pdelay_resp_follow_up": "GPTP_MSG_PDELAY_RESP_FOLLOW_UP", "gptp_msg_announce": "GPTP_MSG_ANNOUNCE"}
ALL_DEFINES_C = """\
    #define GPTP_MSG_SYNC                  0x0U
    #define GPTP_MSG_PDELAY_REQ            0x2U
    #define GPTP_MSG_PDELAY_RESP           0x3U
    #define GPTP_MSG_FOLLOW_UP             0x8U
    #define GPTP_MSG_PDELAY_RESP_FOLLOW_UP 0xAU
    #define GPTP_MSG_ANNOUNCE              0xBU"""


def defines_for(*names: str) -> list[tuple[str, str]]:
    return [(macro, f"the {label} messageType") for macro, label in ALL_TYPES if macro in names]


FAMILY.add(
    "message-type", "easy",
    ask=f"""Extract the messageType of a received gPTP message. {HEADER} Return 0xFF if the pointer is NULL
    or the buffer is shorter than the common header.""",
    signature="uint8_t gptp_message_type(const uint8_t *msg, size_t len)",
    reference=r"""
    #include <stddef.h>
    #include <stdint.h>

    #define PTP_HEADER_LEN 34U

    /**
     * @brief Read the messageType of a PTP message.
     * @param msg Message, starting at the common header.
     * @param len Length of msg in octets.
     * @return messageType (0..15), or 0xFF if msg is NULL or shorter than the header.
     */
    uint8_t gptp_message_type(const uint8_t *msg, size_t len)
    {
        uint8_t type = 0xFFU;
        if ((msg != NULL) && (len >= PTP_HEADER_LEN)) {
            type = (uint8_t)(msg[0] & 0x0FU);
        }
        return type;
    }
    """,
    harness_body=r"""
    uint8_t m[44];
    memset(m, 0, sizeof m);
    m[0] = 0x18U;
    HX_U(gptp_message_type(m, 44U), 0x8U);
    m[0] = 0x1BU;
    HX_U(gptp_message_type(m, 34U), 0xBU);
    m[0] = 0x12U;
    HX_U(gptp_message_type(m, 34U), 0x2U);
    HX_U(gptp_message_type(m, 33U), 0xFFU);
    HX_U(gptp_message_type(NULL, 44U), 0xFFU);
    """,
)

FAMILY.add(
    "is-event", "easy",
    ask="""Decide whether a gPTP messageType is an event message, i.e. one that must be timestamped by the
    PHY/MAC on transmission and reception. In gPTP these are Sync, Pdelay_Req and Pdelay_Resp; every
    other value (including Delay_Req, which gPTP does not use) is not.""",
    signature="bool gptp_is_event_message(uint8_t message_type)",
    facts={"gptp_msg_sync": "GPTP_MSG_SYNC", "gptp_msg_pdelay_req": "GPTP_MSG_PDELAY_REQ",
           "gptp_msg_pdelay_resp": "GPTP_MSG_PDELAY_RESP"},
    defines=defines_for("GPTP_MSG_SYNC", "GPTP_MSG_PDELAY_REQ", "GPTP_MSG_PDELAY_RESP"),
    reference=r"""
    #include <stdbool.h>
    #include <stdint.h>

    #define GPTP_MSG_SYNC        0x0U
    #define GPTP_MSG_PDELAY_REQ  0x2U
    #define GPTP_MSG_PDELAY_RESP 0x3U

    /**
     * @brief Tell whether a gPTP message type is a timestamped event message.
     * @param message_type messageType field (low nibble of octet 0).
     * @return true for Sync, Pdelay_Req and Pdelay_Resp.
     */
    bool gptp_is_event_message(uint8_t message_type)
    {
        bool event;
        switch (message_type) {
        case GPTP_MSG_SYNC:
        case GPTP_MSG_PDELAY_REQ:
        case GPTP_MSG_PDELAY_RESP:
            event = true;
            break;
        default:
            event = false;
            break;
        }
        return event;
    }
    """,
    harness_body=r"""
    HX_T(gptp_is_event_message(0x0U));
    HX_T(!gptp_is_event_message(0x1U));
    HX_T(gptp_is_event_message(0x2U));
    HX_T(gptp_is_event_message(0x3U));
    HX_T(!gptp_is_event_message(0x8U));
    HX_T(!gptp_is_event_message(0xAU));
    HX_T(!gptp_is_event_message(0xBU));
    HX_T(!gptp_is_event_message(0x10U));
    """,
)

FAMILY.add(
    "expected-length", "medium",
    ask="""Return the messageLength a conformant gPTP message of a given type must carry, so that the
    receiver can drop malformed frames: a two-step Sync is 44 octets, Follow_Up 76 (including its
    Follow_Up information TLV), and Pdelay_Req, Pdelay_Resp and Pdelay_Resp_Follow_Up 54 each. Announce
    has a variable length and, like any other type, gives 0.""",
    signature="uint16_t gptp_expected_length(uint8_t message_type)",
    facts={"gptp_msg_sync": "GPTP_MSG_SYNC", "gptp_msg_follow_up": "GPTP_MSG_FOLLOW_UP",
           "gptp_msg_pdelay_req": "GPTP_MSG_PDELAY_REQ", "gptp_msg_pdelay_resp": "GPTP_MSG_PDELAY_RESP",
           "gptp_msg_pdelay_resp_follow_up": "GPTP_MSG_PDELAY_RESP_FOLLOW_UP"},
    defines=defines_for("GPTP_MSG_SYNC", "GPTP_MSG_FOLLOW_UP", "GPTP_MSG_PDELAY_REQ", "GPTP_MSG_PDELAY_RESP",
                        "GPTP_MSG_PDELAY_RESP_FOLLOW_UP"),
    reference=r"""
    #include <stdint.h>

    #define GPTP_MSG_SYNC                  0x0U
    #define GPTP_MSG_PDELAY_REQ            0x2U
    #define GPTP_MSG_PDELAY_RESP           0x3U
    #define GPTP_MSG_FOLLOW_UP             0x8U
    #define GPTP_MSG_PDELAY_RESP_FOLLOW_UP 0xAU

    /**
     * @brief Expected messageLength of a fixed-size gPTP message.
     * @param message_type messageType field.
     * @return Length in octets, or 0 for variable-length or unknown types.
     */
    uint16_t gptp_expected_length(uint8_t message_type)
    {
        uint16_t length;
        switch (message_type) {
        case GPTP_MSG_SYNC:
            length = 44U;
            break;
        case GPTP_MSG_FOLLOW_UP:
            length = 76U;
            break;
        case GPTP_MSG_PDELAY_REQ:
        case GPTP_MSG_PDELAY_RESP:
        case GPTP_MSG_PDELAY_RESP_FOLLOW_UP:
            length = 54U;
            break;
        default:
            length = 0U;
            break;
        }
        return length;
    }
    """,
    harness_body=r"""
    HX_U(gptp_expected_length(0x0U), 44U);
    HX_U(gptp_expected_length(0x8U), 76U);
    HX_U(gptp_expected_length(0x2U), 54U);
    HX_U(gptp_expected_length(0x3U), 54U);
    HX_U(gptp_expected_length(0xAU), 54U);
    HX_U(gptp_expected_length(0xBU), 0U);
    HX_U(gptp_expected_length(0x1U), 0U);
    HX_U(gptp_expected_length(0xFFU), 0U);
    """,
)

FAMILY.add(
    "header-write", "hard",
    ask="""Write the 34-octet common header of an outgoing gPTP message. Octet 0: majorSdoId 0x1 in the high
    nibble, messageType in the low nibble. Octet 1: minorVersionPTP 1 (high nibble), versionPTP 2 (low
    nibble). Octets 2-3: messageLength. Octets 4 (domainNumber) and 5 (minorSdoId): 0. Octets 6-7
    flagField: only the twoStepFlag (0x02 in octet 6) for Sync and Pdelay_Resp, otherwise zero. Octets
    8-19 (correctionField, messageTypeSpecific): zero. Octets 20-27 clockIdentity, 28-29 portNumber,
    30-31 sequenceId, octet 32 controlField (0x00 for Sync, 0x02 for Follow_Up, 0x05 for every other
    type), octet 33 logMessageInterval as a two's complement octet. Multi-octet fields are big-endian.
    Return 34, or 0 without writing if a pointer is NULL, size is below 34 or the type does not fit in
    4 bits.""",
    signature="size_t gptp_header_write(uint8_t *buf, size_t size, uint8_t message_type, uint16_t message_length, "
              "uint16_t sequence_id, const uint8_t clock_identity[8], uint16_t port_number, int8_t log_interval)",
    facts={"gptp_msg_sync": "GPTP_MSG_SYNC", "gptp_msg_follow_up": "GPTP_MSG_FOLLOW_UP",
           "gptp_msg_pdelay_resp": "GPTP_MSG_PDELAY_RESP"},
    defines=defines_for("GPTP_MSG_SYNC", "GPTP_MSG_FOLLOW_UP", "GPTP_MSG_PDELAY_RESP"),
    reference=r"""
    #include <stddef.h>
    #include <stdint.h>

    #define GPTP_MSG_SYNC        0x0U
    #define GPTP_MSG_PDELAY_RESP 0x3U
    #define GPTP_MSG_FOLLOW_UP   0x8U
    #define PTP_HEADER_LEN       34U
    #define GPTP_MAJOR_SDO_ID    0x1U
    #define PTP_VERSION          0x12U /* minorVersionPTP 1, versionPTP 2 */
    #define PTP_FLAG_TWO_STEP    0x02U

    /**
     * @brief Write the PTP common header of a gPTP message.
     * @param buf Destination buffer.
     * @param size Size of buf in octets.
     * @param message_type messageType, 0..15.
     * @param message_length messageLength of the whole message.
     * @param sequence_id sequenceId.
     * @param clock_identity clockIdentity of the sending port, 8 octets.
     * @param port_number portNumber of the sending port.
     * @param log_interval logMessageInterval.
     * @return 34 on success, 0 on invalid arguments.
     */
    size_t gptp_header_write(uint8_t *buf, size_t size, uint8_t message_type, uint16_t message_length, uint16_t sequence_id, const uint8_t clock_identity[8], uint16_t port_number, int8_t log_interval)
    {
        size_t written = 0U;
        if ((buf != NULL) && (clock_identity != NULL) && (size >= PTP_HEADER_LEN) && (message_type <= 0x0FU)) {
            size_t i;
            for (i = 0U; i < PTP_HEADER_LEN; i++) {
                buf[i] = 0U;
            }
            buf[0] = (uint8_t)((GPTP_MAJOR_SDO_ID << 4U) | message_type);
            buf[1] = PTP_VERSION;
            buf[2] = (uint8_t)(message_length >> 8U);
            buf[3] = (uint8_t)(message_length & 0xFFU);
            if ((message_type == GPTP_MSG_SYNC) || (message_type == GPTP_MSG_PDELAY_RESP)) {
                buf[6] = PTP_FLAG_TWO_STEP;
            }
            for (i = 0U; i < 8U; i++) {
                buf[20U + i] = clock_identity[i];
            }
            buf[28] = (uint8_t)(port_number >> 8U);
            buf[29] = (uint8_t)(port_number & 0xFFU);
            buf[30] = (uint8_t)(sequence_id >> 8U);
            buf[31] = (uint8_t)(sequence_id & 0xFFU);
            if (message_type == GPTP_MSG_SYNC) {
                buf[32] = 0x00U;
            } else if (message_type == GPTP_MSG_FOLLOW_UP) {
                buf[32] = 0x02U;
            } else {
                buf[32] = 0x05U;
            }
            buf[33] = (uint8_t)log_interval;
            written = PTP_HEADER_LEN;
        }
        return written;
    }
    """,
    harness_body=r"""
    static const uint8_t id[8] = {0x00U, 0x1BU, 0x21U, 0xFFU, 0xFEU, 0x12U, 0x34U, 0x56U};
    static const uint8_t sync[36] = {
        0x10U, 0x12U, 0x00U, 0x2CU, 0x00U, 0x00U, 0x02U, 0x00U,
        0x00U, 0x00U, 0x00U, 0x00U, 0x00U, 0x00U, 0x00U, 0x00U,
        0x00U, 0x00U, 0x00U, 0x00U,
        0x00U, 0x1BU, 0x21U, 0xFFU, 0xFEU, 0x12U, 0x34U, 0x56U, 0x00U, 0x01U,
        0x12U, 0x34U, 0x00U, 0xFDU, 0xEEU, 0xEEU};
    static const uint8_t follow_up[36] = {
        0x18U, 0x12U, 0x00U, 0x4CU, 0x00U, 0x00U, 0x00U, 0x00U,
        0x00U, 0x00U, 0x00U, 0x00U, 0x00U, 0x00U, 0x00U, 0x00U,
        0x00U, 0x00U, 0x00U, 0x00U,
        0x00U, 0x1BU, 0x21U, 0xFFU, 0xFEU, 0x12U, 0x34U, 0x56U, 0x01U, 0x02U,
        0xFFU, 0xFFU, 0x02U, 0xFDU, 0xEEU, 0xEEU};
    uint8_t buf[36];
    memset(buf, 0xEE, sizeof buf);
    HX_U(gptp_header_write(buf, sizeof buf, 0x0U, 44U, 0x1234U, id, 1U, -3), 34U);
    HX_MEM(buf, sync, 36U);
    memset(buf, 0xEE, sizeof buf);
    HX_U(gptp_header_write(buf, 34U, 0x8U, 76U, 0xFFFFU, id, 0x0102U, -3), 34U);
    HX_MEM(buf, follow_up, 36U);
    HX_U(gptp_header_write(buf, 34U, 0x3U, 54U, 7U, id, 1U, 0), 34U);
    HX_U(buf[6], 0x02U);
    HX_U(buf[32], 0x05U);
    HX_U(buf[33], 0x00U);
    HX_U(gptp_header_write(buf, 34U, 0xBU, 76U, 7U, id, 1U, 0), 34U);
    HX_U(buf[0], 0x1BU);
    HX_U(buf[6], 0x00U);
    HX_U(gptp_header_write(buf, 33U, 0x0U, 44U, 1U, id, 1U, 0), 0U);
    HX_U(gptp_header_write(buf, 34U, 0x10U, 44U, 1U, id, 1U, 0), 0U);
    HX_U(gptp_header_write(buf, 34U, 0x0U, 44U, 1U, NULL, 1U, 0), 0U);
    HX_U(buf[0], 0x1BU);
    """,
)

FAMILY.add(
    "sequence-newer", "medium",
    ask="""Decide whether a received 16-bit sequenceId is newer than the last one accepted, allowing for
    wrap-around: the candidate is newer if it is ahead of the last value by 1 to 0x7FFF steps modulo
    2^16. Equal values and values exactly 0x8000 apart are not newer.""",
    signature="bool gptp_seq_is_newer(uint16_t candidate, uint16_t last)",
    reference=r"""
    #include <stdbool.h>
    #include <stdint.h>

    /**
     * @brief Serial-number comparison of 16-bit sequenceIds.
     * @param candidate sequenceId just received.
     * @param last Last accepted sequenceId.
     * @return true if candidate is 1..0x7FFF steps ahead of last (mod 2^16).
     */
    bool gptp_seq_is_newer(uint16_t candidate, uint16_t last)
    {
        uint16_t ahead = (uint16_t)(candidate - last);
        return (ahead != 0U) && (ahead < 0x8000U);
    }
    """,
    harness_body=r"""
    HX_T(gptp_seq_is_newer(1U, 0U));
    HX_T(!gptp_seq_is_newer(0U, 0U));
    HX_T(gptp_seq_is_newer(0U, 0xFFFFU));
    HX_T(gptp_seq_is_newer(5U, 0xFFF0U));
    HX_T(!gptp_seq_is_newer(0x8000U, 0U));
    HX_T(gptp_seq_is_newer(0x7FFFU, 0U));
    HX_T(!gptp_seq_is_newer(0U, 1U));
    HX_T(gptp_seq_is_newer(100U, 50U));
    HX_T(!gptp_seq_is_newer(50U, 100U));
    """,
)

FAMILY.add(
    "is-gptp-frame", "medium",
    ask="""Filter received Ethernet frames for the gPTP stack. A gPTP frame is untagged, is addressed to
    the gPTP peer-to-peer multicast address, carries the PTP EtherType at offset 12, and is long enough
    for the 14-octet Ethernet header plus a 34-octet PTP common header. The buffer starts at the
    destination MAC address. A NULL frame is not a gPTP frame.""",
    signature="bool gptp_is_gptp_frame(const uint8_t *frame, size_t len)",
    facts={"ethertype_gptp": "GPTP_ETHERTYPE", "gptp_dest_mac": None},
    defines=[("GPTP_ETHERTYPE", "the EtherType of PTP over Ethernet")],
    reference=r"""
    #include <stdbool.h>
    #include <stddef.h>
    #include <stdint.h>

    #define GPTP_ETHERTYPE 0x88F7U
    #define GPTP_MIN_FRAME_LEN 48U /* 14-octet Ethernet header + 34-octet PTP header */

    /**
     * @brief Tell whether a received Ethernet frame is a gPTP message.
     * @param frame Frame, starting at the destination MAC address.
     * @param len Length of the frame in octets.
     * @return true if the frame is addressed to 01-80-C2-00-00-0E with EtherType 0x88F7 and is long enough.
     */
    bool gptp_is_gptp_frame(const uint8_t *frame, size_t len)
    {
        /* 01-80-C2-00-00-0E: the IEEE 802.1AS peer-to-peer destination address */
        static const uint8_t gptp_dest_mac[6] = {0x01U, 0x80U, 0xC2U, 0x00U, 0x00U, 0x0EU};
        bool match = false;
        if ((frame != NULL) && (len >= GPTP_MIN_FRAME_LEN)) {
            uint32_t type = ((uint32_t)frame[12] << 8U) | (uint32_t)frame[13];
            size_t i;
            match = (type == GPTP_ETHERTYPE);
            for (i = 0U; i < 6U; i++) {
                if (frame[i] != gptp_dest_mac[i]) {
                    match = false;
                }
            }
        }
        return match;
    }
    """,
    harness_body=r"""
    uint8_t f[60];
    memset(f, 0, sizeof f);
    f[0] = 0x01U; f[1] = 0x80U; f[2] = 0xC2U; f[3] = 0x00U; f[4] = 0x00U; f[5] = 0x0EU;
    f[6] = 0x00U; f[7] = 0x1BU; f[8] = 0x21U; f[9] = 0x01U; f[10] = 0x02U; f[11] = 0x03U;
    f[12] = 0x88U; f[13] = 0xF7U; f[14] = 0x10U;
    HX_T(gptp_is_gptp_frame(f, 60U));
    HX_T(gptp_is_gptp_frame(f, 48U));
    HX_T(!gptp_is_gptp_frame(f, 47U));
    f[5] = 0x0DU;
    HX_T(!gptp_is_gptp_frame(f, 60U));
    f[5] = 0x0EU; f[0] = 0x00U;
    HX_T(!gptp_is_gptp_frame(f, 60U));
    f[0] = 0x01U; f[13] = 0xF8U;
    HX_T(!gptp_is_gptp_frame(f, 60U));
    f[12] = 0x81U; f[13] = 0x00U;
    HX_T(!gptp_is_gptp_frame(f, 60U));
    HX_T(!gptp_is_gptp_frame(NULL, 60U));
    """,
)

FAMILY.add(
    "log-interval", "medium",
    ask="""Convert a gPTP logMessageInterval (the base-2 logarithm of the interval in seconds, e.g. -3 for
    the default 125 ms Sync interval) into nanoseconds for the port timers. For negative values divide
    one second by 2^-log and truncate. Values outside -30..30 are not supported: return 0 for them.""",
    signature="uint64_t gptp_log_interval_ns(int8_t log_interval)",
    facts={"ptp_ns_per_second": "NSEC_PER_SECOND"},
    defines=[("NSEC_PER_SECOND", "nanoseconds per second")],
    reference=r"""
    #include <stdint.h>

    #define NSEC_PER_SECOND 1000000000ULL
    #define LOG_INTERVAL_MIN (-30)
    #define LOG_INTERVAL_MAX 30

    /**
     * @brief Interval in nanoseconds of a logMessageInterval.
     * @param log_interval log2 of the interval in seconds, -30..30.
     * @return 2^log_interval seconds in ns (truncated), or 0 when out of range.
     */
    uint64_t gptp_log_interval_ns(int8_t log_interval)
    {
        uint64_t ns = 0U;
        if ((log_interval >= LOG_INTERVAL_MIN) && (log_interval <= LOG_INTERVAL_MAX)) {
            if (log_interval >= 0) {
                ns = NSEC_PER_SECOND << (uint32_t)log_interval;
            } else {
                ns = NSEC_PER_SECOND >> (uint32_t)(-(int32_t)log_interval);
            }
        }
        return ns;
    }
    """,
    harness_body=r"""
    HX_U(gptp_log_interval_ns(0), 1000000000ULL);
    HX_U(gptp_log_interval_ns(-3), 125000000ULL);
    HX_U(gptp_log_interval_ns(-7), 7812500ULL);
    HX_U(gptp_log_interval_ns(1), 2000000000ULL);
    HX_U(gptp_log_interval_ns(3), 8000000000ULL);
    HX_U(gptp_log_interval_ns(30), 1073741824000000000ULL);
    HX_U(gptp_log_interval_ns(-29), 1U);
    HX_U(gptp_log_interval_ns(-30), 0U);
    HX_U(gptp_log_interval_ns(31), 0U);
    HX_U(gptp_log_interval_ns(127), 0U);
    HX_U(gptp_log_interval_ns(-128), 0U);
    """,
)

FAMILY.add(
    "system-identity", "medium",
    ask="""Build the 14-octet systemIdentity that the best master selection compares as one unsigned
    number: priority1, clockClass, clockAccuracy, offsetScaledLogVariance (16 bits, big-endian),
    priority2 and the 8-octet clockIdentity, concatenated in that order.""",
    signature="void gptp_system_identity(uint8_t out[14], uint8_t priority1, uint8_t clock_class, uint8_t clock_accuracy, "
              "uint16_t offset_scaled_log_variance, uint8_t priority2, const uint8_t clock_identity[8])",
    reference=r"""
    #include <stdint.h>

    /**
     * @brief Concatenate the fields of a gPTP systemIdentity.
     * @param out Destination, 14 octets.
     * @param priority1 priority1 of the time-aware system.
     * @param clock_class clockQuality.clockClass.
     * @param clock_accuracy clockQuality.clockAccuracy.
     * @param offset_scaled_log_variance clockQuality.offsetScaledLogVariance.
     * @param priority2 priority2 of the time-aware system.
     * @param clock_identity clockIdentity, 8 octets.
     */
    void gptp_system_identity(uint8_t out[14], uint8_t priority1, uint8_t clock_class, uint8_t clock_accuracy, uint16_t offset_scaled_log_variance, uint8_t priority2, const uint8_t clock_identity[8])
    {
        uint32_t i;
        out[0] = priority1;
        out[1] = clock_class;
        out[2] = clock_accuracy;
        out[3] = (uint8_t)(offset_scaled_log_variance >> 8U);
        out[4] = (uint8_t)(offset_scaled_log_variance & 0xFFU);
        out[5] = priority2;
        for (i = 0U; i < 8U; i++) {
            out[6U + i] = clock_identity[i];
        }
    }
    """,
    harness_body=r"""
    static const uint8_t id[8] = {0x00U, 0x1BU, 0x21U, 0xFFU, 0xFEU, 0x12U, 0x34U, 0x56U};
    static const uint8_t want_a[15] = {246U, 248U, 0xFEU, 0x43U, 0x6AU, 248U,
                                       0x00U, 0x1BU, 0x21U, 0xFFU, 0xFEU, 0x12U, 0x34U, 0x56U, 0xEEU};
    static const uint8_t want_b[15] = {0U, 6U, 0x21U, 0xFFU, 0x00U, 1U,
                                       0x00U, 0x1BU, 0x21U, 0xFFU, 0xFEU, 0x12U, 0x34U, 0x56U, 0xEEU};
    uint8_t out[15];
    memset(out, 0xEE, sizeof out);
    gptp_system_identity(out, 246U, 248U, 0xFEU, 0x436AU, 248U, id);
    HX_MEM(out, want_a, 15U);
    gptp_system_identity(out, 0U, 6U, 0x21U, 0xFF00U, 1U, id);
    HX_MEM(out, want_b, 15U);
    """,
)

FAMILY.add(
    "system-identity-better", "medium",
    ask="""In the best master clock selection, compare two 14-octet systemIdentity values (priority1,
    clockClass, clockAccuracy, offsetScaledLogVariance, priority2, clockIdentity) as unsigned big-endian
    numbers: the smaller one is better. Return true only if a is strictly better than b.""",
    signature="bool gptp_system_identity_better(const uint8_t a[14], const uint8_t b[14])",
    reference=r"""
    #include <stdbool.h>
    #include <stdint.h>

    #define SYSTEM_IDENTITY_LEN 14U

    /**
     * @brief Compare two gPTP systemIdentity values.
     * @param a First systemIdentity, 14 octets.
     * @param b Second systemIdentity, 14 octets.
     * @return true if a is numerically smaller (better) than b.
     */
    bool gptp_system_identity_better(const uint8_t a[14], const uint8_t b[14])
    {
        bool better = false;
        bool decided = false;
        uint32_t i;
        for (i = 0U; (i < SYSTEM_IDENTITY_LEN) && !decided; i++) {
            if (a[i] != b[i]) {
                better = (a[i] < b[i]);
                decided = true;
            }
        }
        return better;
    }
    """,
    harness_body=r"""
    uint8_t a[14];
    uint8_t b[14];
    memset(a, 0x10, sizeof a);
    memset(b, 0x10, sizeof b);
    HX_T(!gptp_system_identity_better(a, b));
    a[13] = 0x0FU;
    HX_T(gptp_system_identity_better(a, b));
    HX_T(!gptp_system_identity_better(b, a));
    a[13] = 0x10U; b[0] = 0x11U; a[1] = 0xFFU;
    HX_T(gptp_system_identity_better(a, b));
    b[0] = 0x10U; a[1] = 0x10U; a[5] = 0x80U; b[6] = 0x00U;
    HX_T(!gptp_system_identity_better(a, b));
    HX_T(gptp_system_identity_better(b, a));
    """,
)

FAMILY.add(
    "read-correction", "easy",
    ask=f"""Read the correctionField of a received gPTP message as a signed 64-bit value (it is a two's
    complement count of 2^-16 ns). {HEADER} The conversion from the unsigned octets to int64_t must not
    rely on implementation-defined behaviour.""",
    signature="int64_t gptp_read_correction(const uint8_t *msg)",
    reference=r"""
    #include <stdint.h>

    #define PTP_CORRECTION_OFFSET 8U

    /**
     * @brief Read the correctionField of a PTP message.
     * @param msg Message, starting at the common header (at least 16 octets).
     * @return The correctionField as a signed value (ns * 2^16).
     */
    int64_t gptp_read_correction(const uint8_t *msg)
    {
        uint64_t raw = 0U;
        int64_t value;
        uint32_t i;
        for (i = 0U; i < 8U; i++) {
            raw = (raw << 8U) | (uint64_t)msg[PTP_CORRECTION_OFFSET + i];
        }
        if (raw <= (uint64_t)INT64_MAX) {
            value = (int64_t)raw;
        } else {
            /* two's complement: raw - 2^64, computed without overflow */
            uint64_t complement = ~raw; /* 2^64 - 1 - raw, below 2^63 here */
            value = -(int64_t)complement - 1;
        }
        return value;
    }
    """,
    harness_body=r"""
    uint8_t m[34];
    memset(m, 0, sizeof m);
    m[13] = 0x01U; m[14] = 0x00U; m[15] = 0x00U;
    HX_I(gptp_read_correction(m), 65536);
    memset(&m[8], 0xFF, 8U);
    HX_I(gptp_read_correction(m), -1);
    m[14] = 0x00U; m[15] = 0x00U;
    HX_I(gptp_read_correction(m), -65536);
    m[8] = 0x80U; memset(&m[9], 0, 7U);
    HX_I(gptp_read_correction(m), INT64_MIN);
    m[8] = 0x7FU; memset(&m[9], 0xFF, 7U);
    HX_I(gptp_read_correction(m), INT64_MAX);
    m[8] = 0x00U; m[9] = 0x00U; m[10] = 0x00U; m[11] = 0x01U; m[12] = 0x23U; m[13] = 0x45U; m[14] = 0x67U; m[15] = 0x89U;
    HX_I(gptp_read_correction(m), 0x123456789LL);
    """,
)

FAMILY.add(
    "follow-up-origin", "medium",
    ask=f"""Extract the preciseOriginTimestamp from a received Follow_Up message: it follows the common
    header at octet 34 as a 48-bit secondsField and a 32-bit nanosecondsField (big-endian). {HEADER}
    Return false without writing the outputs if a pointer is NULL, the message is not a Follow_Up,
    it is shorter than 44 octets or the nanoseconds are not below one second.""",
    signature="bool gptp_follow_up_origin(const uint8_t *msg, size_t len, uint64_t *seconds, uint32_t *nanoseconds)",
    facts={"gptp_msg_follow_up": "GPTP_MSG_FOLLOW_UP", "ptp_ns_per_second": None},
    defines=defines_for("GPTP_MSG_FOLLOW_UP"),
    reference=r"""
    #include <stdbool.h>
    #include <stddef.h>
    #include <stdint.h>

    #define GPTP_MSG_FOLLOW_UP 0x8U
    #define PTP_HEADER_LEN 34U
    #define PTP_TIMESTAMP_LEN 10U
    #define NS_PER_SECOND 1000000000U

    /**
     * @brief Read the preciseOriginTimestamp of a Follow_Up message.
     * @param msg Message, starting at the common header.
     * @param len Length of msg in octets.
     * @param seconds Receives the seconds of the origin timestamp.
     * @param nanoseconds Receives the nanoseconds of the origin timestamp.
     * @return true on success, false if the message is not a valid Follow_Up.
     */
    bool gptp_follow_up_origin(const uint8_t *msg, size_t len, uint64_t *seconds, uint32_t *nanoseconds)
    {
        bool ok = false;
        if ((msg != NULL) && (seconds != NULL) && (nanoseconds != NULL) &&
            (len >= (PTP_HEADER_LEN + PTP_TIMESTAMP_LEN)) && ((msg[0] & 0x0FU) == GPTP_MSG_FOLLOW_UP)) {
            uint64_t sec = 0U;
            uint32_t ns = 0U;
            uint32_t i;
            for (i = 0U; i < 6U; i++) {
                sec = (sec << 8U) | (uint64_t)msg[PTP_HEADER_LEN + i];
            }
            for (i = 6U; i < 10U; i++) {
                ns = (ns << 8U) | (uint32_t)msg[PTP_HEADER_LEN + i];
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
    uint8_t m[76];
    uint64_t s = 9U;
    uint32_t ns = 9U;
    memset(m, 0, sizeof m);
    m[0] = 0x18U;
    m[36] = 0x65U; m[37] = 0x53U; m[38] = 0xF1U; m[39] = 0x00U;
    m[40] = 0x07U; m[41] = 0x5BU; m[42] = 0xCDU; m[43] = 0x15U;
    HX_T(gptp_follow_up_origin(m, 76U, &s, &ns));
    HX_U(s, 1700000000ULL);
    HX_U(ns, 123456789U);
    m[34] = 0x01U;
    HX_T(gptp_follow_up_origin(m, 44U, &s, &ns));
    HX_U(s, 0x010000000000ULL + 1700000000ULL);
    HX_T(!gptp_follow_up_origin(m, 43U, &s, &ns));
    m[0] = 0x10U;
    HX_T(!gptp_follow_up_origin(m, 76U, &s, &ns));
    m[0] = 0x18U; m[40] = 0x3BU; m[41] = 0x9AU; m[42] = 0xCAU; m[43] = 0x00U;
    HX_T(!gptp_follow_up_origin(m, 76U, &s, &ns));
    HX_U(ns, 123456789U);
    HX_T(!gptp_follow_up_origin(m, 76U, NULL, &ns));
    """,
)

FAMILY.add(
    "dispatch", "hard",
    ask="""Write the receive dispatcher of the gPTP stack. It checks the common header (at least 34 octets,
    majorSdoId 0x1 in the high nibble of octet 0), selects the handler slot from the messageType in the
    low nibble - Sync 0, Follow_Up 1, Pdelay_Req 2, Pdelay_Resp 3, Pdelay_Resp_Follow_Up 4,
    Announce 5 - increments counters[slot] and returns the slot. Anything else (NULL pointers, short
    buffer, wrong majorSdoId, other message types) returns 0xFF and counts nothing. Use a switch on the
    message type.""",
    signature="uint8_t gptp_dispatch(const uint8_t *msg, size_t len, uint32_t counters[6])",
    facts=dict(ALL_FACTS),
    defines=defines_for(*ALL_FACTS.values()),
    reference=rf"""
    #include <stddef.h>
    #include <stdint.h>

{ALL_DEFINES_C}
    #define PTP_HEADER_LEN    34U
    #define GPTP_MAJOR_SDO_ID 0x1U
    #define GPTP_SLOT_NONE    0xFFU

    /**
     * @brief Count a received gPTP message in its handler slot.
     * @param msg Message, starting at the common header.
     * @param len Length of msg in octets.
     * @param counters Per-slot receive counters, 6 entries.
     * @return The slot (0..5) of the message, or 0xFF if it is not a handled gPTP message.
     */
    uint8_t gptp_dispatch(const uint8_t *msg, size_t len, uint32_t counters[6])
    {{
        uint8_t slot = GPTP_SLOT_NONE;
        if ((msg != NULL) && (counters != NULL) && (len >= PTP_HEADER_LEN) &&
            (((uint32_t)msg[0] >> 4U) == GPTP_MAJOR_SDO_ID)) {{
            switch ((uint32_t)msg[0] & 0x0FU) {{
            case GPTP_MSG_SYNC:
                slot = 0U;
                break;
            case GPTP_MSG_FOLLOW_UP:
                slot = 1U;
                break;
            case GPTP_MSG_PDELAY_REQ:
                slot = 2U;
                break;
            case GPTP_MSG_PDELAY_RESP:
                slot = 3U;
                break;
            case GPTP_MSG_PDELAY_RESP_FOLLOW_UP:
                slot = 4U;
                break;
            case GPTP_MSG_ANNOUNCE:
                slot = 5U;
                break;
            default:
                slot = GPTP_SLOT_NONE;
                break;
            }}
            if (slot != GPTP_SLOT_NONE) {{
                counters[slot]++;
            }}
        }}
        return slot;
    }}
    """,
    harness_body=r"""
    static const uint32_t want[6] = {1U, 1U, 2U, 1U, 1U, 1U};
    uint32_t counters[6] = {0U, 0U, 0U, 0U, 0U, 0U};
    uint8_t m[54];
    memset(m, 0, sizeof m);
    m[0] = 0x10U; HX_U(gptp_dispatch(m, 44U, counters), 0U);
    m[0] = 0x18U; HX_U(gptp_dispatch(m, 54U, counters), 1U);
    m[0] = 0x12U; HX_U(gptp_dispatch(m, 54U, counters), 2U);
    m[0] = 0x12U; HX_U(gptp_dispatch(m, 34U, counters), 2U);
    m[0] = 0x13U; HX_U(gptp_dispatch(m, 54U, counters), 3U);
    m[0] = 0x1AU; HX_U(gptp_dispatch(m, 54U, counters), 4U);
    m[0] = 0x1BU; HX_U(gptp_dispatch(m, 54U, counters), 5U);
    m[0] = 0x1BU; HX_U(gptp_dispatch(m, 33U, counters), 0xFFU);
    m[0] = 0x00U; HX_U(gptp_dispatch(m, 54U, counters), 0xFFU);
    m[0] = 0x11U; HX_U(gptp_dispatch(m, 54U, counters), 0xFFU);
    m[0] = 0x1CU; HX_U(gptp_dispatch(m, 54U, counters), 0xFFU);
    HX_U(gptp_dispatch(NULL, 54U, counters), 0xFFU);
    HX_MEM(counters, want, sizeof counters);
    """,
)

FAMILY.add(
    "source-port-identity", "easy",
    ask=f"""Copy the sourcePortIdentity out of a received gPTP message for the peer-delay state machine.
    {HEADER} Return false if any pointer is NULL or the buffer is shorter than the header; otherwise
    copy the 8-octet clockIdentity, store the portNumber and return true.""",
    signature="bool gptp_source_port_identity(const uint8_t *msg, size_t len, uint8_t clock_identity[8], uint16_t *port_number)",
    reference=r"""
    #include <stdbool.h>
    #include <stddef.h>
    #include <stdint.h>

    #define PTP_HEADER_LEN 34U
    #define PTP_SOURCE_PORT_OFFSET 20U

    /**
     * @brief Read the sourcePortIdentity of a PTP message.
     * @param msg Message, starting at the common header.
     * @param len Length of msg in octets.
     * @param clock_identity Receives the clockIdentity, 8 octets.
     * @param port_number Receives the portNumber.
     * @return true on success, false for NULL pointers or a short buffer.
     */
    bool gptp_source_port_identity(const uint8_t *msg, size_t len, uint8_t clock_identity[8], uint16_t *port_number)
    {
        bool ok = false;
        if ((msg != NULL) && (clock_identity != NULL) && (port_number != NULL) && (len >= PTP_HEADER_LEN)) {
            uint32_t i;
            for (i = 0U; i < 8U; i++) {
                clock_identity[i] = msg[PTP_SOURCE_PORT_OFFSET + i];
            }
            *port_number = (uint16_t)(((uint32_t)msg[28] << 8U) | (uint32_t)msg[29]);
            ok = true;
        }
        return ok;
    }
    """,
    harness_body=r"""
    static const uint8_t want[8] = {0x00U, 0x1BU, 0x21U, 0xFFU, 0xFEU, 0x12U, 0x34U, 0x56U};
    uint8_t m[34];
    uint8_t id[8];
    uint16_t port = 0U;
    size_t i;
    memset(m, 0, sizeof m);
    memset(id, 0xEE, sizeof id);
    for (i = 0U; i < 8U; i++) {
        m[20U + i] = want[i];
    }
    m[28] = 0x80U; m[29] = 0x01U;
    HX_T(gptp_source_port_identity(m, 34U, id, &port));
    HX_MEM(id, want, 8U);
    HX_U(port, 0x8001U);
    HX_T(!gptp_source_port_identity(m, 33U, id, &port));
    HX_T(!gptp_source_port_identity(m, 34U, NULL, &port));
    """,
)

"""IEEE 802.1Q Stream Reservation Protocol: SR class A (PCP 3, 125 us) and B (PCP 2, 250 us), stream
bandwidth, StreamIDs (EUI-48 + 16-bit unique ID), MSRP EtherType 0x22EA, MRP packed event encodings."""

from common import Family

FAMILY = Family("srp_class", area="stream reservation (SRP/MSRP) code of the AVB endpoint")

CLASS_IDS = "SR class IDs are 6 for class A and 5 for class B (define SR_CLASS_ID_A and SR_CLASS_ID_B)."
CLASS_ID_DEFINES_C = """\
    #define SR_CLASS_ID_A 6U
    #define SR_CLASS_ID_B 5U"""

FAMILY.add(
    "class-pcp", "easy",
    ask=f"""Return the default priority (PCP) that frames of an SR class are transmitted with. {CLASS_IDS}
    Any other class ID gives 0xFF. Use a switch.""",
    signature="uint8_t srp_class_pcp(uint8_t sr_class_id)",
    facts={"srp_class_a_pcp": "SRP_CLASS_A_PCP", "srp_class_b_pcp": "SRP_CLASS_B_PCP"},
    defines=[("SRP_CLASS_A_PCP", "the default priority of SR class A"),
             ("SRP_CLASS_B_PCP", "the default priority of SR class B")],
    reference=rf"""
    #include <stdint.h>

{CLASS_ID_DEFINES_C}
    #define SRP_CLASS_A_PCP 3U
    #define SRP_CLASS_B_PCP 2U

    /**
     * @brief Default PCP of an SR class.
     * @param sr_class_id SR class ID (6 = class A, 5 = class B).
     * @return The PCP of the class, or 0xFF for an unknown class.
     */
    uint8_t srp_class_pcp(uint8_t sr_class_id)
    {{
        uint8_t pcp;
        switch (sr_class_id) {{
        case SR_CLASS_ID_A:
            pcp = SRP_CLASS_A_PCP;
            break;
        case SR_CLASS_ID_B:
            pcp = SRP_CLASS_B_PCP;
            break;
        default:
            pcp = 0xFFU;
            break;
        }}
        return pcp;
    }}
    """,
    harness_body=r"""
    HX_U(srp_class_pcp(6U), 3U);
    HX_U(srp_class_pcp(5U), 2U);
    HX_U(srp_class_pcp(0U), 0xFFU);
    HX_U(srp_class_pcp(7U), 0xFFU);
    """,
)

FAMILY.add(
    "class-interval", "easy",
    ask=f"""Return the class measurement interval, in microseconds, of an SR class, as used for bandwidth
    calculations. {CLASS_IDS} Unknown classes give 0.""",
    signature="uint32_t srp_class_interval_us(uint8_t sr_class_id)",
    facts={"srp_class_a_interval_us": "SRP_CLASS_A_INTERVAL_US", "srp_class_b_interval_us": "SRP_CLASS_B_INTERVAL_US"},
    defines=[("SRP_CLASS_A_INTERVAL_US", "the class A measurement interval in us"),
             ("SRP_CLASS_B_INTERVAL_US", "the class B measurement interval in us")],
    reference=rf"""
    #include <stdint.h>

{CLASS_ID_DEFINES_C}
    #define SRP_CLASS_A_INTERVAL_US 125U
    #define SRP_CLASS_B_INTERVAL_US 250U

    /**
     * @brief Class measurement interval of an SR class.
     * @param sr_class_id SR class ID (6 = class A, 5 = class B).
     * @return The interval in microseconds, or 0 for an unknown class.
     */
    uint32_t srp_class_interval_us(uint8_t sr_class_id)
    {{
        uint32_t interval;
        switch (sr_class_id) {{
        case SR_CLASS_ID_A:
            interval = SRP_CLASS_A_INTERVAL_US;
            break;
        case SR_CLASS_ID_B:
            interval = SRP_CLASS_B_INTERVAL_US;
            break;
        default:
            interval = 0U;
            break;
        }}
        return interval;
    }}
    """,
    harness_body=r"""
    HX_U(srp_class_interval_us(6U), 125U);
    HX_U(srp_class_interval_us(5U), 250U);
    HX_U(srp_class_interval_us(4U), 0U);
    HX_U(srp_class_interval_us(0xFFU), 0U);
    """,
)

FAMILY.add(
    "is-sr-pcp", "easy",
    ask="""The ingress classifier of a boundary port must recognise frames that carry the default priority
    of SR class A or SR class B. Return true for those two PCP values and false for every other.""",
    signature="bool srp_pcp_is_sr_class(uint8_t pcp)",
    facts={"srp_class_a_pcp": "SR_PCP_CLASS_A", "srp_class_b_pcp": "SR_PCP_CLASS_B"},
    defines=[("SR_PCP_CLASS_A", "the class A priority"), ("SR_PCP_CLASS_B", "the class B priority")],
    reference=r"""
    #include <stdbool.h>
    #include <stdint.h>

    #define SR_PCP_CLASS_A 3U
    #define SR_PCP_CLASS_B 2U

    /**
     * @brief Tell whether a PCP is the priority of an SR class.
     * @param pcp Priority code point, 0..7.
     * @return true for the class A or class B priority.
     */
    bool srp_pcp_is_sr_class(uint8_t pcp)
    {
        return (pcp == SR_PCP_CLASS_A) || (pcp == SR_PCP_CLASS_B);
    }
    """,
    harness_body=r"""
    HX_T(srp_pcp_is_sr_class(3U));
    HX_T(srp_pcp_is_sr_class(2U));
    HX_T(!srp_pcp_is_sr_class(0U));
    HX_T(!srp_pcp_is_sr_class(1U));
    HX_T(!srp_pcp_is_sr_class(4U));
    HX_T(!srp_pcp_is_sr_class(7U));
    HX_T(!srp_pcp_is_sr_class(11U));
    """,
)


def _bandwidth(size, frames, class_id):
    per_second = {6: 8000, 5: 4000}.get(class_id, 0)
    return (size + 42) * 8 * frames * per_second


BANDWIDTH = [(224, 1, 6), (224, 1, 5), (1500, 2, 6), (64, 0, 6), (100, 1, 1), (1522, 65535, 6)]

FAMILY.add(
    "stream-bandwidth", "medium",
    ask=f"""Compute the bandwidth an MSRP talker advertisement reserves: (MaxFrameSize + the 42-octet
    per-frame overhead of 802.3 - preamble, SFD, MAC header with VLAN tag, FCS and inter-frame gap) x 8
    bits x MaxIntervalFrames per class measurement interval, in bit/s (exact: 8000 intervals per second
    for class A, 4000 for class B). {CLASS_IDS} An unknown class gives 0.""",
    signature="uint64_t srp_stream_bandwidth_bps(uint16_t max_frame_size, uint16_t max_interval_frames, uint8_t sr_class_id)",
    facts={"srp_class_a_interval_us": None, "srp_class_b_interval_us": None},
    reference=rf"""
    #include <stdint.h>

{CLASS_ID_DEFINES_C}
    #define SRP_PER_FRAME_OVERHEAD 42U /* 802.3: preamble+SFD 8, header+tag 18, FCS 4, IFG 12 */
    #define SRP_CLASS_A_INTERVAL_US 125U
    #define SRP_CLASS_B_INTERVAL_US 250U
    #define US_PER_SECOND 1000000U

    /**
     * @brief Bandwidth reserved by a stream.
     * @param max_frame_size MaxFrameSize of the TSpec in octets.
     * @param max_interval_frames MaxIntervalFrames of the TSpec.
     * @param sr_class_id SR class ID (6 = class A, 5 = class B).
     * @return Reserved bandwidth in bit/s, or 0 for an unknown class.
     */
    uint64_t srp_stream_bandwidth_bps(uint16_t max_frame_size, uint16_t max_interval_frames, uint8_t sr_class_id)
    {{
        uint32_t interval_us = 0U;
        uint64_t bandwidth = 0U;
        if (sr_class_id == SR_CLASS_ID_A) {{
            interval_us = SRP_CLASS_A_INTERVAL_US;
        }} else if (sr_class_id == SR_CLASS_ID_B) {{
            interval_us = SRP_CLASS_B_INTERVAL_US;
        }} else {{
            interval_us = 0U;
        }}
        if (interval_us > 0U) {{
            uint64_t bits = ((uint64_t)max_frame_size + SRP_PER_FRAME_OVERHEAD) * 8U * (uint64_t)max_interval_frames;
            uint32_t intervals_per_second = US_PER_SECOND / interval_us;
            bandwidth = bits * (uint64_t)intervals_per_second;
        }}
        return bandwidth;
    }}
    """,
    harness_body="\n".join(
        f"HX_U(srp_stream_bandwidth_bps({s}U, {f}U, {c}U), {_bandwidth(s, f, c)}ULL);" for s, f, c in BANDWIDTH),
)

FAMILY.add(
    "stream-id-make", "easy",
    ask="""Form the 64-bit StreamID of a talker stream: the talker's 48-bit MAC address (first octet most
    significant) followed by a 16-bit unique ID that distinguishes the talker's streams.""",
    signature="uint64_t srp_stream_id(const uint8_t mac[6], uint16_t unique_id)",
    reference=r"""
    #include <stdint.h>

    /**
     * @brief Build a StreamID from a MAC address and a unique ID.
     * @param mac Talker MAC address, 6 octets.
     * @param unique_id Unique ID of the stream at this talker.
     * @return (MAC << 16) | unique_id.
     */
    uint64_t srp_stream_id(const uint8_t mac[6], uint16_t unique_id)
    {
        uint64_t id = 0U;
        uint32_t i;
        for (i = 0U; i < 6U; i++) {
            id = (id << 8U) | (uint64_t)mac[i];
        }
        return (id << 16U) | (uint64_t)unique_id;
    }
    """,
    harness_body=r"""
    static const uint8_t mac[6] = {0x00U, 0x1BU, 0x21U, 0x0AU, 0x0BU, 0x0CU};
    static const uint8_t ones[6] = {0xFFU, 0xFFU, 0xFFU, 0xFFU, 0xFFU, 0xFEU};
    HX_U(srp_stream_id(mac, 1U), 0x001B210A0B0C0001ULL);
    HX_U(srp_stream_id(mac, 0xABCDU), 0x001B210A0B0CABCDULL);
    HX_U(srp_stream_id(ones, 0U), 0xFFFFFFFFFFFE0000ULL);
    """,
)

FAMILY.add(
    "stream-id-split", "easy",
    ask="""Split a 64-bit StreamID from an MSRP declaration into the talker's MAC address (the upper 48
    bits, most significant octet first) and the 16-bit unique ID (the lower 16 bits). Skip any output
    that is NULL.""",
    signature="void srp_stream_id_split(uint64_t stream_id, uint8_t mac[6], uint16_t *unique_id)",
    reference=r"""
    #include <stddef.h>
    #include <stdint.h>

    /**
     * @brief Split a StreamID into MAC address and unique ID.
     * @param stream_id The StreamID.
     * @param mac Receives the talker MAC address (6 octets); may be NULL.
     * @param unique_id Receives the unique ID; may be NULL.
     */
    void srp_stream_id_split(uint64_t stream_id, uint8_t mac[6], uint16_t *unique_id)
    {
        if (mac != NULL) {
            uint32_t i;
            for (i = 0U; i < 6U; i++) {
                uint32_t shift = 56U - (8U * i);
                mac[i] = (uint8_t)(stream_id >> shift);
            }
        }
        if (unique_id != NULL) {
            *unique_id = (uint16_t)(stream_id & 0xFFFFU);
        }
    }
    """,
    harness_body=r"""
    static const uint8_t want[7] = {0x00U, 0x1BU, 0x21U, 0x0AU, 0x0BU, 0x0CU, 0xEEU};
    uint8_t mac[7];
    uint16_t uid = 0U;
    memset(mac, 0xEE, sizeof mac);
    srp_stream_id_split(0x001B210A0B0CABCDULL, mac, &uid);
    HX_MEM(mac, want, 7U);
    HX_U(uid, 0xABCDU);
    srp_stream_id_split(0x1122334455660007ULL, NULL, &uid);
    HX_U(uid, 7U);
    srp_stream_id_split(0x1122334455660007ULL, mac, NULL);
    HX_U(mac[0], 0x11U);
    HX_U(mac[5], 0x66U);
    """,
)

FAMILY.add(
    "is-msrp-frame", "easy",
    ask="""Recognise MSRP PDUs among received frames (untagged, buffer starting at the destination MAC):
    the EtherType at offset 12 must be the MSRP EtherType and the ProtocolVersion octet right after it
    must be 0x00. The frame must be long enough to contain that octet. NULL is not an MSRP frame.""",
    signature="bool msrp_is_msrp_frame(const uint8_t *frame, size_t len)",
    facts={"ethertype_msrp": "MSRP_ETHERTYPE"},
    defines=[("MSRP_ETHERTYPE", "the EtherType of MSRP")],
    reference=r"""
    #include <stdbool.h>
    #include <stddef.h>
    #include <stdint.h>

    #define MSRP_ETHERTYPE 0x22EAU
    #define MSRP_PROTOCOL_VERSION 0x00U

    /**
     * @brief Tell whether a frame carries an MSRP PDU.
     * @param frame Frame, starting at the destination MAC address.
     * @param len Length of the frame in octets.
     * @return true for EtherType 0x22EA followed by ProtocolVersion 0.
     */
    bool msrp_is_msrp_frame(const uint8_t *frame, size_t len)
    {
        bool msrp = false;
        if ((frame != NULL) && (len >= 15U)) {
            uint32_t type = ((uint32_t)frame[12] << 8U) | (uint32_t)frame[13];
            msrp = (type == MSRP_ETHERTYPE) && (frame[14] == MSRP_PROTOCOL_VERSION);
        }
        return msrp;
    }
    """,
    harness_body=r"""
    uint8_t f[64];
    memset(f, 0, sizeof f);
    f[0] = 0x01U; f[1] = 0x80U; f[2] = 0xC2U; f[5] = 0x0EU;
    f[12] = 0x22U; f[13] = 0xEAU; f[14] = 0x00U;
    HX_T(msrp_is_msrp_frame(f, 64U));
    HX_T(msrp_is_msrp_frame(f, 15U));
    HX_T(!msrp_is_msrp_frame(f, 14U));
    f[14] = 0x01U;
    HX_T(!msrp_is_msrp_frame(f, 64U));
    f[14] = 0x00U; f[13] = 0xF0U;
    HX_T(!msrp_is_msrp_frame(f, 64U));
    HX_T(!msrp_is_msrp_frame(NULL, 64U));
    """,
)

FAMILY.add(
    "three-packed-encode", "medium",
    ask="""MRP packs three attribute events (each 0..5: New, JoinIn, In, JoinMt, Mt, Lv) into one
    ThreePackedEvents octet as ((e1 x 6) + e2) x 6 + e3. Implement the encoder for the MSRP
    transmitter; any event above 5 is invalid and gives 0xFF.""",
    signature="uint8_t mrp_three_packed_encode(uint8_t e1, uint8_t e2, uint8_t e3)",
    reference=r"""
    #include <stdint.h>

    #define MRP_EVENT_MAX 5U
    #define MRP_INVALID_PACKED 0xFFU

    /**
     * @brief Pack three MRP attribute events into a ThreePackedEvents octet.
     * @param e1 First attribute event, 0..5.
     * @param e2 Second attribute event, 0..5.
     * @param e3 Third attribute event, 0..5.
     * @return ((e1 * 6) + e2) * 6 + e3, or 0xFF if an event is out of range.
     */
    uint8_t mrp_three_packed_encode(uint8_t e1, uint8_t e2, uint8_t e3)
    {
        uint8_t packed = MRP_INVALID_PACKED;
        if ((e1 <= MRP_EVENT_MAX) && (e2 <= MRP_EVENT_MAX) && (e3 <= MRP_EVENT_MAX)) {
            packed = (uint8_t)(((((uint32_t)e1 * 6U) + (uint32_t)e2) * 6U) + (uint32_t)e3);
        }
        return packed;
    }
    """,
    harness_body=r"""
    HX_U(mrp_three_packed_encode(0U, 0U, 0U), 0U);
    HX_U(mrp_three_packed_encode(1U, 2U, 3U), 51U);
    HX_U(mrp_three_packed_encode(5U, 5U, 5U), 215U);
    HX_U(mrp_three_packed_encode(0U, 0U, 5U), 5U);
    HX_U(mrp_three_packed_encode(0U, 1U, 0U), 6U);
    HX_U(mrp_three_packed_encode(1U, 0U, 0U), 36U);
    HX_U(mrp_three_packed_encode(6U, 0U, 0U), 0xFFU);
    HX_U(mrp_three_packed_encode(0U, 0U, 9U), 0xFFU);
    """,
)

FAMILY.add(
    "three-packed-decode", "medium",
    ask="""Decode an MRP ThreePackedEvents octet received in an MSRP vector into its three attribute events
    (value = ((e1 x 6) + e2) x 6 + e3, each event 0..5). Values above 215 are invalid: return false and
    leave the output untouched; otherwise write events[0..2] = e1, e2, e3 and return true. NULL output
    is invalid too. Do it without recursion or lookup tables.""",
    signature="bool mrp_three_packed_decode(uint8_t packed, uint8_t events[3])",
    reference=r"""
    #include <stdbool.h>
    #include <stddef.h>
    #include <stdint.h>

    #define MRP_THREE_PACKED_MAX 215U

    /**
     * @brief Unpack a ThreePackedEvents octet.
     * @param packed The ThreePackedEvents value.
     * @param events Receives the three attribute events, first event at index 0.
     * @return true on success, false for values above 215 or a NULL output.
     */
    bool mrp_three_packed_decode(uint8_t packed, uint8_t events[3])
    {
        bool ok = false;
        if ((events != NULL) && (packed <= MRP_THREE_PACKED_MAX)) {
            uint32_t value = (uint32_t)packed;
            events[2] = (uint8_t)(value % 6U);
            value /= 6U;
            events[1] = (uint8_t)(value % 6U);
            events[0] = (uint8_t)(value / 6U);
            ok = true;
        }
        return ok;
    }
    """,
    harness_body=r"""
    static const uint8_t w51[3] = {1U, 2U, 3U};
    static const uint8_t w215[3] = {5U, 5U, 5U};
    static const uint8_t w36[3] = {1U, 0U, 0U};
    uint8_t ev[3] = {9U, 9U, 9U};
    static const uint8_t w_untouched[3] = {1U, 0U, 0U};
    HX_T(mrp_three_packed_decode(51U, ev));
    HX_MEM(ev, w51, 3U);
    HX_T(mrp_three_packed_decode(215U, ev));
    HX_MEM(ev, w215, 3U);
    HX_T(mrp_three_packed_decode(36U, ev));
    HX_MEM(ev, w36, 3U);
    HX_T(!mrp_three_packed_decode(216U, ev));
    HX_MEM(ev, w_untouched, 3U);
    HX_T(!mrp_three_packed_decode(5U, NULL));
    """,
)

FAMILY.add(
    "four-packed-encode", "medium",
    ask="""MSRP Listener declarations carry a FourPackedEvents octet: four declaration types d1..d4 (each 0..3:
    Ignore, Asking Failed, Ready, Ready Failed) packed as ((d1 x 4 + d2) x 4 + d3) x 4 + d4. Encode the
    four declarations given in declarations[0..3]. Return false (packed untouched) if a pointer is NULL or any
    declaration exceeds 3.""",
    signature="bool msrp_four_packed_encode(const uint8_t declarations[4], uint8_t *packed)",
    reference=r"""
    #include <stdbool.h>
    #include <stddef.h>
    #include <stdint.h>

    #define MSRP_DECLARATION_MAX 3U

    /**
     * @brief Pack four MSRP Listener declaration types into a FourPackedEvents octet.
     * @param declarations Declaration types d1..d4 (0..3), d1 at index 0.
     * @param packed Receives ((d1 * 4 + d2) * 4 + d3) * 4 + d4.
     * @return true on success, false for NULL pointers or out-of-range declarations.
     */
    bool msrp_four_packed_encode(const uint8_t declarations[4], uint8_t *packed)
    {
        bool ok = false;
        if ((declarations != NULL) && (packed != NULL)) {
            uint32_t value = 0U;
            uint32_t i;
            ok = true;
            for (i = 0U; i < 4U; i++) {
                if (declarations[i] > MSRP_DECLARATION_MAX) {
                    ok = false;
                }
                value = (value * 4U) + (uint32_t)declarations[i];
            }
            if (ok) {
                *packed = (uint8_t)value;
            }
        }
        return ok;
    }
    """,
    harness_body=r"""
    static const uint8_t a[4] = {2U, 0U, 0U, 0U};
    static const uint8_t b[4] = {3U, 3U, 3U, 3U};
    static const uint8_t c[4] = {0U, 1U, 2U, 3U};
    static const uint8_t bad[4] = {0U, 4U, 0U, 0U};
    uint8_t packed = 0xAAU;
    HX_T(msrp_four_packed_encode(a, &packed));
    HX_U(packed, 128U);
    HX_T(msrp_four_packed_encode(b, &packed));
    HX_U(packed, 255U);
    HX_T(msrp_four_packed_encode(c, &packed));
    HX_U(packed, 27U);
    HX_T(!msrp_four_packed_encode(bad, &packed));
    HX_U(packed, 27U);
    HX_T(!msrp_four_packed_encode(a, NULL));
    """,
)

FAMILY.add(
    "default-domain", "medium",
    ask=f"""Fill in the default SRP domain of an SR class for the MSRP Domain declaration: the class's
    default priority and VLAN ID 2 (the default SR_PVID). {CLASS_IDS} Return false without writing for
    an unknown class or a NULL pointer.""",
    signature="bool srp_default_domain(uint8_t sr_class_id, uint8_t *priority, uint16_t *vid)",
    facts={"srp_class_a_pcp": "SRP_CLASS_A_PRIORITY", "srp_class_b_pcp": "SRP_CLASS_B_PRIORITY"},
    defines=[("SRP_CLASS_A_PRIORITY", "the default priority of class A"),
             ("SRP_CLASS_B_PRIORITY", "the default priority of class B"), ("SR_PVID_DEFAULT", "VLAN 2")],
    reference=rf"""
    #include <stdbool.h>
    #include <stddef.h>
    #include <stdint.h>

{CLASS_ID_DEFINES_C}
    #define SRP_CLASS_A_PRIORITY 3U
    #define SRP_CLASS_B_PRIORITY 2U
    #define SR_PVID_DEFAULT 2U

    /**
     * @brief Default SRP domain (priority and VID) of an SR class.
     * @param sr_class_id SR class ID (6 = class A, 5 = class B).
     * @param priority Receives the default priority of the class.
     * @param vid Receives the default SR_PVID.
     * @return true for a known class, false otherwise.
     */
    bool srp_default_domain(uint8_t sr_class_id, uint8_t *priority, uint16_t *vid)
    {{
        bool ok = false;
        if ((priority != NULL) && (vid != NULL)) {{
            switch (sr_class_id) {{
            case SR_CLASS_ID_A:
                *priority = SRP_CLASS_A_PRIORITY;
                *vid = SR_PVID_DEFAULT;
                ok = true;
                break;
            case SR_CLASS_ID_B:
                *priority = SRP_CLASS_B_PRIORITY;
                *vid = SR_PVID_DEFAULT;
                ok = true;
                break;
            default:
                ok = false;
                break;
            }}
        }}
        return ok;
    }}
    """,
    harness_body=r"""
    uint8_t prio = 0xEEU;
    uint16_t vid = 0xEEEEU;
    HX_T(srp_default_domain(6U, &prio, &vid));
    HX_U(prio, 3U);
    HX_U(vid, 2U);
    prio = 0xEEU; vid = 0xEEEEU;
    HX_T(srp_default_domain(5U, &prio, &vid));
    HX_U(prio, 2U);
    HX_U(vid, 2U);
    prio = 0xEEU;
    HX_T(!srp_default_domain(4U, &prio, &vid));
    HX_U(prio, 0xEEU);
    HX_T(!srp_default_domain(6U, NULL, &vid));
    """,
)

FAMILY.add(
    "frames-per-second", "easy",
    ask=f"""A talker sends MaxIntervalFrames frames in every class measurement interval of its SR class.
    Return how many frames per second that is. {CLASS_IDS} Unknown classes give 0.""",
    signature="uint32_t srp_frames_per_second(uint8_t sr_class_id, uint16_t max_interval_frames)",
    facts={"srp_class_a_interval_us": None, "srp_class_b_interval_us": None},
    reference=rf"""
    #include <stdint.h>

{CLASS_ID_DEFINES_C}
    #define INTERVALS_PER_SECOND_A 8000U /* 125 us */
    #define INTERVALS_PER_SECOND_B 4000U /* 250 us */

    /**
     * @brief Frame rate of a stream.
     * @param sr_class_id SR class ID (6 = class A, 5 = class B).
     * @param max_interval_frames Frames per class measurement interval.
     * @return Frames per second, or 0 for an unknown class.
     */
    uint32_t srp_frames_per_second(uint8_t sr_class_id, uint16_t max_interval_frames)
    {{
        uint32_t rate;
        switch (sr_class_id) {{
        case SR_CLASS_ID_A:
            rate = INTERVALS_PER_SECOND_A * (uint32_t)max_interval_frames;
            break;
        case SR_CLASS_ID_B:
            rate = INTERVALS_PER_SECOND_B * (uint32_t)max_interval_frames;
            break;
        default:
            rate = 0U;
            break;
        }}
        return rate;
    }}
    """,
    harness_body=r"""
    HX_U(srp_frames_per_second(6U, 1U), 8000U);
    HX_U(srp_frames_per_second(5U, 1U), 4000U);
    HX_U(srp_frames_per_second(6U, 3U), 24000U);
    HX_U(srp_frames_per_second(5U, 65535U), 262140000U);
    HX_U(srp_frames_per_second(2U, 1U), 0U);
    """,
)

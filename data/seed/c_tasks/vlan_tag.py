"""IEEE 802.1Q VLAN tags: TCI fields (PCP 15..13, DEI 12, VID 11..0), tag insertion and removal,
reserved VIDs (0x000, 0xFFF), Q-in-Q (S-tag 0x88A8 outside the C-tag 0x8100), VLAN membership maps."""

from common import Family, pick

FAMILY = Family("vlan_tag", area="TSN switch firmware (802.1Q bridging)")

FAMILY.add(
    "tci-pack", "easy",
    ask="""Build the 16-bit Tag Control Information (TCI) of an IEEE 802.1Q VLAN tag from its three
    fields: priority code point, drop eligible indicator and VLAN identifier. Values wider than their
    field must be masked to the field width rather than spill into the neighbouring field.""",
    signature="uint16_t vlan_tci_pack(uint8_t pcp, uint8_t dei, uint16_t vid)",
    facts={"vlan_tci_layout": None},
    reference=r"""
    #include <stdint.h>

    /**
     * @brief Pack the fields of an IEEE 802.1Q Tag Control Information word.
     * @param pcp Priority code point (bits 15..13); only the low 3 bits are used.
     * @param dei Drop eligible indicator (bit 12); only the low bit is used.
     * @param vid VLAN identifier (bits 11..0); only the low 12 bits are used.
     * @return The TCI in host order.
     */
    uint16_t vlan_tci_pack(uint8_t pcp, uint8_t dei, uint16_t vid)
    {
        uint32_t tci = ((uint32_t)pcp & 0x7U) << 13U;
        tci |= ((uint32_t)dei & 0x1U) << 12U;
        tci |= (uint32_t)vid & 0x0FFFU;
        return (uint16_t)tci;
    }
    """,
    harness_body=r"""
    HX_U(vlan_tci_pack(0U, 0U, 0U), 0x0000U);
    HX_U(vlan_tci_pack(7U, 1U, 4095U), 0xFFFFU);
    HX_U(vlan_tci_pack(3U, 0U, 100U), 0x6064U);
    HX_U(vlan_tci_pack(5U, 1U, 0x123U), 0xB123U);
    HX_U(vlan_tci_pack(2U, 0U, 2U), 0x4002U);
    HX_U(vlan_tci_pack(9U, 0U, 0U), 0x2000U);
    HX_U(vlan_tci_pack(0U, 3U, 0U), 0x1000U);
    HX_U(vlan_tci_pack(0U, 0U, 0x1005U), 0x0005U);
    """,
)

FAMILY.add(
    "tci-unpack", "easy",
    ask="""Split a received 802.1Q TCI into PCP, DEI and VID. Each output pointer may be NULL, in which
    case that field is simply not reported.""",
    signature="void vlan_tci_unpack(uint16_t tci, uint8_t *pcp, uint8_t *dei, uint16_t *vid)",
    facts={"vlan_tci_layout": None},
    reference=r"""
    #include <stddef.h>
    #include <stdint.h>

    /**
     * @brief Split an IEEE 802.1Q Tag Control Information word into its fields.
     * @param tci The TCI in host order.
     * @param pcp Receives the priority code point (bits 15..13); may be NULL.
     * @param dei Receives the drop eligible indicator (bit 12); may be NULL.
     * @param vid Receives the VLAN identifier (bits 11..0); may be NULL.
     */
    void vlan_tci_unpack(uint16_t tci, uint8_t *pcp, uint8_t *dei, uint16_t *vid)
    {
        if (pcp != NULL) {
            *pcp = (uint8_t)(((uint32_t)tci >> 13U) & 0x7U);
        }
        if (dei != NULL) {
            *dei = (uint8_t)(((uint32_t)tci >> 12U) & 0x1U);
        }
        if (vid != NULL) {
            *vid = (uint16_t)((uint32_t)tci & 0x0FFFU);
        }
    }
    """,
    harness_body=r"""
    uint8_t pcp = 0xAAU;
    uint8_t dei = 0xAAU;
    uint16_t vid = 0xAAAAU;
    vlan_tci_unpack(0xB123U, &pcp, &dei, &vid);
    HX_U(pcp, 5U);
    HX_U(dei, 1U);
    HX_U(vid, 0x123U);
    vlan_tci_unpack(0x6064U, &pcp, &dei, &vid);
    HX_U(pcp, 3U);
    HX_U(dei, 0U);
    HX_U(vid, 100U);
    vlan_tci_unpack(0xFFFFU, &pcp, &dei, &vid);
    HX_U(pcp, 7U);
    HX_U(dei, 1U);
    HX_U(vid, 0xFFFU);
    pcp = 0xAAU;
    vid = 0xAAAAU;
    vlan_tci_unpack(0x4002U, &pcp, NULL, &vid);
    HX_U(pcp, 2U);
    HX_U(vid, 2U);
    vlan_tci_unpack(0x1000U, NULL, &dei, NULL);
    HX_U(dei, 1U);
    """,
)

FAMILY.add(
    "vid-valid", "easy",
    ask="""Decide whether a VLAN ID may be configured as a VLAN on a bridge port. VID 0 only marks a
    priority-tagged frame and VID 0xFFF is reserved, so neither is a valid VLAN; anything above 12 bits
    is invalid too.""",
    signature="bool vlan_vid_is_valid(uint16_t vid)",
    facts={"vlan_vid_reserved": None},
    reference=r"""
    #include <stdbool.h>
    #include <stdint.h>

    /**
     * @brief Tell whether a VLAN identifier names a usable VLAN.
     * @param vid The VLAN identifier to check.
     * @return true for 1..4094; false for the reserved values 0x000 and 0xFFF and for out-of-range values.
     */
    bool vlan_vid_is_valid(uint16_t vid)
    {
        return (vid >= 1U) && (vid <= 0x0FFEU);
    }
    """,
    harness_body=r"""
    HX_T(!vlan_vid_is_valid(0U));
    HX_T(vlan_vid_is_valid(1U));
    HX_T(vlan_vid_is_valid(2U));
    HX_T(vlan_vid_is_valid(100U));
    HX_T(vlan_vid_is_valid(4094U));
    HX_T(!vlan_vid_is_valid(4095U));
    HX_T(!vlan_vid_is_valid(4096U));
    HX_T(!vlan_vid_is_valid(0xFFFFU));
    """,
)

FAMILY.add(
    "tci-set-pcp", "easy",
    ask="""Re-mark the priority of an existing 802.1Q TCI: return the TCI with its PCP replaced and the DEI
    and VID untouched. A PCP above 7 is a caller error: return the TCI unchanged in that case.""",
    signature="uint16_t vlan_tci_with_pcp(uint16_t tci, uint8_t pcp)",
    facts={"vlan_tci_layout": None},
    reference=r"""
    #include <stdint.h>

    /**
     * @brief Replace the priority code point of an IEEE 802.1Q TCI.
     * @param tci The original TCI in host order.
     * @param pcp The new priority code point, 0..7.
     * @return The TCI with bits 15..13 set to pcp, or tci unchanged when pcp > 7.
     */
    uint16_t vlan_tci_with_pcp(uint16_t tci, uint8_t pcp)
    {
        uint16_t result = tci;
        if (pcp <= 7U) {
            result = (uint16_t)(((uint32_t)tci & 0x1FFFU) | ((uint32_t)pcp << 13U));
        }
        return result;
    }
    """,
    harness_body=r"""
    HX_U(vlan_tci_with_pcp(0x0064U, 3U), 0x6064U);
    HX_U(vlan_tci_with_pcp(0xB123U, 0U), 0x1123U);
    HX_U(vlan_tci_with_pcp(0x1FFFU, 7U), 0xFFFFU);
    HX_U(vlan_tci_with_pcp(0xE002U, 2U), 0x4002U);
    HX_U(vlan_tci_with_pcp(0x4002U, 8U), 0x4002U);
    HX_U(vlan_tci_with_pcp(0x4002U, 0xFFU), 0x4002U);
    """,
)

FAMILY.add(
    "tag-write", "medium",
    ask="""Serialise a customer VLAN tag (C-tag) into a transmit buffer: the 16-bit TPID followed by the
    TCI, both in network byte order, with DEI cleared. Return the number of bytes written (4), or 0
    without touching the buffer when the buffer is NULL or shorter than 4 bytes, the PCP is above 7 or
    the VID does not fit in 12 bits or is the reserved value 0xFFF (VID 0, a priority tag, is allowed).""",
    signature="size_t vlan_tag_write(uint8_t *buf, size_t buf_len, uint8_t pcp, uint16_t vid)",
    facts={"ethertype_ctag": "VLAN_TPID", "vlan_tci_layout": None, "vlan_vid_reserved": None},
    defines=[("VLAN_TPID", "the tag protocol identifier of an 802.1Q C-tag")],
    reference=r"""
    #include <stddef.h>
    #include <stdint.h>

    #define VLAN_TPID 0x8100U /* IEEE 802.1Q customer VLAN tag */

    /**
     * @brief Write an IEEE 802.1Q C-tag (TPID + TCI, big-endian, DEI = 0).
     * @param buf Destination buffer.
     * @param buf_len Size of buf in bytes.
     * @param pcp Priority code point, 0..7.
     * @param vid VLAN identifier, 0..4094 (0 = priority tag).
     * @return 4 on success, 0 on invalid arguments (nothing written).
     */
    size_t vlan_tag_write(uint8_t *buf, size_t buf_len, uint8_t pcp, uint16_t vid)
    {
        size_t written = 0U;
        if ((buf != NULL) && (buf_len >= 4U) && (pcp <= 7U) && (vid <= 0x0FFEU)) {
            uint32_t tci = ((uint32_t)pcp << 13U) | (uint32_t)vid;
            buf[0] = (uint8_t)(VLAN_TPID >> 8U);
            buf[1] = (uint8_t)(VLAN_TPID & 0xFFU);
            buf[2] = (uint8_t)(tci >> 8U);
            buf[3] = (uint8_t)(tci & 0xFFU);
            written = 4U;
        }
        return written;
    }
    """,
    harness_body=r"""
    uint8_t buf[6] = {0xEEU, 0xEEU, 0xEEU, 0xEEU, 0xEEU, 0xEEU};
    static const uint8_t want_a[6] = {0x81U, 0x00U, 0x60U, 0x64U, 0xEEU, 0xEEU};
    static const uint8_t want_b[6] = {0x81U, 0x00U, 0xEFU, 0xFEU, 0xEEU, 0xEEU};
    static const uint8_t want_c[6] = {0x81U, 0x00U, 0x40U, 0x00U, 0xEEU, 0xEEU};
    HX_U(vlan_tag_write(buf, sizeof buf, 3U, 100U), 4U);
    HX_MEM(buf, want_a, 6U);
    HX_U(vlan_tag_write(buf, 4U, 7U, 4094U), 4U);
    HX_MEM(buf, want_b, 6U);
    HX_U(vlan_tag_write(buf, 4U, 2U, 0U), 4U);
    HX_MEM(buf, want_c, 6U);
    HX_U(vlan_tag_write(buf, 3U, 1U, 5U), 0U);
    HX_U(vlan_tag_write(buf, 4U, 8U, 5U), 0U);
    HX_U(vlan_tag_write(buf, 4U, 1U, 0xFFFU), 0U);
    HX_U(vlan_tag_write(NULL, 4U, 1U, 5U), 0U);
    HX_MEM(buf, want_c, 6U);
    """,
)

FAMILY.add(
    "frame-get-tci", "medium",
    ask="""Given a received Ethernet frame starting at the destination MAC address, report the TCI if the
    frame carries an 802.1Q C-tag right after the source MAC (offset 12). Return true and store the
    TCI (host order) when the frame is C-tagged and long enough to hold the tag and the following
    EtherType (at least 18 bytes); otherwise return false and leave *tci untouched.""",
    signature="bool vlan_frame_get_tci(const uint8_t *frame, size_t len, uint16_t *tci)",
    facts={"ethertype_ctag": "ETH_TYPE_VLAN"},
    defines=[("ETH_TYPE_VLAN", "the 802.1Q C-tag TPID")],
    reference=r"""
    #include <stdbool.h>
    #include <stddef.h>
    #include <stdint.h>

    #define ETH_TYPE_VLAN 0x8100U /* IEEE 802.1Q customer VLAN tag TPID */
    #define ETH_TPID_OFFSET 12U
    #define ETH_VLAN_MIN_LEN 18U

    /**
     * @brief Read the 802.1Q TCI of a C-tagged Ethernet frame.
     * @param frame The frame, starting at the destination MAC address.
     * @param len Length of the frame in bytes.
     * @param tci Receives the TCI in host order when the frame is tagged.
     * @return true if the frame is C-tagged (and *tci was written), false otherwise.
     */
    bool vlan_frame_get_tci(const uint8_t *frame, size_t len, uint16_t *tci)
    {
        bool tagged = false;
        if ((frame != NULL) && (tci != NULL) && (len >= ETH_VLAN_MIN_LEN)) {
            uint32_t tpid = ((uint32_t)frame[ETH_TPID_OFFSET] << 8U) | (uint32_t)frame[ETH_TPID_OFFSET + 1U];
            if (tpid == ETH_TYPE_VLAN) {
                *tci = (uint16_t)(((uint32_t)frame[14] << 8U) | (uint32_t)frame[15]);
                tagged = true;
            }
        }
        return tagged;
    }
    """,
    harness_body=r"""
    uint8_t frame[64];
    uint16_t tci = 0xAAAAU;
    memset(frame, 0x11, sizeof frame);
    frame[12] = 0x81U; frame[13] = 0x00U; frame[14] = 0xA0U; frame[15] = 0x0AU;
    frame[16] = 0x22U; frame[17] = 0xF0U;
    HX_T(vlan_frame_get_tci(frame, sizeof frame, &tci));
    HX_U(tci, 0xA00AU);
    frame[14] = 0x60U; frame[15] = 0x02U;
    HX_T(vlan_frame_get_tci(frame, 18U, &tci));
    HX_U(tci, 0x6002U);
    tci = 0xAAAAU;
    HX_T(!vlan_frame_get_tci(frame, 17U, &tci));
    HX_U(tci, 0xAAAAU);
    frame[12] = 0x88U; frame[13] = 0xA8U;
    HX_T(!vlan_frame_get_tci(frame, sizeof frame, &tci));
    frame[12] = 0x08U; frame[13] = 0x00U;
    HX_T(!vlan_frame_get_tci(frame, sizeof frame, &tci));
    HX_U(tci, 0xAAAAU);
    """,
)

FAMILY.add(
    "frame-insert-tag", "hard",
    ask="""Insert an 802.1Q C-tag into an untagged Ethernet frame held in a buffer (no FCS; the frame starts
    at the destination MAC). The 4-byte tag (TPID, then the given TCI, big-endian) goes between the
    source MAC and the EtherType, and everything from the EtherType on moves up by four bytes. Return
    the new length. Return 0 and leave the buffer unchanged if the frame pointer is NULL, the frame is
    shorter than a 14-byte header, the buffer capacity cannot hold the longer frame, or the frame
    already carries a C-tag.""",
    signature="size_t vlan_frame_insert_tag(uint8_t *frame, size_t len, size_t capacity, uint16_t tci)",
    facts={"ethertype_ctag": "VLAN_TPID"},
    defines=[("VLAN_TPID", "the 802.1Q C-tag TPID")],
    reference=r"""
    #include <stddef.h>
    #include <stdint.h>

    #define VLAN_TPID 0x8100U   /* IEEE 802.1Q customer VLAN tag */
    #define ETH_HEADER_LEN 14U
    #define ETH_TYPE_OFFSET 12U
    #define VLAN_TAG_LEN 4U

    /**
     * @brief Insert an IEEE 802.1Q C-tag after the source MAC address of a frame.
     * @param frame Frame buffer, starting at the destination MAC address, without FCS.
     * @param len Current frame length in bytes.
     * @param capacity Size of the frame buffer in bytes.
     * @param tci Tag control information to insert (host order).
     * @return The new frame length, or 0 if the tag could not be inserted.
     */
    size_t vlan_frame_insert_tag(uint8_t *frame, size_t len, size_t capacity, uint16_t tci)
    {
        size_t new_len = 0U;
        if ((frame != NULL) && (len >= ETH_HEADER_LEN) && (capacity >= len) &&
            ((capacity - len) >= VLAN_TAG_LEN)) {
            uint32_t type = ((uint32_t)frame[ETH_TYPE_OFFSET] << 8U) | (uint32_t)frame[ETH_TYPE_OFFSET + 1U];
            if (type != VLAN_TPID) {
                size_t i = len;
                /* Move from the end so that the overlapping copy never overwrites unread bytes. */
                while (i > ETH_TYPE_OFFSET) {
                    i--;
                    frame[i + VLAN_TAG_LEN] = frame[i];
                }
                frame[ETH_TYPE_OFFSET] = (uint8_t)(VLAN_TPID >> 8U);
                frame[ETH_TYPE_OFFSET + 1U] = (uint8_t)(VLAN_TPID & 0xFFU);
                frame[ETH_TYPE_OFFSET + 2U] = (uint8_t)((uint32_t)tci >> 8U);
                frame[ETH_TYPE_OFFSET + 3U] = (uint8_t)((uint32_t)tci & 0xFFU);
                new_len = len + VLAN_TAG_LEN;
            }
        }
        return new_len;
    }
    """,
    harness_body=r"""
    uint8_t frame[32];
    uint8_t want[32];
    size_t i;
    for (i = 0U; i < sizeof frame; i++) {
        frame[i] = (uint8_t)i;
        want[i] = (uint8_t)i;
    }
    frame[12] = 0x08U; frame[13] = 0x00U;
    /* expected: MACs, 81 00 a0 05, then the old bytes 12..19 */
    for (i = 0U; i < 8U; i++) {
        want[16U + i] = frame[12U + i];
    }
    want[12] = 0x81U; want[13] = 0x00U; want[14] = 0xA0U; want[15] = 0x05U;
    HX_U(vlan_frame_insert_tag(frame, 20U, sizeof frame, 0xA005U), 24U);
    HX_MEM(frame, want, 24U);
    HX_U(vlan_frame_insert_tag(frame, 24U, sizeof frame, 0x2001U), 0U);
    HX_MEM(frame, want, 24U);
    frame[12] = 0x22U; frame[13] = 0xF0U;
    HX_U(vlan_frame_insert_tag(frame, 30U, sizeof frame, 0x2001U), 0U);
    HX_U(vlan_frame_insert_tag(frame, 13U, sizeof frame, 0x2001U), 0U);
    HX_U(vlan_frame_insert_tag(NULL, 20U, sizeof frame, 0x2001U), 0U);
    HX_U(frame[12], 0x22U);
    HX_U(vlan_frame_insert_tag(frame, 14U, 18U, 0x2001U), 18U);
    HX_U(frame[14], 0x20U);
    HX_U(frame[16], 0x22U);
    HX_U(frame[17], 0xF0U);
    """,
)

FAMILY.add(
    "frame-strip-tag", "medium",
    ask="""Remove the 802.1Q C-tag from a received frame in place before handing it to an untagged port.
    The frame starts at the destination MAC and has no FCS. If the frame is C-tagged (TPID at offset 12)
    and at least 18 bytes long, store its TCI through the tci pointer (unless it is NULL), close the
    4-byte gap and return the new length. Untagged or too short frames are left as they are and their
    length is returned unchanged; a NULL frame gives 0.""",
    signature="size_t vlan_frame_strip_tag(uint8_t *frame, size_t len, uint16_t *tci)",
    facts={"ethertype_ctag": "VLAN_TPID_CTAG"},
    defines=[("VLAN_TPID_CTAG", "the 802.1Q C-tag TPID")],
    reference=r"""
    #include <stddef.h>
    #include <stdint.h>

    #define VLAN_TPID_CTAG 0x8100U /* IEEE 802.1Q customer VLAN tag */
    #define ETH_TYPE_OFFSET 12U
    #define VLAN_TAG_LEN 4U

    /**
     * @brief Strip the IEEE 802.1Q C-tag of a frame in place.
     * @param frame Frame buffer, starting at the destination MAC address, without FCS.
     * @param len Frame length in bytes.
     * @param tci Receives the removed TCI (host order); may be NULL.
     * @return The new length (len - 4) if a tag was removed, len if the frame is untagged, 0 if frame is NULL.
     */
    size_t vlan_frame_strip_tag(uint8_t *frame, size_t len, uint16_t *tci)
    {
        size_t new_len = 0U;
        if (frame != NULL) {
            new_len = len;
            if (len >= (ETH_TYPE_OFFSET + VLAN_TAG_LEN + 2U)) {
                uint32_t tpid = ((uint32_t)frame[ETH_TYPE_OFFSET] << 8U) | (uint32_t)frame[ETH_TYPE_OFFSET + 1U];
                if (tpid == VLAN_TPID_CTAG) {
                    size_t i;
                    if (tci != NULL) {
                        *tci = (uint16_t)(((uint32_t)frame[14] << 8U) | (uint32_t)frame[15]);
                    }
                    for (i = ETH_TYPE_OFFSET; i < (len - VLAN_TAG_LEN); i++) {
                        frame[i] = frame[i + VLAN_TAG_LEN];
                    }
                    new_len = len - VLAN_TAG_LEN;
                }
            }
        }
        return new_len;
    }
    """,
    harness_body=r"""
    uint8_t frame[24];
    uint8_t want[20];
    uint16_t tci = 0U;
    size_t i;
    for (i = 0U; i < sizeof frame; i++) {
        frame[i] = (uint8_t)(0x40U + i);
    }
    frame[12] = 0x81U; frame[13] = 0x00U; frame[14] = 0x60U; frame[15] = 0x02U;
    frame[16] = 0x22U; frame[17] = 0xF0U;
    for (i = 0U; i < 12U; i++) {
        want[i] = frame[i];
    }
    for (i = 12U; i < 20U; i++) {
        want[i] = frame[i + 4U];
    }
    HX_U(vlan_frame_strip_tag(frame, 24U, &tci), 20U);
    HX_U(tci, 0x6002U);
    HX_MEM(frame, want, 20U);
    HX_U(vlan_frame_strip_tag(frame, 20U, &tci), 20U);
    HX_MEM(frame, want, 20U);
    frame[12] = 0x81U; frame[13] = 0x00U; frame[14] = 0x00U; frame[15] = 0x07U;
    frame[16] = 0x22U; frame[17] = 0xF0U;
    HX_U(vlan_frame_strip_tag(frame, 17U, &tci), 17U);
    HX_U(vlan_frame_strip_tag(frame, 18U, NULL), 14U);
    HX_U(frame[12], 0x22U);
    HX_U(vlan_frame_strip_tag(NULL, 18U, &tci), 0U);
    """,
)

FAMILY.add(
    "qinq-inner-ethertype", "hard",
    ask="""Our provider-bridge port receives Q-in-Q traffic. Return the EtherType of the payload of a frame
    (starting at the destination MAC), skipping an optional 802.1ad service tag (S-tag) at offset 12
    and then an optional 802.1Q customer tag (C-tag) right after it or directly at offset 12. At most
    one tag of each kind is skipped, and an S-tag is only recognised as the outer tag. Return 0 if the
    frame is too short to contain the EtherType it points to, or if frame is NULL.""",
    signature="uint16_t vlan_inner_ethertype(const uint8_t *frame, size_t len)",
    facts={"ethertype_stag": "ETH_TYPE_STAG", "ethertype_ctag": "ETH_TYPE_CTAG"},
    defines=[("ETH_TYPE_STAG", "the 802.1ad S-tag TPID"), ("ETH_TYPE_CTAG", "the 802.1Q C-tag TPID")],
    reference=r"""
    #include <stddef.h>
    #include <stdint.h>

    #define ETH_TYPE_STAG 0x88A8U /* IEEE 802.1ad service VLAN tag */
    #define ETH_TYPE_CTAG 0x8100U /* IEEE 802.1Q customer VLAN tag */
    #define ETH_TYPE_OFFSET 12U
    #define VLAN_TAG_LEN 4U

    /**
     * @brief Read a big-endian 16-bit value.
     * @param p Pointer to two bytes.
     * @return The value.
     */
    static uint16_t read_be16(const uint8_t *p)
    {
        return (uint16_t)(((uint32_t)p[0] << 8U) | (uint32_t)p[1]);
    }

    /**
     * @brief Find the EtherType of the payload behind optional S- and C-tags.
     * @param frame Frame starting at the destination MAC address.
     * @param len Frame length in bytes.
     * @return The payload EtherType, or 0 if the frame is NULL or truncated.
     */
    uint16_t vlan_inner_ethertype(const uint8_t *frame, size_t len)
    {
        uint16_t type = 0U;
        if ((frame != NULL) && (len >= (ETH_TYPE_OFFSET + 2U))) {
            size_t offset = ETH_TYPE_OFFSET;
            if (read_be16(&frame[offset]) == ETH_TYPE_STAG) {
                offset += VLAN_TAG_LEN;
            }
            if (((offset + 2U) <= len) && (read_be16(&frame[offset]) == ETH_TYPE_CTAG)) {
                offset += VLAN_TAG_LEN;
            }
            if ((offset + 2U) <= len) {
                type = read_be16(&frame[offset]);
            }
        }
        return type;
    }
    """,
    harness_body=r"""
    uint8_t f[40];
    memset(f, 0, sizeof f);
    f[12] = 0x08U; f[13] = 0x00U;
    HX_U(vlan_inner_ethertype(f, 14U), 0x0800U);
    f[12] = 0x81U; f[13] = 0x00U; f[16] = 0x22U; f[17] = 0xF0U;
    HX_U(vlan_inner_ethertype(f, 18U), 0x22F0U);
    HX_U(vlan_inner_ethertype(f, 17U), 0U);
    f[12] = 0x88U; f[13] = 0xA8U; f[16] = 0x81U; f[17] = 0x00U; f[20] = 0x88U; f[21] = 0xF7U;
    HX_U(vlan_inner_ethertype(f, 22U), 0x88F7U);
    HX_U(vlan_inner_ethertype(f, 21U), 0U);
    f[16] = 0x86U; f[17] = 0xDDU;
    HX_U(vlan_inner_ethertype(f, 22U), 0x86DDU);
    f[12] = 0x81U; f[13] = 0x00U; f[16] = 0x88U; f[17] = 0xA8U;
    HX_U(vlan_inner_ethertype(f, 22U), 0x88A8U);
    f[12] = 0x88U; f[13] = 0xA8U; f[16] = 0x81U; f[17] = 0x00U; f[20] = 0x81U; f[21] = 0x00U;
    HX_U(vlan_inner_ethertype(f, 40U), 0x8100U);
    HX_U(vlan_inner_ethertype(NULL, 40U), 0U);
    HX_U(vlan_inner_ethertype(f, 10U), 0U);
    """,
)

FAMILY.add(
    "member-set", "medium",
    ask="""Maintain the VLAN membership of a port as a 4096-bit map: byte vid / 8, bit vid % 8 (bit 0 is the
    least significant). Set or clear the bit of one VID. Reserved VIDs (0 and 0xFFF) and values above
    0xFFF can never be members: for them return false and leave the map alone; otherwise return true.""",
    signature="bool vlan_member_set(uint8_t map[512], uint16_t vid, bool member)",
    facts={"vlan_vid_reserved": None},
    reference=r"""
    #include <stdbool.h>
    #include <stddef.h>
    #include <stdint.h>

    /**
     * @brief Add a VLAN to, or remove it from, a port membership bitmap.
     * @param map 4096-bit membership map: bit (vid % 8) of byte (vid / 8).
     * @param vid VLAN identifier, 1..4094.
     * @param member true to add the VLAN, false to remove it.
     * @return true if the map was updated, false for a reserved or out-of-range VID.
     */
    bool vlan_member_set(uint8_t map[512], uint16_t vid, bool member)
    {
        bool updated = false;
        if ((map != NULL) && (vid >= 1U) && (vid <= 0x0FFEU)) {
            uint8_t mask = (uint8_t)(1U << ((uint32_t)vid & 0x7U));
            uint16_t index = (uint16_t)(vid >> 3U);
            if (member) {
                map[index] = (uint8_t)(map[index] | mask);
            } else {
                map[index] = (uint8_t)(map[index] & (uint8_t)~mask);
            }
            updated = true;
        }
        return updated;
    }
    """,
    harness_body=r"""
    uint8_t map[512];
    uint8_t want[512];
    memset(map, 0, sizeof map);
    memset(want, 0, sizeof want);
    HX_T(vlan_member_set(map, 1U, true));
    want[0] = 0x02U;
    HX_T(vlan_member_set(map, 100U, true));
    want[12] = 0x10U;
    HX_T(vlan_member_set(map, 4094U, true));
    want[511] = 0x40U;
    HX_MEM(map, want, sizeof map);
    HX_T(vlan_member_set(map, 100U, false));
    want[12] = 0x00U;
    HX_MEM(map, want, sizeof map);
    HX_T(!vlan_member_set(map, 0U, true));
    HX_T(!vlan_member_set(map, 4095U, true));
    HX_T(!vlan_member_set(map, 5000U, true));
    HX_MEM(map, want, sizeof map);
    memset(map, 0xFF, sizeof map);
    HX_T(vlan_member_set(map, 7U, false));
    HX_U(map[0], 0x7FU);
    """,
)

FAMILY.add(
    "member-count", "medium",
    ask="""Count how many VLANs a port is a member of, given its 4096-bit membership map (byte vid / 8,
    bit vid % 8, LSB first). Bits that a corrupted configuration may have set for the reserved VIDs 0
    and 0xFFF must not be counted.""",
    signature="uint16_t vlan_member_count(const uint8_t map[512])",
    facts={"vlan_vid_reserved": None},
    reference=r"""
    #include <stdint.h>

    /**
     * @brief Count the valid VLANs (1..4094) set in a membership bitmap.
     * @param map 4096-bit membership map: bit (vid % 8) of byte (vid / 8).
     * @return The number of member VLANs, 0..4094.
     */
    uint16_t vlan_member_count(const uint8_t map[512])
    {
        uint16_t count = 0U;
        uint16_t vid;
        for (vid = 1U; vid <= 0x0FFEU; vid++) {
            if ((((uint32_t)map[vid >> 3U] >> ((uint32_t)vid & 0x7U)) & 1U) != 0U) {
                count++;
            }
        }
        return count;
    }
    """,
    harness_body=r"""
    uint8_t map[512];
    memset(map, 0, sizeof map);
    HX_U(vlan_member_count(map), 0U);
    map[0] = 0x01U;
    HX_U(vlan_member_count(map), 0U);
    map[511] = 0x80U;
    HX_U(vlan_member_count(map), 0U);
    map[0] = 0x06U;
    HX_U(vlan_member_count(map), 2U);
    map[100] = 0xF0U;
    HX_U(vlan_member_count(map), 6U);
    memset(map, 0xFF, sizeof map);
    HX_U(vlan_member_count(map), 4094U);
    """,
)

FAMILY.add(
    "priority-tagged", "easy",
    ask="""Classify a received frame (starting at the destination MAC) as priority-tagged: it carries an
    802.1Q C-tag whose VID is 0, so only the PCP is meaningful. Return false for untagged frames, for
    tagged frames with a non-zero VID, for frames shorter than 18 bytes and for a NULL pointer.""",
    signature="bool vlan_is_priority_tagged(const uint8_t *frame, size_t len)",
    facts={"ethertype_ctag": "TPID_8021Q", "vlan_tci_layout": None},
    defines=[("TPID_8021Q", "the C-tag TPID")],
    reference=r"""
    #include <stdbool.h>
    #include <stddef.h>
    #include <stdint.h>

    #define TPID_8021Q 0x8100U /* IEEE 802.1Q customer VLAN tag */

    /**
     * @brief Tell whether a frame is priority-tagged (C-tag with VID 0).
     * @param frame Frame starting at the destination MAC address.
     * @param len Frame length in bytes.
     * @return true if the frame has a C-tag with VID 0, false otherwise.
     */
    bool vlan_is_priority_tagged(const uint8_t *frame, size_t len)
    {
        bool result = false;
        if ((frame != NULL) && (len >= 18U)) {
            uint32_t tpid = ((uint32_t)frame[12] << 8U) | (uint32_t)frame[13];
            uint32_t vid = (((uint32_t)frame[14] << 8U) | (uint32_t)frame[15]) & 0x0FFFU;
            result = (tpid == TPID_8021Q) && (vid == 0U);
        }
        return result;
    }
    """,
    harness_body=r"""
    uint8_t f[20];
    memset(f, 0, sizeof f);
    f[12] = 0x81U; f[13] = 0x00U; f[14] = 0xA0U; f[15] = 0x00U;
    HX_T(vlan_is_priority_tagged(f, 20U));
    HX_T(vlan_is_priority_tagged(f, 18U));
    f[14] = 0xB0U;
    HX_T(vlan_is_priority_tagged(f, 18U));
    HX_T(!vlan_is_priority_tagged(f, 17U));
    f[15] = 0x01U;
    HX_T(!vlan_is_priority_tagged(f, 18U));
    f[14] = 0x10U; f[15] = 0x00U;
    HX_T(vlan_is_priority_tagged(f, 18U));
    f[12] = 0x88U; f[13] = 0xA8U;
    HX_T(!vlan_is_priority_tagged(f, 18U));
    HX_T(!vlan_is_priority_tagged(NULL, 18U));
    """,
)


# --- generated variants: priority tables and single-field TCI/frame operations -------------------------
# Expected values come from the tables and bit layout below (TCI: PCP bits 15..13, DEI bit 12, VID 11..0).

# IEEE 802.1Q recommended priority to traffic class mapping (Table 8-5), one row per number of classes.
TRAFFIC_CLASSES = {
    2: (0, 0, 0, 0, 1, 1, 1, 1), 3: (0, 0, 0, 0, 1, 1, 2, 2), 4: (0, 0, 1, 1, 2, 2, 3, 3),
    5: (0, 0, 1, 1, 2, 2, 3, 4), 6: (1, 0, 2, 2, 3, 3, 4, 5), 7: (1, 0, 2, 3, 4, 4, 5, 6),
    8: (1, 0, 2, 3, 4, 5, 6, 7),
}
# Per-port priority regeneration tables (configuration examples; any table is a valid configuration).
REGENERATION = {
    "edge": (0, 0, 0, 0, 0, 0, 0, 0), "inverted": (7, 6, 5, 4, 3, 2, 1, 0),
    "camera": (0, 1, 2, 3, 3, 3, 3, 3), "backbone": (1, 1, 2, 2, 4, 4, 6, 6),
}


def table_task(slug: str, function: str, ask: str, table: tuple, brief: str, difficulty: str = "easy") -> None:
    rows = "\n".join(f"HX_U({function}({p}U), {table[p]}U);" for p in range(8))
    rows += f"\nHX_U({function}(8U), 0xFFU);\nHX_U({function}(0xFFU), 0xFFU);"
    FAMILY.add(slug, difficulty, ask=ask + " A PCP above 7 is invalid: return 0xFF.",
               signature=f"uint8_t {function}(uint8_t pcp)",
               reference=f"""\
#include <stdint.h>

/**
 * @brief {brief}
 * @param pcp Priority code point, 0..7.
 * @return The mapped value, or 0xFF for an invalid PCP.
 */
uint8_t {function}(uint8_t pcp)
{{
    static const uint8_t map[8] = {{{', '.join(f'{v}U' for v in table)}}};
    uint8_t result = 0xFFU;
    if (pcp < 8U) {{
        result = map[pcp];
    }}
    return result;
}}
""", harness_body=rows)


for _classes, _row in TRAFFIC_CLASSES.items():
    table_task(f"pcp-to-tc{_classes}", f"vlan_pcp_to_tc{_classes}",
               f"""Map the priority (PCP) of a received frame to one of the {_classes} traffic classes (queues) of
               an egress port, using the recommended IEEE 802.1Q mapping for {_classes} traffic classes: PCP 0..7
               go to traffic classes {', '.join(str(v) for v in _row)} respectively (note that PCP 1 is the
               lowest priority, below best-effort PCP 0).""", _row,
               f"Traffic class of a PCP on a port with {_classes} traffic classes.")
for _port, _row in REGENERATION.items():
    table_task(f"pcp-regenerate-{_port}", f"vlan_regenerate_pcp_{_port.replace('-', '_')}",
               f"""Apply the priority regeneration table of our {_port.replace('-', ' ')} ports to the PCP of a
               received frame: received PCP 0..7 become {', '.join(str(v) for v in _row)} respectively.""", _row,
               f"Regenerated priority of a received PCP ({_port} port table).")


def tci_with(tci: int, field: str, value: int) -> int:
    shift, width = {"vid": (0, 12), "dei": (12, 1)}[field]
    if field == "vid" and value >= 0xFFF or field == "dei" and value > 1:
        return tci
    return (tci & ~(((1 << width) - 1) << shift) & 0xFFFF) | (value << shift)


TCIS = (0x0000, 0xFFFF, 0x6064, 0xB123, 0x1FFE)
FAMILY.add(
    "tci-set-vid", "easy",
    ask="""Move a frame to another VLAN: return the 802.1Q TCI with its VLAN identifier replaced and the PCP
    and DEI untouched. VID 0xFFF is reserved and anything above it does not fit: return the TCI unchanged
    for those.""",
    signature="uint16_t vlan_tci_with_vid(uint16_t tci, uint16_t vid)",
    facts={"vlan_tci_layout": None},
    reference="""\
#include <stdint.h>

/**
 * @brief Replace the VLAN identifier of an IEEE 802.1Q TCI.
 * @param tci The original TCI in host order.
 * @param vid The new VLAN identifier, 0..0xFFE.
 * @return The TCI with bits 11..0 set to vid, or tci unchanged for a reserved or too large vid.
 */
uint16_t vlan_tci_with_vid(uint16_t tci, uint16_t vid)
{
    uint16_t result = tci;
    if (vid < 0x0FFFU) {
        result = (uint16_t)(((uint32_t)tci & 0xF000U) | (uint32_t)vid);
    }
    return result;
}
""",
    harness_body="\n".join(f"HX_U(vlan_tci_with_vid(0x{t:04X}U, 0x{v:03X}U), 0x{tci_with(t, 'vid', v):04X}U);"
                           for t in TCIS for v in (0x001, 0x064, 0xFFE, 0xFFF, 0x1000)),
)
FAMILY.add(
    "tci-set-dei", "easy",
    ask="""Mark or unmark a frame as drop eligible: return the 802.1Q TCI with its DEI bit set to dei (0 or
    1) and the PCP and VID untouched. Any other dei is a caller error: return the TCI unchanged.""",
    signature="uint16_t vlan_tci_with_dei(uint16_t tci, uint8_t dei)",
    facts={"vlan_tci_layout": None},
    reference="""\
#include <stdint.h>

/**
 * @brief Set or clear the drop eligible indicator of an IEEE 802.1Q TCI.
 * @param tci The original TCI in host order.
 * @param dei The new DEI, 0 or 1.
 * @return The TCI with bit 12 set to dei, or tci unchanged when dei > 1.
 */
uint16_t vlan_tci_with_dei(uint16_t tci, uint8_t dei)
{
    uint16_t result = tci;
    if (dei <= 1U) {
        result = (uint16_t)(((uint32_t)tci & 0xEFFFU) | ((uint32_t)dei << 12U));
    }
    return result;
}
""",
    harness_body="\n".join(f"HX_U(vlan_tci_with_dei(0x{t:04X}U, {d}U), 0x{tci_with(t, 'dei', d):04X}U);"
                           for t in TCIS for d in (0, 1, 2)),
)

# frame field readers: (field, shift, width, what)
FRAME_FIELDS = (("pcp", 13, 3, "priority code point"), ("dei", 12, 1, "drop eligible indicator"),
                ("vid", 0, 12, "VLAN identifier"))
TAGGED = bytes([0x01, 0x80, 0xC2, 0x00, 0x00, 0x0E, 0x00, 0x1B, 0x21, 0x0A, 0x0B, 0x0C, 0x81, 0x00, 0xB1, 0x23,
                0x88, 0xF7])
UNTAGGED = bytes([0x01, 0x80, 0xC2, 0x00, 0x00, 0x0E, 0x00, 0x1B, 0x21, 0x0A, 0x0B, 0x0C, 0x88, 0xF7, 0xB1, 0x23,
                  0x00, 0x00])


def frame_field(frame: bytes, length: int, shift: int, width: int) -> int:
    if length < 18 or frame[12:14] != b"\x81\x00":
        return 0xFFFF
    return (int.from_bytes(frame[14:16], "big") >> shift) & ((1 << width) - 1)


for _field, _shift, _width, _what in FRAME_FIELDS:
    _function = f"vlan_frame_{_field}"
    _frames = {"tagged": TAGGED, "untagged": UNTAGGED}
    _rows = [f"static const uint8_t {n}[18] = {{" + ", ".join(f"0x{b:02X}U" for b in f) + "};"
             for n, f in _frames.items()]
    _rows.append("uint8_t other[18];")
    _other = bytearray(TAGGED)
    _other[14:16] = bytes([0x5E, 0xFE])
    _rows.append("(void)memcpy(other, tagged, sizeof other);\nother[14] = 0x5EU;\nother[15] = 0xFEU;")
    for _name, _frame, _len in (("tagged", TAGGED, 18), ("tagged", TAGGED, 17), ("untagged", UNTAGGED, 18),
                                ("other", bytes(_other), 18), ("other", bytes(_other), 64)):
        _rows.append(f"HX_U({_function}({_name}, {_len}U), 0x{frame_field(_frame, _len, _shift, _width):X}U);")
    _rows.append(f"HX_U({_function}(NULL, 18U), 0xFFFFU);")
    FAMILY.add(
        f"frame-get-{_field}", "medium",
        ask=f"""Read the {_what} of a received Ethernet frame (starting at the destination MAC address) that
        carries an 802.1Q C-tag right after the source MAC (TPID at offset 12, TCI at offset 14, both
        big-endian). Return it right-aligned; return 0xFFFF when the frame is NULL, shorter than 18 bytes
        or not C-tagged.""",
        signature=f"uint16_t {_function}(const uint8_t *frame, size_t len)",
        facts={"ethertype_ctag": "ETH_TYPE_VLAN", "vlan_tci_layout": None},
        defines=[("ETH_TYPE_VLAN", "the 802.1Q C-tag TPID")],
        reference=f"""\
#include <stddef.h>
#include <stdint.h>

#define ETH_TYPE_VLAN 0x8100U /* IEEE 802.1Q customer VLAN tag TPID */
#define VLAN_MIN_LEN 18U

/**
 * @brief The {_what} of a C-tagged frame.
 * @param frame Frame bytes from the destination MAC address on.
 * @param len Number of bytes in frame.
 * @return The field, or 0xFFFF when the frame is not a C-tagged frame of at least 18 bytes.
 */
uint16_t {_function}(const uint8_t *frame, size_t len)
{{
    uint16_t result = 0xFFFFU;
    if ((frame != NULL) && (len >= VLAN_MIN_LEN)) {{
        uint32_t tpid = ((uint32_t)frame[12] << 8U) | (uint32_t)frame[13];
        if (tpid == ETH_TYPE_VLAN) {{
            uint32_t tci = ((uint32_t)frame[14] << 8U) | (uint32_t)frame[15];
            result = (uint16_t)((tci >> {_shift}U) & 0x{(1 << _width) - 1:X}U);
        }}
    }}
    return result;
}}
""",
        harness_body="\n".join(_rows),
    )

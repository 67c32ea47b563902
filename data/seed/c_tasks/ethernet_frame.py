"""Ethernet frames: EtherType dispatch (with C-/S-tags), MAC address kinds, headers, minimum-size
padding, the length/type field, the CRC-32 FCS, MAC address text formats."""

import zlib

from common import Family

FAMILY = Family("ethernet_frame", area="Ethernet driver of the automotive gateway ECU")


def fcs_bytes(data: bytes) -> list[int]:
    """The FCS as transmitted: CRC-32/ISO-HDLC, least significant octet first."""
    return list(zlib.crc32(data).to_bytes(4, "little"))


def c_bytes(values) -> str:
    return ", ".join(f"0x{v:02X}U" for v in values)


FAMILY.add(
    "classify", "medium",
    ask="""Classify received frames (buffer from the destination MAC, no FCS) for the gateway's protocol
    dispatcher by EtherType, skipping one 802.1Q C-tag if present. Return ETH_CLASS_IPV4 (1) for 0x0800,
    ETH_CLASS_ARP (2) for 0x0806, ETH_CLASS_IPV6 (3) for 0x86DD, ETH_CLASS_AVTP (4) for IEEE 1722,
    ETH_CLASS_MSRP (5) for MSRP, ETH_CLASS_GPTP (6) for gPTP, ETH_CLASS_OTHER (0) for any other
    EtherType and ETH_CLASS_RUNT (7) if the frame (or NULL) is too short to hold its EtherType (14
    octets untagged, 18 tagged). Dispatch with a switch.""",
    signature="uint8_t eth_classify(const uint8_t *frame, size_t len)",
    facts={"ethertype_avtp": "ETHERTYPE_AVTP", "ethertype_msrp": "ETHERTYPE_MSRP", "ethertype_gptp": "ETHERTYPE_GPTP",
           "ethertype_ctag": "ETHERTYPE_VLAN"},
    defines=[("ETHERTYPE_AVTP", "IEEE 1722"), ("ETHERTYPE_MSRP", "MSRP"), ("ETHERTYPE_GPTP", "gPTP"),
             ("ETHERTYPE_VLAN", "the 802.1Q C-tag TPID")],
    reference=r"""
    #include <stdbool.h>
    #include <stddef.h>
    #include <stdint.h>

    #define ETHERTYPE_IPV4 0x0800U
    #define ETHERTYPE_ARP  0x0806U
    #define ETHERTYPE_IPV6 0x86DDU
    #define ETHERTYPE_AVTP 0x22F0U
    #define ETHERTYPE_MSRP 0x22EAU
    #define ETHERTYPE_GPTP 0x88F7U
    #define ETHERTYPE_VLAN 0x8100U

    #define ETH_CLASS_OTHER 0U
    #define ETH_CLASS_IPV4  1U
    #define ETH_CLASS_ARP   2U
    #define ETH_CLASS_IPV6  3U
    #define ETH_CLASS_AVTP  4U
    #define ETH_CLASS_MSRP  5U
    #define ETH_CLASS_GPTP  6U
    #define ETH_CLASS_RUNT  7U

    /**
     * @brief Classify an Ethernet frame by its (inner) EtherType.
     * @param frame Frame, starting at the destination MAC address.
     * @param len Length of the frame in octets.
     * @return One of the ETH_CLASS_* codes.
     */
    uint8_t eth_classify(const uint8_t *frame, size_t len)
    {
        uint8_t result = ETH_CLASS_RUNT;
        if ((frame != NULL) && (len >= 14U)) {
            uint32_t type = ((uint32_t)frame[12] << 8U) | (uint32_t)frame[13];
            bool complete = true;
            if (type == ETHERTYPE_VLAN) {
                if (len >= 18U) {
                    type = ((uint32_t)frame[16] << 8U) | (uint32_t)frame[17];
                } else {
                    complete = false;
                }
            }
            if (complete) {
                switch (type) {
                case ETHERTYPE_IPV4:
                    result = ETH_CLASS_IPV4;
                    break;
                case ETHERTYPE_ARP:
                    result = ETH_CLASS_ARP;
                    break;
                case ETHERTYPE_IPV6:
                    result = ETH_CLASS_IPV6;
                    break;
                case ETHERTYPE_AVTP:
                    result = ETH_CLASS_AVTP;
                    break;
                case ETHERTYPE_MSRP:
                    result = ETH_CLASS_MSRP;
                    break;
                case ETHERTYPE_GPTP:
                    result = ETH_CLASS_GPTP;
                    break;
                default:
                    result = ETH_CLASS_OTHER;
                    break;
                }
            }
        }
        return result;
    }
    """,
    harness_body=r"""
    uint8_t f[64];
    memset(f, 0, sizeof f);
    f[12] = 0x08U; f[13] = 0x00U; HX_U(eth_classify(f, 64U), 1U);
    f[12] = 0x08U; f[13] = 0x06U; HX_U(eth_classify(f, 14U), 2U);
    f[12] = 0x86U; f[13] = 0xDDU; HX_U(eth_classify(f, 64U), 3U);
    f[12] = 0x22U; f[13] = 0xF0U; HX_U(eth_classify(f, 64U), 4U);
    f[12] = 0x22U; f[13] = 0xEAU; HX_U(eth_classify(f, 64U), 5U);
    f[12] = 0x88U; f[13] = 0xF7U; HX_U(eth_classify(f, 64U), 6U);
    f[12] = 0x88U; f[13] = 0xB5U; HX_U(eth_classify(f, 64U), 0U);
    HX_U(eth_classify(f, 13U), 7U);
    f[12] = 0x81U; f[13] = 0x00U; f[16] = 0x22U; f[17] = 0xF0U; HX_U(eth_classify(f, 18U), 4U);
    f[16] = 0x88U; f[17] = 0xF7U; HX_U(eth_classify(f, 64U), 6U);
    HX_U(eth_classify(f, 17U), 7U);
    HX_U(eth_classify(NULL, 64U), 7U);
    """,
)

FAMILY.add(
    "mac-kind", "easy",
    ask="""Tell the receive filter what kind of destination a MAC address is: 2 for the broadcast address
    FF-FF-FF-FF-FF-FF, 1 for any other group (multicast) address - the I/G bit, the least significant
    bit of the first octet, is set - and 0 for an individual (unicast) address.""",
    signature="uint8_t eth_mac_kind(const uint8_t mac[6])",
    reference=r"""
    #include <stdint.h>

    #define MAC_UNICAST   0U
    #define MAC_MULTICAST 1U
    #define MAC_BROADCAST 2U

    /**
     * @brief Kind of a destination MAC address.
     * @param mac MAC address, 6 octets, first octet as transmitted first.
     * @return MAC_BROADCAST (2), MAC_MULTICAST (1) or MAC_UNICAST (0).
     */
    uint8_t eth_mac_kind(const uint8_t mac[6])
    {
        uint8_t kind = MAC_UNICAST;
        uint32_t and_of_octets = 0xFFU;
        uint32_t i;
        for (i = 0U; i < 6U; i++) {
            and_of_octets &= (uint32_t)mac[i];
        }
        if (and_of_octets == 0xFFU) {
            kind = MAC_BROADCAST;
        } else if (((uint32_t)mac[0] & 0x01U) != 0U) {
            kind = MAC_MULTICAST;
        } else {
            kind = MAC_UNICAST;
        }
        return kind;
    }
    """,
    harness_body=r"""
    static const uint8_t bcast[6] = {0xFFU, 0xFFU, 0xFFU, 0xFFU, 0xFFU, 0xFFU};
    static const uint8_t gptp[6] = {0x01U, 0x80U, 0xC2U, 0x00U, 0x00U, 0x0EU};
    static const uint8_t maap[6] = {0x91U, 0xE0U, 0xF0U, 0x00U, 0xFEU, 0x01U};
    static const uint8_t uni[6] = {0x00U, 0x1BU, 0x21U, 0x0AU, 0x0BU, 0x0CU};
    static const uint8_t almost[6] = {0xFFU, 0xFFU, 0xFFU, 0xFFU, 0xFFU, 0xFEU};
    static const uint8_t local[6] = {0x02U, 0x00U, 0x00U, 0x00U, 0x00U, 0x01U};
    HX_U(eth_mac_kind(bcast), 2U);
    HX_U(eth_mac_kind(gptp), 1U);
    HX_U(eth_mac_kind(maap), 1U);
    HX_U(eth_mac_kind(almost), 1U);
    HX_U(eth_mac_kind(uni), 0U);
    HX_U(eth_mac_kind(local), 0U);
    """,
)

FAMILY.add(
    "locally-administered", "easy",
    ask="""Our ECUs derive MAC addresses from their serial numbers and must mark them as locally
    administered. Check whether a MAC address has the U/L bit (bit 1, value 0x02, of the first octet)
    set.""",
    signature="bool eth_mac_is_local(const uint8_t mac[6])",
    reference=r"""
    #include <stdbool.h>
    #include <stdint.h>

    #define MAC_UL_BIT 0x02U

    /**
     * @brief Tell whether a MAC address is locally administered.
     * @param mac MAC address, 6 octets.
     * @return true if the U/L bit of the first octet is set.
     */
    bool eth_mac_is_local(const uint8_t mac[6])
    {
        return (((uint32_t)mac[0] & MAC_UL_BIT) != 0U);
    }
    """,
    harness_body=r"""
    static const uint8_t a[6] = {0x02U, 0x00U, 0x00U, 0x00U, 0x00U, 0x01U};
    static const uint8_t b[6] = {0x00U, 0x1BU, 0x21U, 0x0AU, 0x0BU, 0x0CU};
    static const uint8_t c[6] = {0x03U, 0x00U, 0x00U, 0x00U, 0x00U, 0x01U};
    static const uint8_t d[6] = {0xFDU, 0xFFU, 0xFFU, 0xFFU, 0xFFU, 0xFFU};
    HX_T(eth_mac_is_local(a));
    HX_T(!eth_mac_is_local(b));
    HX_T(eth_mac_is_local(c));
    HX_T(!eth_mac_is_local(d));
    """,
)

FAMILY.add(
    "header-write", "easy",
    ask="""Write a 14-octet Ethernet II header - destination MAC, source MAC, EtherType in network byte
    order - at the start of a transmit buffer. Return 14, or 0 without writing if any pointer is NULL
    or the buffer is smaller than 14 octets.""",
    signature="size_t eth_header_write(uint8_t *buf, size_t size, const uint8_t dst[6], const uint8_t src[6], uint16_t ethertype)",
    reference=r"""
    #include <stddef.h>
    #include <stdint.h>

    #define ETH_HEADER_LEN 14U
    #define ETH_ADDR_LEN 6U

    /**
     * @brief Write an Ethernet II header.
     * @param buf Destination buffer.
     * @param size Size of buf in octets.
     * @param dst Destination MAC address, 6 octets.
     * @param src Source MAC address, 6 octets.
     * @param ethertype EtherType of the payload.
     * @return 14 on success, 0 on invalid arguments.
     */
    size_t eth_header_write(uint8_t *buf, size_t size, const uint8_t dst[6], const uint8_t src[6], uint16_t ethertype)
    {
        size_t written = 0U;
        if ((buf != NULL) && (dst != NULL) && (src != NULL) && (size >= ETH_HEADER_LEN)) {
            size_t i;
            for (i = 0U; i < ETH_ADDR_LEN; i++) {
                buf[i] = dst[i];
                buf[ETH_ADDR_LEN + i] = src[i];
            }
            buf[12] = (uint8_t)(ethertype >> 8U);
            buf[13] = (uint8_t)(ethertype & 0xFFU);
            written = ETH_HEADER_LEN;
        }
        return written;
    }
    """,
    harness_body=r"""
    static const uint8_t dst[6] = {0x01U, 0x80U, 0xC2U, 0x00U, 0x00U, 0x0EU};
    static const uint8_t src[6] = {0x00U, 0x1BU, 0x21U, 0x0AU, 0x0BU, 0x0CU};
    static const uint8_t want[16] = {0x01U, 0x80U, 0xC2U, 0x00U, 0x00U, 0x0EU, 0x00U, 0x1BU,
                                     0x21U, 0x0AU, 0x0BU, 0x0CU, 0x88U, 0xF7U, 0xEEU, 0xEEU};
    uint8_t buf[16];
    memset(buf, 0xEE, sizeof buf);
    HX_U(eth_header_write(buf, sizeof buf, dst, src, 0x88F7U), 14U);
    HX_MEM(buf, want, 16U);
    HX_U(eth_header_write(buf, 13U, dst, src, 0x0800U), 0U);
    HX_U(eth_header_write(buf, 14U, NULL, src, 0x0800U), 0U);
    HX_MEM(buf, want, 16U);
    HX_U(eth_header_write(buf, 14U, src, dst, 0x0800U), 14U);
    HX_U(buf[0], 0x00U);
    HX_U(buf[13], 0x00U);
    """,
)

FAMILY.add(
    "pad-to-minimum", "medium",
    ask="""Before handing a frame to the MAC (which appends the FCS), pad it with zero octets to the minimum
    Ethernet frame size of 60 octets without FCS. Frames of 60 octets or more are returned unchanged.
    Return the new length, or 0 if frame is NULL or the buffer capacity is too small for the padding.""",
    signature="size_t eth_pad_to_minimum(uint8_t *frame, size_t len, size_t capacity)",
    reference=r"""
    #include <stddef.h>
    #include <stdint.h>

    #define ETH_MIN_LEN_NO_FCS 60U /* 64-octet minimum frame minus the 4-octet FCS */

    /**
     * @brief Zero-pad a frame to the Ethernet minimum size.
     * @param frame Frame buffer, without FCS.
     * @param len Current length in octets.
     * @param capacity Size of the buffer in octets.
     * @return The padded length, len if no padding is needed, or 0 on error.
     */
    size_t eth_pad_to_minimum(uint8_t *frame, size_t len, size_t capacity)
    {
        size_t new_len = 0U;
        if (frame != NULL) {
            if (len >= ETH_MIN_LEN_NO_FCS) {
                new_len = len;
            } else if (capacity >= ETH_MIN_LEN_NO_FCS) {
                size_t i;
                for (i = len; i < ETH_MIN_LEN_NO_FCS; i++) {
                    frame[i] = 0U;
                }
                new_len = ETH_MIN_LEN_NO_FCS;
            } else {
                new_len = 0U;
            }
        }
        return new_len;
    }
    """,
    harness_body=r"""
    uint8_t f[80];
    uint8_t want[80];
    memset(f, 0xAB, sizeof f);
    memset(want, 0xAB, sizeof want);
    memset(&want[42], 0, 18U);
    HX_U(eth_pad_to_minimum(f, 42U, sizeof f), 60U);
    HX_MEM(f, want, 80U);
    HX_U(eth_pad_to_minimum(f, 60U, 60U), 60U);
    HX_U(eth_pad_to_minimum(f, 75U, 80U), 75U);
    memset(f, 0xAB, sizeof f);
    HX_U(eth_pad_to_minimum(f, 20U, 59U), 0U);
    HX_U(f[20], 0xABU);
    HX_U(eth_pad_to_minimum(NULL, 20U, 80U), 0U);
    HX_U(eth_pad_to_minimum(f, 0U, 60U), 60U);
    HX_U(f[59], 0U);
    HX_U(f[60], 0xABU);
    """,
)

FAMILY.add(
    "length-type", "easy",
    ask="""Interpret the 16-bit field at offset 12 of an Ethernet frame: values up to 1500 are an IEEE 802.3
    length (return 0), values from 0x0600 up are an EtherType (return 1), and the values in between are
    undefined (return 2).""",
    signature="uint8_t eth_length_type_kind(uint16_t value)",
    reference=r"""
    #include <stdint.h>

    #define ETH_MAX_LENGTH   1500U
    #define ETH_MIN_TYPE     0x0600U
    #define ETH_FIELD_LENGTH 0U
    #define ETH_FIELD_TYPE   1U
    #define ETH_FIELD_UNDEF  2U

    /**
     * @brief Meaning of the Ethernet length/type field.
     * @param value The 16-bit length/type field.
     * @return 0 for a length, 1 for an EtherType, 2 for an undefined value.
     */
    uint8_t eth_length_type_kind(uint16_t value)
    {
        uint8_t kind;
        if (value <= ETH_MAX_LENGTH) {
            kind = ETH_FIELD_LENGTH;
        } else if (value >= ETH_MIN_TYPE) {
            kind = ETH_FIELD_TYPE;
        } else {
            kind = ETH_FIELD_UNDEF;
        }
        return kind;
    }
    """,
    harness_body=r"""
    HX_U(eth_length_type_kind(0U), 0U);
    HX_U(eth_length_type_kind(1500U), 0U);
    HX_U(eth_length_type_kind(1501U), 2U);
    HX_U(eth_length_type_kind(0x05FFU), 2U);
    HX_U(eth_length_type_kind(0x0600U), 1U);
    HX_U(eth_length_type_kind(0x22F0U), 1U);
    HX_U(eth_length_type_kind(0xFFFFU), 1U);
    """,
)

FRAME_A = bytes(((i * 7 + 3) & 0xFF) for i in range(60))
FRAME_B = bytes(((i * 13 + 1) & 0xFF) for i in range(14))

FAMILY.add(
    "fcs-append", "medium",
    ask="""Our MAC has no FCS offload, so software appends the frame check sequence: the CRC-32 of IEEE
    802.3 (polynomial 0x04C11DB7, reflected, initial value 0xFFFFFFFF, final XOR 0xFFFFFFFF) over the
    whole frame from the destination MAC, appended least significant octet first. Return the new length,
    or 0 if frame is NULL or the capacity cannot hold four more octets. Compute it bitwise, no table.""",
    signature="size_t eth_append_fcs(uint8_t *frame, size_t len, size_t capacity)",
    reference=r"""
    #include <stddef.h>
    #include <stdint.h>

    #define ETH_FCS_LEN 4U
    #define CRC32_POLY_REFLECTED 0xEDB88320U

    /**
     * @brief Append the IEEE 802.3 FCS (CRC-32) to a frame.
     * @param frame Frame buffer, starting at the destination MAC address.
     * @param len Length of the frame in octets.
     * @param capacity Size of the buffer in octets.
     * @return len + 4 on success, 0 on error.
     */
    size_t eth_append_fcs(uint8_t *frame, size_t len, size_t capacity)
    {
        size_t new_len = 0U;
        if ((frame != NULL) && (capacity >= len) && ((capacity - len) >= ETH_FCS_LEN)) {
            uint32_t crc = 0xFFFFFFFFU;
            size_t i;
            uint32_t bit;
            for (i = 0U; i < len; i++) {
                crc ^= (uint32_t)frame[i];
                for (bit = 0U; bit < 8U; bit++) {
                    if ((crc & 1U) != 0U) {
                        crc = (crc >> 1U) ^ CRC32_POLY_REFLECTED;
                    } else {
                        crc >>= 1U;
                    }
                }
            }
            crc ^= 0xFFFFFFFFU;
            for (i = 0U; i < ETH_FCS_LEN; i++) {
                size_t shift = 8U * i;
                frame[len + i] = (uint8_t)(crc >> shift);
            }
            new_len = len + ETH_FCS_LEN;
        }
        return new_len;
    }
    """,
    harness_body=rf"""
    uint8_t f[66];
    static const uint8_t fcs_a[4] = {{{c_bytes(fcs_bytes(FRAME_A))}}};
    static const uint8_t fcs_b[4] = {{{c_bytes(fcs_bytes(FRAME_B))}}};
    static const uint8_t fcs_digits[4] = {{{c_bytes(fcs_bytes(b"123456789"))}}};
    size_t i;
    for (i = 0U; i < 60U; i++) {{
        f[i] = (uint8_t)((i * 7U) + 3U);
    }}
    HX_U(eth_append_fcs(f, 60U, sizeof f), 64U);
    HX_MEM(&f[60], fcs_a, 4U);
    for (i = 0U; i < 14U; i++) {{
        f[i] = (uint8_t)((i * 13U) + 1U);
    }}
    HX_U(eth_append_fcs(f, 14U, 18U), 18U);
    HX_MEM(&f[14], fcs_b, 4U);
    memcpy(f, "123456789", 9U);
    HX_U(eth_append_fcs(f, 9U, 13U), 13U);
    HX_MEM(&f[9], fcs_digits, 4U);
    HX_U(eth_append_fcs(f, 60U, 63U), 0U);
    HX_U(eth_append_fcs(NULL, 60U, 66U), 0U);
    """,
)

FAMILY.add(
    "fcs-check", "medium",
    ask="""Verify a received frame whose last four octets are the FCS (CRC-32 of IEEE 802.3: reflected
    polynomial 0x04C11DB7, init and final XOR 0xFFFFFFFF, transmitted least significant octet first),
    computed over everything before it. Return true if it matches. Frames shorter than 5 octets and
    NULL are invalid.""",
    signature="bool eth_fcs_ok(const uint8_t *frame, size_t len_with_fcs)",
    reference=r"""
    #include <stdbool.h>
    #include <stddef.h>
    #include <stdint.h>

    #define ETH_FCS_LEN 4U
    #define CRC32_POLY_REFLECTED 0xEDB88320U

    /**
     * @brief Check the IEEE 802.3 FCS at the end of a frame.
     * @param frame Frame, starting at the destination MAC address and ending with the FCS.
     * @param len_with_fcs Length of the frame including the 4-octet FCS.
     * @return true if the FCS matches the CRC-32 of the preceding octets.
     */
    bool eth_fcs_ok(const uint8_t *frame, size_t len_with_fcs)
    {
        bool ok = false;
        if ((frame != NULL) && (len_with_fcs > ETH_FCS_LEN)) {
            size_t data_len = len_with_fcs - ETH_FCS_LEN;
            uint32_t crc = 0xFFFFFFFFU;
            uint32_t received = 0U;
            size_t i;
            uint32_t bit;
            uint32_t k;
            for (i = 0U; i < data_len; i++) {
                crc ^= (uint32_t)frame[i];
                for (bit = 0U; bit < 8U; bit++) {
                    crc = ((crc & 1U) != 0U) ? ((crc >> 1U) ^ CRC32_POLY_REFLECTED) : (crc >> 1U);
                }
            }
            crc ^= 0xFFFFFFFFU;
            for (k = 0U; k < ETH_FCS_LEN; k++) {
                uint32_t shift = 8U * k;
                received = received | ((uint32_t)frame[data_len + k] << shift);
            }
            ok = (crc == received);
        }
        return ok;
    }
    """,
    harness_body=rf"""
    uint8_t f[64];
    static const uint8_t fcs_a[4] = {{{c_bytes(fcs_bytes(FRAME_A))}}};
    size_t i;
    for (i = 0U; i < 60U; i++) {{
        f[i] = (uint8_t)((i * 7U) + 3U);
    }}
    memcpy(&f[60], fcs_a, 4U);
    HX_T(eth_fcs_ok(f, 64U));
    f[10] ^= 0x01U;
    HX_T(!eth_fcs_ok(f, 64U));
    f[10] ^= 0x01U;
    f[63] ^= 0x80U;
    HX_T(!eth_fcs_ok(f, 64U));
    memcpy(f, "123456789", 9U);
    f[9] = 0x26U; f[10] = 0x39U; f[11] = 0xF4U; f[12] = 0xCBU;
    HX_T(eth_fcs_ok(f, 13U));
    HX_T(!eth_fcs_ok(f, 4U));
    HX_T(!eth_fcs_ok(NULL, 13U));
    """,
)

FAMILY.add(
    "mac-compare", "easy",
    ask="""Order two MAC addresses as 48-bit unsigned numbers (first octet most significant), as the bridge
    does for tie-breaks: return -1 if a is smaller, 0 if equal, 1 if larger.""",
    signature="int32_t eth_mac_compare(const uint8_t a[6], const uint8_t b[6])",
    reference=r"""
    #include <stdint.h>

    /**
     * @brief Compare two MAC addresses numerically.
     * @param a First MAC address, 6 octets.
     * @param b Second MAC address, 6 octets.
     * @return -1 if a < b, 0 if a == b, 1 if a > b.
     */
    int32_t eth_mac_compare(const uint8_t a[6], const uint8_t b[6])
    {
        int32_t order = 0;
        uint32_t i;
        for (i = 0U; (i < 6U) && (order == 0); i++) {
            if (a[i] < b[i]) {
                order = -1;
            } else if (a[i] > b[i]) {
                order = 1;
            } else {
                order = 0;
            }
        }
        return order;
    }
    """,
    harness_body=r"""
    static const uint8_t a[6] = {0x00U, 0x1BU, 0x21U, 0x0AU, 0x0BU, 0x0CU};
    static const uint8_t b[6] = {0x00U, 0x1BU, 0x21U, 0x0AU, 0x0BU, 0x0DU};
    static const uint8_t c[6] = {0x01U, 0x00U, 0x00U, 0x00U, 0x00U, 0x00U};
    HX_I(eth_mac_compare(a, b), -1);
    HX_I(eth_mac_compare(b, a), 1);
    HX_I(eth_mac_compare(a, a), 0);
    HX_I(eth_mac_compare(c, b), 1);
    HX_I(eth_mac_compare(a, c), -1);
    """,
)

FAMILY.add(
    "payload-offset", "medium",
    ask="""Find where the payload of a received frame starts (buffer from the destination MAC). Skip up to
    two VLAN tags recognised by their TPID at the EtherType position - the 802.1ad S-tag or the 802.1Q
    C-tag, in any order - so the offset is 14, 18 or 22. Return 0 if frame is NULL or the frame is
    shorter than the offset found (header incomplete).""",
    signature="size_t eth_payload_offset(const uint8_t *frame, size_t len)",
    facts={"ethertype_ctag": "TPID_CTAG", "ethertype_stag": "TPID_STAG"},
    defines=[("TPID_CTAG", "the C-tag TPID"), ("TPID_STAG", "the S-tag TPID")],
    reference=r"""
    #include <stdbool.h>
    #include <stddef.h>
    #include <stdint.h>

    #define TPID_CTAG 0x8100U
    #define TPID_STAG 0x88A8U
    #define ETH_TYPE_OFFSET 12U
    #define ETH_HEADER_LEN 14U
    #define VLAN_TAG_LEN 4U
    #define MAX_TAGS 2U

    /**
     * @brief Offset of the payload behind the Ethernet header and up to two VLAN tags.
     * @param frame Frame, starting at the destination MAC address.
     * @param len Length of the frame in octets.
     * @return 14, 18 or 22, or 0 if the header is incomplete or frame is NULL.
     */
    size_t eth_payload_offset(const uint8_t *frame, size_t len)
    {
        size_t offset = 0U;
        if ((frame != NULL) && (len >= ETH_HEADER_LEN)) {
            size_t type_at = ETH_TYPE_OFFSET;
            uint32_t tags = 0U;
            bool more = true;
            while (more && (tags < MAX_TAGS) && ((type_at + 2U) <= len)) {
                uint32_t type = ((uint32_t)frame[type_at] << 8U) | (uint32_t)frame[type_at + 1U];
                if ((type == TPID_CTAG) || (type == TPID_STAG)) {
                    type_at += VLAN_TAG_LEN;
                    tags++;
                } else {
                    more = false;
                }
            }
            if ((type_at + 2U) <= len) {
                offset = type_at + 2U;
            }
        }
        return offset;
    }
    """,
    harness_body=r"""
    uint8_t f[40];
    memset(f, 0, sizeof f);
    f[12] = 0x08U; f[13] = 0x00U;
    HX_U(eth_payload_offset(f, 40U), 14U);
    HX_U(eth_payload_offset(f, 14U), 14U);
    HX_U(eth_payload_offset(f, 13U), 0U);
    f[12] = 0x81U; f[13] = 0x00U; f[16] = 0x22U; f[17] = 0xF0U;
    HX_U(eth_payload_offset(f, 40U), 18U);
    HX_U(eth_payload_offset(f, 17U), 0U);
    f[12] = 0x88U; f[13] = 0xA8U; f[16] = 0x81U; f[17] = 0x00U; f[20] = 0x08U; f[21] = 0x00U;
    HX_U(eth_payload_offset(f, 40U), 22U);
    HX_U(eth_payload_offset(f, 21U), 0U);
    f[12] = 0x81U; f[13] = 0x00U; f[16] = 0x88U; f[17] = 0xA8U; f[20] = 0x81U; f[21] = 0x00U;
    HX_U(eth_payload_offset(f, 40U), 22U);
    HX_U(eth_payload_offset(NULL, 40U), 0U);
    """,
)

FAMILY.add(
    "mac-parse", "hard",
    ask="""Parse a MAC address from the diagnostic configuration text, e.g. "01-80-C2-00-00-0E" or
    "00:1b:21:0a:0b:0c": exactly six groups of two hexadecimal digits (either case) separated by the
    same separator, ':' or '-', throughout, and nothing after the last group. On success store the six
    octets and return true; on any error (including NULL pointers) return false and leave mac
    untouched. Do not use the C library's conversion functions.""",
    signature="bool eth_mac_parse(const char *text, uint8_t mac[6])",
    reference=r"""
    #include <stdbool.h>
    #include <stddef.h>
    #include <stdint.h>

    #define MAC_TEXT_LEN 17U

    /**
     * @brief Value of a hexadecimal digit.
     * @param c The character.
     * @return 0..15, or 16 if c is not a hexadecimal digit.
     */
    static uint32_t hex_value(char c)
    {
        uint32_t value = 16U;
        if ((c >= '0') && (c <= '9')) {
            value = (uint32_t)c - (uint32_t)'0';
        } else if ((c >= 'a') && (c <= 'f')) {
            value = ((uint32_t)c - (uint32_t)'a') + 10U;
        } else if ((c >= 'A') && (c <= 'F')) {
            value = ((uint32_t)c - (uint32_t)'A') + 10U;
        } else {
            value = 16U;
        }
        return value;
    }

    /**
     * @brief Parse "xx:xx:xx:xx:xx:xx" or "xx-xx-xx-xx-xx-xx".
     * @param text NUL-terminated text.
     * @param mac Receives the six octets on success.
     * @return true on success, false on a malformed address (mac untouched).
     */
    bool eth_mac_parse(const char *text, uint8_t mac[6])
    {
        bool ok = (text != NULL) && (mac != NULL);
        uint8_t octets[6] = {0U, 0U, 0U, 0U, 0U, 0U};
        char separator = '\0';
        uint32_t i;
        for (i = 0U; ok && (i < 6U); i++) {
            uint32_t pos = i * 3U;
            uint32_t high = hex_value(text[pos]);
            uint32_t low = (high < 16U) ? hex_value(text[pos + 1U]) : 16U;
            if ((high > 15U) || (low > 15U)) {
                ok = false;
            } else {
                octets[i] = (uint8_t)((high << 4U) | low);
                if (i < 5U) {
                    char sep = text[pos + 2U];
                    if (i == 0U) {
                        separator = sep;
                    }
                    ok = ((sep == ':') || (sep == '-')) && (sep == separator);
                }
            }
        }
        if (ok && (text[MAC_TEXT_LEN] != '\0')) {
            ok = false;
        }
        if (ok) {
            for (i = 0U; i < 6U; i++) {
                mac[i] = octets[i];
            }
        }
        return ok;
    }
    """,
    harness_body=r"""
    static const uint8_t gptp[6] = {0x01U, 0x80U, 0xC2U, 0x00U, 0x00U, 0x0EU};
    static const uint8_t host[6] = {0x00U, 0x1BU, 0x21U, 0x0AU, 0x0BU, 0x0CU};
    uint8_t mac[6];
    memset(mac, 0xEE, sizeof mac);
    HX_T(eth_mac_parse("01-80-C2-00-00-0E", mac));
    HX_MEM(mac, gptp, 6U);
    HX_T(eth_mac_parse("00:1b:21:0a:0B:0c", mac));
    HX_MEM(mac, host, 6U);
    HX_T(!eth_mac_parse("01-80:C2-00-00-0E", mac));
    HX_T(!eth_mac_parse("01-80-C2-00-00-0", mac));
    HX_T(!eth_mac_parse("01-80-C2-00-00-0E0", mac));
    HX_T(!eth_mac_parse("01-80-C2-00-00-0G", mac));
    HX_T(!eth_mac_parse("0180C200000E", mac));
    HX_T(!eth_mac_parse("01.80.C2.00.00.0E", mac));
    HX_T(!eth_mac_parse("", mac));
    HX_T(!eth_mac_parse(NULL, mac));
    HX_MEM(mac, host, 6U);
    """,
)

FAMILY.add(
    "mac-format", "medium",
    ask="""Format a MAC address for the diagnostic log as lowercase hexadecimal octets separated by colons,
    e.g. "01:80:c2:00:00:0e", always NUL-terminated (17 characters plus the terminator). Do not use
    printf-family functions.""",
    signature="void eth_mac_format(const uint8_t mac[6], char out[18])",
    reference=r"""
    #include <stdint.h>

    /**
     * @brief Format a MAC address as "xx:xx:xx:xx:xx:xx".
     * @param mac MAC address, 6 octets.
     * @param out Receives the NUL-terminated text, 18 characters.
     */
    void eth_mac_format(const uint8_t mac[6], char out[18])
    {
        static const char digits[16] = {'0', '1', '2', '3', '4', '5', '6', '7',
                                         '8', '9', 'a', 'b', 'c', 'd', 'e', 'f'};
        uint32_t i;
        for (i = 0U; i < 6U; i++) {
            out[i * 3U] = digits[((uint32_t)mac[i] >> 4U) & 0x0FU];
            out[(i * 3U) + 1U] = digits[(uint32_t)mac[i] & 0x0FU];
            out[(i * 3U) + 2U] = (i < 5U) ? ':' : '\0';
        }
    }
    """,
    harness_body=r"""
    static const uint8_t gptp[6] = {0x01U, 0x80U, 0xC2U, 0x00U, 0x00U, 0x0EU};
    static const uint8_t ff[6] = {0xFFU, 0xFFU, 0xFFU, 0xFFU, 0xFFU, 0xFFU};
    static const uint8_t host[6] = {0x00U, 0x1BU, 0x21U, 0xA0U, 0xB9U, 0x5CU};
    char out[20];
    memset(out, 'X', sizeof out);
    out[19] = '\0';
    eth_mac_format(gptp, out);
    HX_S(out, "01:80:c2:00:00:0e");
    eth_mac_format(ff, out);
    HX_S(out, "ff:ff:ff:ff:ff:ff");
    eth_mac_format(host, out);
    HX_S(out, "00:1b:21:a0:b9:5c");
    HX_U(out[18], 'X');
    """,
)

"""IEEE 1722 AVTP: EtherType 0x22F0, subtypes (AAF 0x02, CVF 0x03, CRF 0x04), the common stream header
(sv, version, tv, sequence_num, 64-bit stream_id, 32-bit avtp_timestamp that wraps), AAF PCM and CRF
headers."""

from common import Family

FAMILY = Family("avtp", area="IEEE 1722 AVB audio/video transport stack")

NS = 1_000_000_000
STREAM_HEADER = """The AVTPDU starts with the common stream header: octet 0 subtype; octet 1 sv (bit 7), version
(bits 6..4), mr (bit 3), tv (bit 0); octet 2 sequence_num; octet 3 tu (bit 0); octets 4-11 stream_id;
octets 12-15 avtp_timestamp; octets 20-21 stream_data_length; multi-octet fields big-endian."""


def wrap32(value: int) -> int:
    return value % 2**32


FAMILY.add(
    "subtype-name", "easy",
    ask="""For the diagnostic log of our AVB listener, map an AVTP subtype to a short name: "AAF" for the
    AVTP audio format, "CVF" for the compressed video format, "CRF" for the clock reference format and
    "unknown" for anything else. Use a switch.""",
    signature="const char *avtp_subtype_name(uint8_t subtype)",
    facts={"avtp_subtype_aaf": "AVTP_SUBTYPE_AAF", "avtp_subtype_cvf": "AVTP_SUBTYPE_CVF",
           "avtp_subtype_crf": "AVTP_SUBTYPE_CRF"},
    defines=[("AVTP_SUBTYPE_AAF", "the AAF subtype"), ("AVTP_SUBTYPE_CVF", "the CVF subtype"),
             ("AVTP_SUBTYPE_CRF", "the CRF subtype")],
    reference=r"""
    #include <stdint.h>

    #define AVTP_SUBTYPE_AAF 0x02U
    #define AVTP_SUBTYPE_CVF 0x03U
    #define AVTP_SUBTYPE_CRF 0x04U

    /**
     * @brief Short name of an AVTP subtype.
     * @param subtype AVTP subtype (octet 0 of the AVTPDU).
     * @return "AAF", "CVF", "CRF" or "unknown".
     */
    const char *avtp_subtype_name(uint8_t subtype)
    {
        const char *name;
        switch (subtype) {
        case AVTP_SUBTYPE_AAF:
            name = "AAF";
            break;
        case AVTP_SUBTYPE_CVF:
            name = "CVF";
            break;
        case AVTP_SUBTYPE_CRF:
            name = "CRF";
            break;
        default:
            name = "unknown";
            break;
        }
        return name;
    }
    """,
    harness_body=r"""
    HX_S(avtp_subtype_name(0x02U), "AAF");
    HX_S(avtp_subtype_name(0x03U), "CVF");
    HX_S(avtp_subtype_name(0x04U), "CRF");
    HX_S(avtp_subtype_name(0x00U), "unknown");
    HX_S(avtp_subtype_name(0x7FU), "unknown");
    """,
)

FAMILY.add(
    "stream-id", "easy",
    ask=f"""Read the 64-bit stream_id of a received AVTPDU so the listener can look up its stream.
    {STREAM_HEADER} The caller guarantees at least 24 octets.""",
    signature="uint64_t avtp_stream_id(const uint8_t *pdu)",
    reference=r"""
    #include <stdint.h>

    #define AVTP_STREAM_ID_OFFSET 4U

    /**
     * @brief Read the stream_id of an AVTPDU.
     * @param pdu AVTPDU, starting at the subtype octet (at least 24 octets).
     * @return The stream_id.
     */
    uint64_t avtp_stream_id(const uint8_t *pdu)
    {
        uint64_t id = 0U;
        uint32_t i;
        for (i = 0U; i < 8U; i++) {
            id = (id << 8U) | (uint64_t)pdu[AVTP_STREAM_ID_OFFSET + i];
        }
        return id;
    }
    """,
    harness_body=r"""
    uint8_t p[24];
    memset(p, 0, sizeof p);
    p[4] = 0x00U; p[5] = 0x1BU; p[6] = 0x21U; p[7] = 0x0AU; p[8] = 0x0BU; p[9] = 0x0CU; p[10] = 0x00U; p[11] = 0x01U;
    HX_U(avtp_stream_id(p), 0x001B210A0B0C0001ULL);
    memset(&p[4], 0xFF, 8U);
    HX_U(avtp_stream_id(p), 0xFFFFFFFFFFFFFFFFULL);
    p[3] = 0x12U; p[12] = 0x34U; p[4] = 0x80U; p[11] = 0x00U;
    HX_U(avtp_stream_id(p), 0x80FFFFFFFFFFFF00ULL);
    """,
)

FAMILY.add(
    "parse-common", "medium",
    ask=f"""Validate and decode the common stream header of a received AVTPDU. {STREAM_HEADER} Accept only
    stream PDUs (sv = 1) of version 0 that are at least 24 octets long: then store the subtype, the
    sequence number and whether the avtp_timestamp is valid (tv), and return true. Otherwise, or for
    any NULL pointer, return false and write nothing.""",
    signature="bool avtp_parse_common(const uint8_t *pdu, size_t len, uint8_t *subtype, uint8_t *sequence_num, "
              "bool *timestamp_valid)",
    reference=r"""
    #include <stdbool.h>
    #include <stddef.h>
    #include <stdint.h>

    #define AVTP_STREAM_HEADER_LEN 24U

    /**
     * @brief Decode the AVTP common stream header.
     * @param pdu AVTPDU, starting at the subtype octet.
     * @param len Length of pdu in octets.
     * @param subtype Receives the subtype.
     * @param sequence_num Receives the sequence_num.
     * @param timestamp_valid Receives the tv bit.
     * @return true for a version-0 stream PDU of at least 24 octets, false otherwise.
     */
    bool avtp_parse_common(const uint8_t *pdu, size_t len, uint8_t *subtype, uint8_t *sequence_num, bool *timestamp_valid)
    {
        bool ok = false;
        if ((pdu != NULL) && (subtype != NULL) && (sequence_num != NULL) && (timestamp_valid != NULL) &&
            (len >= AVTP_STREAM_HEADER_LEN)) {
            uint32_t flags = (uint32_t)pdu[1];
            bool stream = ((flags & 0x80U) != 0U);
            uint32_t version = (flags >> 4U) & 0x7U;
            if (stream && (version == 0U)) {
                *subtype = pdu[0];
                *sequence_num = pdu[2];
                *timestamp_valid = ((flags & 0x01U) != 0U);
                ok = true;
            }
        }
        return ok;
    }
    """,
    harness_body=r"""
    uint8_t p[24];
    uint8_t subtype = 0xEEU;
    uint8_t seq = 0xEEU;
    bool tv = false;
    memset(p, 0, sizeof p);
    p[0] = 0x02U; p[1] = 0x81U; p[2] = 0x2AU;
    HX_T(avtp_parse_common(p, 24U, &subtype, &seq, &tv));
    HX_U(subtype, 0x02U);
    HX_U(seq, 0x2AU);
    HX_T(tv);
    p[0] = 0x04U; p[1] = 0x88U; p[2] = 0xFFU;
    HX_T(avtp_parse_common(p, 24U, &subtype, &seq, &tv));
    HX_U(subtype, 0x04U);
    HX_U(seq, 0xFFU);
    HX_T(!tv);
    subtype = 0xEEU;
    HX_T(!avtp_parse_common(p, 23U, &subtype, &seq, &tv));
    p[1] = 0x01U;
    HX_T(!avtp_parse_common(p, 24U, &subtype, &seq, &tv));
    p[1] = 0x91U;
    HX_T(!avtp_parse_common(p, 24U, &subtype, &seq, &tv));
    HX_U(subtype, 0xEEU);
    """,
)

FAMILY.add(
    "aaf-write-header", "hard",
    ask=f"""Write the 24-octet header of an AAF PCM stream PDU for our talker. {STREAM_HEADER} Set subtype
    AAF, sv = 1, version 0, mr = 0, tv = 1, tu = 0. The AAF-specific octets are: 16 format; 17 nsr in the
    high nibble and the top two bits of the 10-bit channels_per_frame in bits 1..0; 18 the low eight
    bits of channels_per_frame; 19 bit_depth; 22 sp (bit 4) and evt (bits 3..0), both 0 here; 23
    reserved (0). Return 24, or 0 without writing if pdu is NULL, size is below 24, nsr does not fit in
    4 bits or channels does not fit in 10 bits.""",
    signature="size_t avtp_aaf_write_header(uint8_t *pdu, size_t size, uint64_t stream_id, uint8_t sequence_num, "
              "uint32_t avtp_timestamp, uint8_t format, uint8_t nsr, uint16_t channels, uint8_t bit_depth, "
              "uint16_t data_len)",
    facts={"avtp_subtype_aaf": "AVTP_SUBTYPE_AAF"},
    defines=[("AVTP_SUBTYPE_AAF", "the AAF subtype")],
    reference=r"""
    #include <stddef.h>
    #include <stdint.h>

    #define AVTP_SUBTYPE_AAF 0x02U
    #define AVTP_AAF_HEADER_LEN 24U
    #define AVTP_SV_TV 0x81U /* sv = 1, version 0, mr = 0, tv = 1 */

    /**
     * @brief Write an AAF PCM stream PDU header.
     * @param pdu Destination buffer.
     * @param size Size of pdu in octets.
     * @param stream_id Stream identifier.
     * @param sequence_num Sequence number of this PDU.
     * @param avtp_timestamp Presentation time (lower 32 bits of gPTP time in ns).
     * @param format AAF format code.
     * @param nsr Nominal sample rate code, 0..15.
     * @param channels Channels per frame, 0..1023.
     * @param bit_depth Bit depth of the samples.
     * @param data_len stream_data_length in octets.
     * @return 24 on success, 0 on invalid arguments.
     */
    size_t avtp_aaf_write_header(uint8_t *pdu, size_t size, uint64_t stream_id, uint8_t sequence_num, uint32_t avtp_timestamp, uint8_t format, uint8_t nsr, uint16_t channels, uint8_t bit_depth, uint16_t data_len)
    {
        size_t written = 0U;
        if ((pdu != NULL) && (size >= AVTP_AAF_HEADER_LEN) && (nsr <= 0x0FU) && (channels <= 0x03FFU)) {
            uint32_t i;
            pdu[0] = AVTP_SUBTYPE_AAF;
            pdu[1] = AVTP_SV_TV;
            pdu[2] = sequence_num;
            pdu[3] = 0U;
            for (i = 0U; i < 8U; i++) {
                uint32_t shift = 56U - (8U * i);
                pdu[4U + i] = (uint8_t)(stream_id >> shift);
            }
            for (i = 0U; i < 4U; i++) {
                uint32_t shift = 24U - (8U * i);
                pdu[12U + i] = (uint8_t)(avtp_timestamp >> shift);
            }
            pdu[16] = format;
            pdu[17] = (uint8_t)(((uint32_t)nsr << 4U) | ((uint32_t)channels >> 8U));
            pdu[18] = (uint8_t)((uint32_t)channels & 0xFFU);
            pdu[19] = bit_depth;
            pdu[20] = (uint8_t)(data_len >> 8U);
            pdu[21] = (uint8_t)(data_len & 0xFFU);
            pdu[22] = 0U;
            pdu[23] = 0U;
            written = AVTP_AAF_HEADER_LEN;
        }
        return written;
    }
    """,
    harness_body=r"""
    static const uint8_t want[26] = {
        0x02U, 0x81U, 0x07U, 0x00U,
        0x00U, 0x1BU, 0x21U, 0x0AU, 0x0BU, 0x0CU, 0x00U, 0x01U,
        0x12U, 0x34U, 0x56U, 0x78U,
        0x04U, 0x50U, 0x08U, 0x10U, 0x00U, 0x60U, 0x00U, 0x00U, 0xEEU, 0xEEU};
    uint8_t pdu[26];
    memset(pdu, 0xEE, sizeof pdu);
    HX_U(avtp_aaf_write_header(pdu, sizeof pdu, 0x001B210A0B0C0001ULL, 7U, 0x12345678U, 0x04U, 0x5U, 8U, 16U, 96U), 24U);
    HX_MEM(pdu, want, 26U);
    HX_U(avtp_aaf_write_header(pdu, 24U, 1U, 255U, 1U, 0x02U, 0x7U, 0x3FFU, 32U, 0x1234U), 24U);
    HX_U(pdu[17], 0x73U);
    HX_U(pdu[18], 0xFFU);
    HX_U(pdu[20], 0x12U);
    HX_U(pdu[21], 0x34U);
    HX_U(pdu[11], 0x01U);
    memset(pdu, 0xEE, sizeof pdu);
    HX_U(avtp_aaf_write_header(pdu, 23U, 1U, 1U, 1U, 0x02U, 0x5U, 2U, 16U, 8U), 0U);
    HX_U(avtp_aaf_write_header(pdu, 24U, 1U, 1U, 1U, 0x02U, 0x10U, 2U, 16U, 8U), 0U);
    HX_U(avtp_aaf_write_header(pdu, 24U, 1U, 1U, 1U, 0x02U, 0x5U, 0x400U, 16U, 8U), 0U);
    HX_U(pdu[0], 0xEEU);
    """,
)

NSR = {0x1: 8000, 0x2: 16000, 0x3: 32000, 0x4: 44100, 0x5: 48000, 0x6: 88200, 0x7: 96000, 0x8: 176400,
       0x9: 192000, 0xA: 24000}

FAMILY.add(
    "aaf-nsr-to-hz", "medium",
    ask="""Decode the 4-bit nsr (nominal sample rate) field of an AAF PCM header into Hz: 0x1 8 kHz, 0x2
    16 kHz, 0x3 32 kHz, 0x4 44.1 kHz, 0x5 48 kHz, 0x6 88.2 kHz, 0x7 96 kHz, 0x8 176.4 kHz, 0x9 192 kHz,
    0xA 24 kHz. 0x0 (user specified) and the reserved codes give 0. Implement it with a switch.""",
    signature="uint32_t avtp_aaf_nsr_to_hz(uint8_t nsr)",
    reference=r"""
    #include <stdint.h>

    /**
     * @brief Sample rate of an AAF nsr code.
     * @param nsr Nominal sample rate code from the AAF header.
     * @return The sample rate in Hz, or 0 for user-specified and reserved codes.
     */
    uint32_t avtp_aaf_nsr_to_hz(uint8_t nsr)
    {
        uint32_t hz;
        switch (nsr) {
        case 0x1U: hz = 8000U; break;
        case 0x2U: hz = 16000U; break;
        case 0x3U: hz = 32000U; break;
        case 0x4U: hz = 44100U; break;
        case 0x5U: hz = 48000U; break;
        case 0x6U: hz = 88200U; break;
        case 0x7U: hz = 96000U; break;
        case 0x8U: hz = 176400U; break;
        case 0x9U: hz = 192000U; break;
        case 0xAU: hz = 24000U; break;
        default: hz = 0U; break;
        }
        return hz;
    }
    """,
    harness_body="\n".join([f"HX_U(avtp_aaf_nsr_to_hz(0x{code:X}U), {hz}U);" for code, hz in NSR.items()]
                           + ["HX_U(avtp_aaf_nsr_to_hz(0x0U), 0U);", "HX_U(avtp_aaf_nsr_to_hz(0xBU), 0U);",
                              "HX_U(avtp_aaf_nsr_to_hz(0xFFU), 0U);"]),
)

FAMILY.add(
    "aaf-data-length", "medium",
    ask="""Compute the stream_data_length of an AAF PCM PDU: channels x frames x the sample container size
    of the format - 4 octets for FLOAT_32BIT (0x01) and INT_32BIT (0x02), 3 for INT_24BIT (0x03) and 2
    for INT_16BIT (0x04). Return 0 for any other format code or when the length does not fit in 16
    bits.""",
    signature="uint16_t avtp_aaf_data_length(uint8_t format, uint16_t channels, uint16_t frames)",
    reference=r"""
    #include <stdint.h>

    #define AAF_FORMAT_FLOAT_32BIT 0x01U
    #define AAF_FORMAT_INT_32BIT   0x02U
    #define AAF_FORMAT_INT_24BIT   0x03U
    #define AAF_FORMAT_INT_16BIT   0x04U

    /**
     * @brief Payload length of an AAF PCM PDU.
     * @param format AAF format code.
     * @param channels Channels per frame.
     * @param frames Sample frames in the PDU.
     * @return stream_data_length in octets, or 0 for an unknown format or a length above 65535.
     */
    uint16_t avtp_aaf_data_length(uint8_t format, uint16_t channels, uint16_t frames)
    {
        uint32_t sample_octets;
        uint32_t length = 0U;
        switch (format) {
        case AAF_FORMAT_FLOAT_32BIT:
        case AAF_FORMAT_INT_32BIT:
            sample_octets = 4U;
            break;
        case AAF_FORMAT_INT_24BIT:
            sample_octets = 3U;
            break;
        case AAF_FORMAT_INT_16BIT:
            sample_octets = 2U;
            break;
        default:
            sample_octets = 0U;
            break;
        }
        if (sample_octets > 0U) {
            uint64_t total = (uint64_t)channels * (uint64_t)frames * (uint64_t)sample_octets;
            if (total <= 0xFFFFU) {
                length = (uint32_t)total;
            }
        }
        return (uint16_t)length;
    }
    """,
    harness_body=r"""
    HX_U(avtp_aaf_data_length(0x04U, 2U, 6U), 24U);
    HX_U(avtp_aaf_data_length(0x03U, 8U, 6U), 144U);
    HX_U(avtp_aaf_data_length(0x02U, 8U, 12U), 384U);
    HX_U(avtp_aaf_data_length(0x01U, 1U, 1U), 4U);
    HX_U(avtp_aaf_data_length(0x05U, 2U, 6U), 0U);
    HX_U(avtp_aaf_data_length(0x00U, 2U, 6U), 0U);
    HX_U(avtp_aaf_data_length(0x04U, 256U, 128U), 0U);
    HX_U(avtp_aaf_data_length(0x04U, 1U, 32767U), 65534U);
    HX_U(avtp_aaf_data_length(0x02U, 0xFFFFU, 0xFFFFU), 0U);
    """,
)

FAMILY.add(
    "sequence-lost", "easy",
    ask="""AVTP sequence_num is an 8-bit counter that increments per PDU and wraps. Given the sequence
    number the listener expected next and the one it received, return how many PDUs were lost in
    between (0 if the received one is the expected one).""",
    signature="uint8_t avtp_seq_lost(uint8_t expected, uint8_t received)",
    reference=r"""
    #include <stdint.h>

    /**
     * @brief Number of AVTP PDUs lost before the received one.
     * @param expected Sequence number expected next.
     * @param received Sequence number received.
     * @return (received - expected) modulo 256.
     */
    uint8_t avtp_seq_lost(uint8_t expected, uint8_t received)
    {
        return (uint8_t)((uint32_t)received - (uint32_t)expected);
    }
    """,
    harness_body=r"""
    HX_U(avtp_seq_lost(10U, 10U), 0U);
    HX_U(avtp_seq_lost(10U, 13U), 3U);
    HX_U(avtp_seq_lost(254U, 1U), 3U);
    HX_U(avtp_seq_lost(255U, 0U), 1U);
    HX_U(avtp_seq_lost(1U, 0U), 255U);
    """,
)

PRESENTATION = [(0, 0, 2000000), (1, 0, 2000000), (1700000000, 123456789, 2000000), (4, 294967295, 1),
                (281474976710655, 999999999, 50000000)]

FAMILY.add(
    "presentation-time", "medium",
    ask="""A talker stamps each PDU with its presentation time: the current gPTP time plus the maximum
    transit time, expressed as the lower 32 bits of the gPTP time in nanoseconds (it wraps about every
    4.29 s). Given the gPTP time as 48-bit seconds and nanoseconds (below 1e9) and the transit time in
    ns, return the avtp_timestamp.""",
    signature="uint32_t avtp_presentation_time(uint64_t gptp_sec, uint32_t gptp_ns, uint32_t max_transit_ns)",
    facts={"avtp_timestamp_wrap": None, "ptp_ns_per_second": "AVTP_NS_PER_SEC"},
    defines=[("AVTP_NS_PER_SEC", "nanoseconds per second")],
    reference=r"""
    #include <stdint.h>

    #define AVTP_NS_PER_SEC 1000000000ULL

    /**
     * @brief avtp_timestamp of a PDU presented max_transit_ns after the given gPTP time.
     * @param gptp_sec gPTP seconds (48 bits).
     * @param gptp_ns gPTP nanoseconds (< 1e9).
     * @param max_transit_ns Maximum transit time in ns.
     * @return Lower 32 bits of (gPTP time in ns + transit time).
     */
    uint32_t avtp_presentation_time(uint64_t gptp_sec, uint32_t gptp_ns, uint32_t max_transit_ns)
    {
        /* unsigned arithmetic wraps modulo 2^64; only the low 32 bits are kept */
        uint64_t ns = (gptp_sec * AVTP_NS_PER_SEC) + (uint64_t)gptp_ns + (uint64_t)max_transit_ns;
        return (uint32_t)(ns & 0xFFFFFFFFU);
    }
    """,
    harness_body="\n".join(
        f"HX_U(avtp_presentation_time({s}ULL, {n}U, {t}U), {wrap32(s * NS + n + t)}U);" for s, n, t in PRESENTATION),
)

BEFORE = [(0, 1, True), (1, 0, False), (5, 5, False), (0xFFFFFFF0, 0x10, True), (0x10, 0xFFFFFFF0, False),
          (0, 0x7FFFFFFF, True), (0, 0x80000000, False), (0x80000000, 0, False), (0x80000001, 0, True)]

FAMILY.add(
    "timestamp-before", "medium",
    ask="""The 32-bit avtp_timestamp wraps around, so a plain comparison fails near the wrap. Decide whether
    timestamp a lies strictly before timestamp b, treating them as points on a circle: a is before b if
    b is 1 to 2^31 - 1 ns ahead of a modulo 2^32.""",
    signature="bool avtp_ts_before(uint32_t a, uint32_t b)",
    facts={"avtp_timestamp_wrap": None},
    reference=r"""
    #include <stdbool.h>
    #include <stdint.h>

    /**
     * @brief Wrap-aware ordering of two avtp_timestamp values.
     * @param a First timestamp, ns modulo 2^32.
     * @param b Second timestamp, ns modulo 2^32.
     * @return true if b - a (mod 2^32) is in 1..2^31 - 1.
     */
    bool avtp_ts_before(uint32_t a, uint32_t b)
    {
        uint32_t ahead = b - a;
        return (ahead != 0U) && (ahead < 0x80000000U);
    }
    """,
    harness_body="\n".join(f"HX_T({'' if r else '!'}avtp_ts_before(0x{a:X}U, 0x{b:X}U));" for a, b, r in BEFORE),
)


def _diff32(later: int, earlier: int) -> int:
    d = (later - earlier) % 2**32
    return d - 2**32 if d >= 2**31 else d


DIFFS = [(1000, 400), (400, 1000), (0x10, 0xFFFFFFF0), (0xFFFFFFF0, 0x10), (0x80000000, 0), (0x7FFFFFFF, 0), (7, 7)]

FAMILY.add(
    "timestamp-diff", "medium",
    ask="""Compute the signed distance in nanoseconds between two wrapping 32-bit avtp_timestamp values
    (later - earlier modulo 2^32, interpreted as two's complement), e.g. to measure how early a PDU
    arrived before its presentation time. A distance of exactly 2^31 is reported as INT32_MIN. Do not
    convert an out-of-range unsigned value to int32_t directly.""",
    signature="int32_t avtp_ts_diff_ns(uint32_t later, uint32_t earlier)",
    facts={"avtp_timestamp_wrap": None},
    reference=r"""
    #include <stdint.h>

    /**
     * @brief Signed, wrap-aware difference of two avtp_timestamp values.
     * @param later Timestamp expected to be later, ns modulo 2^32.
     * @param earlier Timestamp expected to be earlier, ns modulo 2^32.
     * @return (later - earlier) mod 2^32 as a signed 32-bit value.
     */
    int32_t avtp_ts_diff_ns(uint32_t later, uint32_t earlier)
    {
        uint32_t distance = later - earlier;
        int32_t signed_distance;
        if (distance <= (uint32_t)INT32_MAX) {
            signed_distance = (int32_t)distance;
        } else {
            uint32_t complement = ~distance; /* 2^32 - 1 - distance, below 2^31 here */
            signed_distance = -(int32_t)complement - 1;
        }
        return signed_distance;
    }
    """,
    harness_body="\n".join(
        f"HX_I(avtp_ts_diff_ns(0x{a:X}U, 0x{b:X}U), {'INT32_MIN' if _diff32(a, b) == -2**31 else _diff32(a, b)});"
        for a, b in DIFFS),
)

FAMILY.add(
    "crf-parse", "medium",
    ask="""Decode the clock reference header of a received CRF AVTPDU for the media clock recovery: check
    that octet 0 is the CRF subtype and that at least the 20-octet CRF header is present, then return
    the 3-bit pull field (top bits of octet 12) and the 29-bit base_frequency in Hz (remaining bits of
    octets 12-15, big-endian). Return false and write nothing on a mismatch or NULL pointer.""",
    signature="bool avtp_crf_parse(const uint8_t *pdu, size_t len, uint8_t *pull_code, uint32_t *base_frequency)",
    facts={"avtp_subtype_crf": "AVTP_SUBTYPE_CRF"},
    defines=[("AVTP_SUBTYPE_CRF", "the CRF subtype")],
    reference=r"""
    #include <stdbool.h>
    #include <stddef.h>
    #include <stdint.h>

    #define AVTP_SUBTYPE_CRF 0x04U
    #define AVTP_CRF_HEADER_LEN 20U

    /**
     * @brief Read pull and base_frequency from a CRF AVTPDU.
     * @param pdu AVTPDU, starting at the subtype octet.
     * @param len Length of pdu in octets.
     * @param pull_code Receives the pull multiplier code (3 bits).
     * @param base_frequency Receives the base frequency in Hz (29 bits).
     * @return true for a CRF PDU with a complete header, false otherwise.
     */
    bool avtp_crf_parse(const uint8_t *pdu, size_t len, uint8_t *pull_code, uint32_t *base_frequency)
    {
        bool ok = false;
        if ((pdu != NULL) && (pull_code != NULL) && (base_frequency != NULL) && (len >= AVTP_CRF_HEADER_LEN) &&
            (pdu[0] == AVTP_SUBTYPE_CRF)) {
            uint32_t word = ((uint32_t)pdu[12] << 24U) | ((uint32_t)pdu[13] << 16U) |
                            ((uint32_t)pdu[14] << 8U) | (uint32_t)pdu[15];
            *pull_code = (uint8_t)(word >> 29U);
            *base_frequency = word & 0x1FFFFFFFU;
            ok = true;
        }
        return ok;
    }
    """,
    harness_body=r"""
    uint8_t p[28];
    uint8_t pull = 0xEEU;
    uint32_t freq = 0U;
    memset(p, 0, sizeof p);
    p[0] = 0x04U; p[1] = 0x80U;
    p[12] = 0x00U; p[13] = 0x00U; p[14] = 0xBBU; p[15] = 0x80U;
    HX_T(avtp_crf_parse(p, 20U, &pull, &freq));
    HX_U(pull, 0U);
    HX_U(freq, 48000U);
    p[12] = 0x20U; p[13] = 0x00U; p[14] = 0xACU; p[15] = 0x44U;
    HX_T(avtp_crf_parse(p, 28U, &pull, &freq));
    HX_U(pull, 1U);
    HX_U(freq, 44100U);
    p[12] = 0xFFU; p[13] = 0xFFU; p[14] = 0xFFU; p[15] = 0xFFU;
    HX_T(avtp_crf_parse(p, 28U, &pull, &freq));
    HX_U(pull, 7U);
    HX_U(freq, 0x1FFFFFFFU);
    HX_T(!avtp_crf_parse(p, 19U, &pull, &freq));
    p[0] = 0x02U; freq = 5U;
    HX_T(!avtp_crf_parse(p, 28U, &pull, &freq));
    HX_U(freq, 5U);
    """,
)

FAMILY.add(
    "crf-timestamps", "hard",
    ask="""Extract the media clock timestamps carried by a CRF AVTPDU. After the 20-octet CRF header
    (octet 0 subtype, octets 16-17 crf_data_length in octets, big-endian) follow crf_data_length / 8
    timestamps of 64 bits each, big-endian. Copy at most max of them to out and return how many were
    copied. Return 0 if a pointer is NULL, the subtype is not CRF, the data length is not a multiple of
    8 or the buffer is shorter than the header plus the data length.""",
    signature="size_t avtp_crf_timestamps(const uint8_t *pdu, size_t len, uint64_t *out, size_t max)",
    facts={"avtp_subtype_crf": "AVTP_SUBTYPE_CRF"},
    defines=[("AVTP_SUBTYPE_CRF", "the CRF subtype")],
    reference=r"""
    #include <stddef.h>
    #include <stdint.h>

    #define AVTP_SUBTYPE_CRF 0x04U
    #define AVTP_CRF_HEADER_LEN 20U
    #define CRF_TIMESTAMP_LEN 8U

    /**
     * @brief Copy the 64-bit timestamps out of a CRF AVTPDU.
     * @param pdu AVTPDU, starting at the subtype octet.
     * @param len Length of pdu in octets.
     * @param out Destination for the timestamps.
     * @param max Capacity of out, in timestamps.
     * @return Number of timestamps copied, 0 for an invalid PDU.
     */
    size_t avtp_crf_timestamps(const uint8_t *pdu, size_t len, uint64_t *out, size_t max)
    {
        size_t copied = 0U;
        if ((pdu != NULL) && (out != NULL) && (len >= AVTP_CRF_HEADER_LEN) && (pdu[0] == AVTP_SUBTYPE_CRF)) {
            size_t data_len = ((size_t)pdu[16] << 8U) | (size_t)pdu[17];
            if (((data_len % CRF_TIMESTAMP_LEN) == 0U) && (data_len <= (len - AVTP_CRF_HEADER_LEN))) {
                size_t count = data_len / CRF_TIMESTAMP_LEN;
                size_t i;
                if (count > max) {
                    count = max;
                }
                for (i = 0U; i < count; i++) {
                    const uint8_t *p = &pdu[AVTP_CRF_HEADER_LEN + (i * CRF_TIMESTAMP_LEN)];
                    uint64_t value = 0U;
                    uint32_t k;
                    for (k = 0U; k < CRF_TIMESTAMP_LEN; k++) {
                        value = (value << 8U) | (uint64_t)p[k];
                    }
                    out[i] = value;
                }
                copied = count;
            }
        }
        return copied;
    }
    """,
    harness_body=r"""
    uint8_t p[48];
    uint64_t ts[4] = {0U, 0U, 0U, 0U};
    size_t i;
    memset(p, 0, sizeof p);
    p[0] = 0x04U; p[17] = 24U;
    for (i = 0U; i < 24U; i++) {
        p[20U + i] = (uint8_t)(0x10U + i);
    }
    HX_U(avtp_crf_timestamps(p, 44U, ts, 4U), 3U);
    HX_U(ts[0], 0x1011121314151617ULL);
    HX_U(ts[1], 0x18191A1B1C1D1E1FULL);
    HX_U(ts[2], 0x2021222324252627ULL);
    HX_U(ts[3], 0U);
    HX_U(avtp_crf_timestamps(p, 44U, ts, 1U), 1U);
    HX_U(avtp_crf_timestamps(p, 43U, ts, 4U), 0U);
    p[17] = 12U;
    HX_U(avtp_crf_timestamps(p, 44U, ts, 4U), 0U);
    p[17] = 0U;
    HX_U(avtp_crf_timestamps(p, 20U, ts, 4U), 0U);
    p[17] = 8U; p[0] = 0x02U;
    HX_U(avtp_crf_timestamps(p, 44U, ts, 4U), 0U);
    """,
)

FAMILY.add(
    "is-avtp-frame", "easy",
    ask="""Decide whether a received Ethernet frame (starting at the destination MAC) carries an AVTPDU:
    either its EtherType at offset 12 is the AVTP EtherType, or a C-tag sits at offset 12 and the
    EtherType behind it (offset 16) is AVTP. The frame must also contain at least the subtype octet
    after the EtherType. NULL is never an AVTP frame.""",
    signature="bool avtp_is_avtp_frame(const uint8_t *frame, size_t len)",
    facts={"ethertype_avtp": "AVTP_ETHERTYPE", "ethertype_ctag": "VLAN_ETHERTYPE"},
    defines=[("AVTP_ETHERTYPE", "the IEEE 1722 EtherType"), ("VLAN_ETHERTYPE", "the 802.1Q C-tag TPID")],
    reference=r"""
    #include <stdbool.h>
    #include <stddef.h>
    #include <stdint.h>

    #define AVTP_ETHERTYPE 0x22F0U
    #define VLAN_ETHERTYPE 0x8100U

    /**
     * @brief Tell whether an Ethernet frame carries AVTP, with or without a C-tag.
     * @param frame Frame, starting at the destination MAC address.
     * @param len Length of the frame in octets.
     * @return true if the (inner) EtherType is AVTP and the subtype octet is present.
     */
    bool avtp_is_avtp_frame(const uint8_t *frame, size_t len)
    {
        bool avtp = false;
        if ((frame != NULL) && (len >= 15U)) {
            uint32_t type = ((uint32_t)frame[12] << 8U) | (uint32_t)frame[13];
            if (type == AVTP_ETHERTYPE) {
                avtp = true;
            } else if ((type == VLAN_ETHERTYPE) && (len >= 19U)) {
                uint32_t inner = ((uint32_t)frame[16] << 8U) | (uint32_t)frame[17];
                avtp = (inner == AVTP_ETHERTYPE);
            } else {
                avtp = false;
            }
        }
        return avtp;
    }
    """,
    harness_body=r"""
    uint8_t f[64];
    memset(f, 0, sizeof f);
    f[12] = 0x22U; f[13] = 0xF0U;
    HX_T(avtp_is_avtp_frame(f, 64U));
    HX_T(avtp_is_avtp_frame(f, 15U));
    HX_T(!avtp_is_avtp_frame(f, 14U));
    f[12] = 0x81U; f[13] = 0x00U; f[14] = 0x60U; f[15] = 0x02U; f[16] = 0x22U; f[17] = 0xF0U;
    HX_T(avtp_is_avtp_frame(f, 64U));
    HX_T(!avtp_is_avtp_frame(f, 18U));
    f[17] = 0xEAU;
    HX_T(!avtp_is_avtp_frame(f, 64U));
    f[12] = 0x22U; f[13] = 0xEAU;
    HX_T(!avtp_is_avtp_frame(f, 64U));
    HX_T(!avtp_is_avtp_frame(NULL, 64U));
    """,
)

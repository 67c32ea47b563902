"""Ring buffers and queues for drivers: byte rings with head/tail/count, an overwriting ring, block
copies, free-running indices, a CAN frame queue and a lock-free single-producer/single-consumer ring.
The types are given in the prompts verbatim; the references here start at column 0 so that the type
text can be embedded unchanged."""

from common import Family

FAMILY = Family("ring_buffer", area="UART/CAN driver layer of the body control module")

RB8 = """\
typedef struct {
    uint8_t data[64];
    uint16_t head;  /* index of the next byte to write */
    uint16_t tail;  /* index of the oldest byte */
    uint16_t count; /* number of bytes stored */
} rb8_t;"""

RB8_NOTE = """The ring holds 64 bytes; head and tail wrap from 63 to 0."""

FAMILY.add(
    "rb8-push", "easy",
    ask=f"""Append one received byte to the UART receive ring. {RB8_NOTE} Return false and change nothing
    if the ring is full or the pointer is NULL.""",
    signature="bool rb8_push(rb8_t *rb, uint8_t value)",
    types=RB8,
    reference=f"""\
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RB8_SIZE 64U

{RB8}

/**
 * @brief Append a byte to a ring buffer.
 * @param rb The ring buffer.
 * @param value The byte to store.
 * @return true if stored, false if the ring is full or rb is NULL.
 */
bool rb8_push(rb8_t *rb, uint8_t value)
{{
    bool stored = false;
    if ((rb != NULL) && (rb->count < RB8_SIZE)) {{
        rb->data[rb->head] = value;
        rb->head = (uint16_t)((rb->head + 1U) % RB8_SIZE);
        rb->count++;
        stored = true;
    }}
    return stored;
}}
""",
    harness_body=r"""
    rb8_t rb;
    uint16_t i;
    memset(&rb, 0, sizeof rb);
    rb.head = 62U;
    rb.tail = 62U;
    HX_T(rb8_push(&rb, 0x11U));
    HX_T(rb8_push(&rb, 0x22U));
    HX_T(rb8_push(&rb, 0x33U));
    HX_U(rb.data[62], 0x11U);
    HX_U(rb.data[63], 0x22U);
    HX_U(rb.data[0], 0x33U);
    HX_U(rb.head, 1U);
    HX_U(rb.tail, 62U);
    HX_U(rb.count, 3U);
    for (i = 3U; i < 64U; i++) {
        (void)rb8_push(&rb, (uint8_t)i);
    }
    HX_U(rb.count, 64U);
    HX_T(!rb8_push(&rb, 0xFFU));
    HX_U(rb.count, 64U);
    HX_U(rb.head, 62U);
    HX_U(rb.data[61], 63U);
    HX_T(!rb8_push(NULL, 1U));
    """,
)

FAMILY.add(
    "rb8-pop", "easy",
    ask=f"""Remove the oldest byte from the UART receive ring and return it through value. {RB8_NOTE} Return
    false and change nothing if the ring is empty or a pointer is NULL.""",
    signature="bool rb8_pop(rb8_t *rb, uint8_t *value)",
    types=RB8,
    reference=f"""\
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RB8_SIZE 64U

{RB8}

/**
 * @brief Remove the oldest byte from a ring buffer.
 * @param rb The ring buffer.
 * @param value Receives the byte.
 * @return true if a byte was removed, false if the ring is empty or a pointer is NULL.
 */
bool rb8_pop(rb8_t *rb, uint8_t *value)
{{
    bool taken = false;
    if ((rb != NULL) && (value != NULL) && (rb->count > 0U)) {{
        *value = rb->data[rb->tail];
        rb->tail = (uint16_t)((rb->tail + 1U) % RB8_SIZE);
        rb->count--;
        taken = true;
    }}
    return taken;
}}
""",
    harness_body=r"""
    rb8_t rb;
    uint8_t v = 0U;
    memset(&rb, 0, sizeof rb);
    rb.tail = 63U; rb.count = 3U; rb.head = 2U;
    rb.data[63] = 0xA1U; rb.data[0] = 0xA2U; rb.data[1] = 0xA3U;
    HX_T(rb8_pop(&rb, &v));
    HX_U(v, 0xA1U);
    HX_U(rb.tail, 0U);
    HX_T(rb8_pop(&rb, &v));
    HX_U(v, 0xA2U);
    HX_T(rb8_pop(&rb, &v));
    HX_U(v, 0xA3U);
    HX_U(rb.count, 0U);
    HX_U(rb.tail, 2U);
    v = 0x55U;
    HX_T(!rb8_pop(&rb, &v));
    HX_U(v, 0x55U);
    HX_U(rb.tail, 2U);
    rb.count = 1U;
    HX_T(!rb8_pop(&rb, NULL));
    HX_U(rb.count, 1U);
    """,
)

FAMILY.add(
    "rb8-write-block", "medium",
    ask=f"""Copy a block of bytes into the transmit ring in one call (e.g. a whole diagnostic response).
    {RB8_NOTE} Copy as many bytes as fit, in order, and return how many were copied; a NULL pointer
    copies nothing.""",
    signature="uint16_t rb8_write(rb8_t *rb, const uint8_t *src, uint16_t len)",
    types=RB8,
    reference=f"""\
#include <stddef.h>
#include <stdint.h>

#define RB8_SIZE 64U

{RB8}

/**
 * @brief Copy bytes into a ring buffer, as many as fit.
 * @param rb The ring buffer.
 * @param src Bytes to copy.
 * @param len Number of bytes in src.
 * @return Number of bytes copied.
 */
uint16_t rb8_write(rb8_t *rb, const uint8_t *src, uint16_t len)
{{
    uint16_t copied = 0U;
    if ((rb != NULL) && (src != NULL)) {{
        while ((copied < len) && (rb->count < RB8_SIZE)) {{
            rb->data[rb->head] = src[copied];
            rb->head = (uint16_t)((rb->head + 1U) % RB8_SIZE);
            rb->count++;
            copied++;
        }}
    }}
    return copied;
}}
""",
    harness_body=r"""
    rb8_t rb;
    uint8_t src[80];
    uint16_t i;
    for (i = 0U; i < 80U; i++) {
        src[i] = (uint8_t)(i + 1U);
    }
    memset(&rb, 0, sizeof rb);
    rb.head = 60U; rb.tail = 60U;
    HX_U(rb8_write(&rb, src, 10U), 10U);
    HX_U(rb.head, 6U);
    HX_U(rb.count, 10U);
    HX_U(rb.data[63], 4U);
    HX_U(rb.data[0], 5U);
    HX_U(rb.data[5], 10U);
    HX_U(rb8_write(&rb, src, 80U), 54U);
    HX_U(rb.count, 64U);
    HX_U(rb.head, 60U);
    HX_U(rb.data[59], 54U);
    HX_U(rb8_write(&rb, src, 5U), 0U);
    HX_U(rb8_write(&rb, NULL, 5U), 0U);
    """,
)

FAMILY.add(
    "rb8-read-block", "medium",
    ask=f"""Drain up to max bytes from the receive ring into a caller buffer, oldest first, and return how
    many were copied. {RB8_NOTE} NULL pointers copy nothing.""",
    signature="uint16_t rb8_read(rb8_t *rb, uint8_t *dst, uint16_t max)",
    types=RB8,
    reference=f"""\
#include <stddef.h>
#include <stdint.h>

#define RB8_SIZE 64U

{RB8}

/**
 * @brief Move up to max bytes out of a ring buffer.
 * @param rb The ring buffer.
 * @param dst Destination buffer.
 * @param max Capacity of dst in bytes.
 * @return Number of bytes copied.
 */
uint16_t rb8_read(rb8_t *rb, uint8_t *dst, uint16_t max)
{{
    uint16_t copied = 0U;
    if ((rb != NULL) && (dst != NULL)) {{
        while ((copied < max) && (rb->count > 0U)) {{
            dst[copied] = rb->data[rb->tail];
            rb->tail = (uint16_t)((rb->tail + 1U) % RB8_SIZE);
            rb->count--;
            copied++;
        }}
    }}
    return copied;
}}
""",
    harness_body=r"""
    rb8_t rb;
    uint8_t dst[8];
    static const uint8_t first[4] = {0x10U, 0x11U, 0x12U, 0x13U};
    static const uint8_t rest[8] = {0x14U, 0x15U, 0xEEU, 0xEEU, 0xEEU, 0xEEU, 0xEEU, 0xEEU};
    uint16_t i;
    memset(&rb, 0, sizeof rb);
    rb.tail = 61U; rb.count = 6U; rb.head = 3U;
    for (i = 0U; i < 6U; i++) {
        rb.data[(61U + i) % 64U] = (uint8_t)(0x10U + i);
    }
    memset(dst, 0xEE, sizeof dst);
    HX_U(rb8_read(&rb, dst, 4U), 4U);
    HX_MEM(dst, first, 4U);
    HX_U(rb.tail, 1U);
    HX_U(rb.count, 2U);
    memset(dst, 0xEE, sizeof dst);
    HX_U(rb8_read(&rb, dst, 8U), 2U);
    HX_MEM(dst, rest, 8U);
    HX_U(rb.tail, 3U);
    HX_U(rb8_read(&rb, dst, 8U), 0U);
    rb.count = 1U;
    HX_U(rb8_read(&rb, NULL, 8U), 0U);
    HX_U(rb.count, 1U);
    """,
)

FAMILY.add(
    "rb8-discard", "easy",
    ask=f"""After a framing error the protocol layer throws away the n oldest bytes of the receive ring.
    {RB8_NOTE} Discard min(n, stored) bytes and return how many were discarded (0 for NULL).""",
    signature="uint16_t rb8_discard(rb8_t *rb, uint16_t n)",
    types=RB8,
    reference=f"""\
#include <stddef.h>
#include <stdint.h>

#define RB8_SIZE 64U

{RB8}

/**
 * @brief Drop the oldest bytes of a ring buffer.
 * @param rb The ring buffer.
 * @param n Number of bytes to drop.
 * @return Number of bytes actually dropped.
 */
uint16_t rb8_discard(rb8_t *rb, uint16_t n)
{{
    uint16_t dropped = 0U;
    if (rb != NULL) {{
        dropped = (n < rb->count) ? n : rb->count;
        rb->tail = (uint16_t)((rb->tail + dropped) % RB8_SIZE);
        rb->count = (uint16_t)(rb->count - dropped);
    }}
    return dropped;
}}
""",
    harness_body=r"""
    rb8_t rb;
    memset(&rb, 0, sizeof rb);
    rb.tail = 60U; rb.count = 10U; rb.head = 6U;
    HX_U(rb8_discard(&rb, 3U), 3U);
    HX_U(rb.tail, 63U);
    HX_U(rb.count, 7U);
    HX_U(rb8_discard(&rb, 2U), 2U);
    HX_U(rb.tail, 1U);
    HX_U(rb8_discard(&rb, 100U), 5U);
    HX_U(rb.tail, 6U);
    HX_U(rb.count, 0U);
    HX_U(rb8_discard(&rb, 1U), 0U);
    HX_U(rb8_discard(NULL, 1U), 0U);
    """,
)

FAMILY.add(
    "rb8-find", "medium",
    ask=f"""The line-based diagnostic protocol needs to know whether a complete line has arrived. Search the
    receive ring, from the oldest byte, for the first byte equal to value and return its position
    counted from the oldest byte (0 = oldest), or -1 if it is not stored (or rb is NULL). The ring is
    not modified. {RB8_NOTE}""",
    signature="int32_t rb8_find(const rb8_t *rb, uint8_t value)",
    types=RB8,
    reference=f"""\
#include <stddef.h>
#include <stdint.h>

#define RB8_SIZE 64U

{RB8}

/**
 * @brief Position of the first occurrence of a byte in a ring buffer.
 * @param rb The ring buffer.
 * @param value The byte to look for.
 * @return Offset from the oldest byte, or -1 if not found.
 */
int32_t rb8_find(const rb8_t *rb, uint8_t value)
{{
    int32_t found = -1;
    if (rb != NULL) {{
        uint16_t i;
        for (i = 0U; (i < rb->count) && (found < 0); i++) {{
            if (rb->data[(rb->tail + i) % RB8_SIZE] == value) {{
                found = (int32_t)i;
            }}
        }}
    }}
    return found;
}}
""",
    harness_body=r"""
    rb8_t rb;
    uint16_t i;
    memset(&rb, 0, sizeof rb);
    rb.tail = 60U; rb.count = 8U; rb.head = 4U;
    for (i = 0U; i < 8U; i++) {
        rb.data[(60U + i) % 64U] = (uint8_t)('a' + i);
    }
    rb.data[1] = '\n';
    rb.data[10] = 'z';
    HX_I(rb8_find(&rb, 'a'), 0);
    HX_I(rb8_find(&rb, 'd'), 3);
    HX_I(rb8_find(&rb, '\n'), 5);
    HX_I(rb8_find(&rb, 'h'), 7);
    HX_I(rb8_find(&rb, 'z'), -1);
    rb.data[63] = '\n';
    HX_I(rb8_find(&rb, '\n'), 3);
    HX_U(rb.count, 8U);
    HX_I(rb8_find(NULL, 'a'), -1);
    """,
)

RB16 = """\
typedef struct {
    uint16_t data[8];
    uint8_t head;  /* index of the next slot to write */
    uint8_t count; /* samples stored, 0..8 */
} rb16_t;"""

FAMILY.add(
    "rb16-overwrite", "medium",
    ask="""Keep the 8 most recent ADC samples for a moving average: push a sample into the ring, and when
    the ring is already full, overwrite the oldest sample instead of rejecting the new one. The oldest
    sample is at index (head - count) modulo 8. A NULL ring is ignored.""",
    signature="void rb16_push_overwrite(rb16_t *rb, uint16_t value)",
    types=RB16,
    reference=f"""\
#include <stddef.h>
#include <stdint.h>

#define RB16_SIZE 8U

{RB16}

/**
 * @brief Push a sample, overwriting the oldest one when the ring is full.
 * @param rb The ring buffer.
 * @param value The sample.
 */
void rb16_push_overwrite(rb16_t *rb, uint16_t value)
{{
    if (rb != NULL) {{
        /* when full, head already points at the oldest sample */
        rb->data[rb->head] = value;
        rb->head = (uint8_t)((rb->head + 1U) % RB16_SIZE);
        if (rb->count < RB16_SIZE) {{
            rb->count++;
        }}
    }}
}}
""",
    harness_body=r"""
    static const uint16_t want[8] = {9U, 10U, 3U, 4U, 5U, 6U, 7U, 8U};
    rb16_t rb;
    uint16_t i;
    memset(&rb, 0, sizeof rb);
    rb16_push_overwrite(&rb, 1U);
    HX_U(rb.count, 1U);
    HX_U(rb.head, 1U);
    HX_U(rb.data[0], 1U);
    for (i = 2U; i <= 10U; i++) {
        rb16_push_overwrite(&rb, i);
    }
    HX_U(rb.count, 8U);
    HX_U(rb.head, 2U);
    HX_MEM(rb.data, want, sizeof want);
    rb16_push_overwrite(NULL, 5U);
    """,
)

RB32 = """\
typedef struct {
    uint32_t data[16];
    uint8_t tail;  /* index of the oldest entry */
    uint8_t count; /* entries stored, 0..16 */
} rb32_t;"""

FAMILY.add(
    "rb32-peek", "medium",
    ask="""Our event log keeps 32-bit timestamps in a 16-entry ring. Read the entry at a logical position
    without removing it: index 0 is the oldest entry (at tail), index count - 1 the newest; physical
    positions wrap from 15 to 0. Return false (value untouched) if index is not below count or a pointer
    is NULL.""",
    signature="bool rb32_peek(const rb32_t *rb, uint8_t index, uint32_t *value)",
    types=RB32,
    reference=f"""\
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RB32_SIZE 16U

{RB32}

/**
 * @brief Read an entry of a ring buffer by age without removing it.
 * @param rb The ring buffer.
 * @param index Logical position, 0 = oldest.
 * @param value Receives the entry.
 * @return true on success, false if index >= count or a pointer is NULL.
 */
bool rb32_peek(const rb32_t *rb, uint8_t index, uint32_t *value)
{{
    bool ok = false;
    if ((rb != NULL) && (value != NULL) && (index < rb->count)) {{
        *value = rb->data[((uint32_t)rb->tail + (uint32_t)index) % RB32_SIZE];
        ok = true;
    }}
    return ok;
}}
""",
    harness_body=r"""
    rb32_t rb;
    uint32_t v = 0U;
    uint32_t i;
    memset(&rb, 0, sizeof rb);
    for (i = 0U; i < 16U; i++) {
        rb.data[i] = 1000U + i;
    }
    rb.tail = 14U; rb.count = 5U;
    HX_T(rb32_peek(&rb, 0U, &v));
    HX_U(v, 1014U);
    HX_T(rb32_peek(&rb, 1U, &v));
    HX_U(v, 1015U);
    HX_T(rb32_peek(&rb, 2U, &v));
    HX_U(v, 1000U);
    HX_T(rb32_peek(&rb, 4U, &v));
    HX_U(v, 1002U);
    HX_T(!rb32_peek(&rb, 5U, &v));
    HX_U(v, 1002U);
    HX_U(rb.count, 5U);
    HX_T(!rb32_peek(&rb, 0U, NULL));
    """,
)

FAMILY.add(
    "free-slots", "easy",
    ask="""Our DMA ring uses free-running 16-bit counters: the producer increments write_count and the
    consumer increments read_count, both wrapping at 2^16, and the number of used slots is their
    difference modulo 2^16. Return the number of free slots for a ring of the given capacity. If the
    counters claim more used slots than the capacity (corruption), return 0.""",
    signature="uint16_t ring_free_slots(uint16_t write_count, uint16_t read_count, uint16_t capacity)",
    reference="""\
#include <stdint.h>

/**
 * @brief Free slots of a ring with free-running 16-bit counters.
 * @param write_count Total entries written, modulo 2^16.
 * @param read_count Total entries read, modulo 2^16.
 * @param capacity Number of slots in the ring.
 * @return capacity - used, or 0 if the counters are inconsistent.
 */
uint16_t ring_free_slots(uint16_t write_count, uint16_t read_count, uint16_t capacity)
{
    uint16_t used = (uint16_t)(write_count - read_count);
    uint16_t free_slots = 0U;
    if (used <= capacity) {
        free_slots = (uint16_t)(capacity - used);
    }
    return free_slots;
}
""",
    harness_body=r"""
    HX_U(ring_free_slots(0U, 0U, 32U), 32U);
    HX_U(ring_free_slots(10U, 4U, 32U), 26U);
    HX_U(ring_free_slots(3U, 0xFFF0U, 32U), 13U);
    HX_U(ring_free_slots(32U, 0U, 32U), 0U);
    HX_U(ring_free_slots(40U, 0U, 32U), 0U);
    HX_U(ring_free_slots(0U, 10U, 32U), 0U);
    HX_U(ring_free_slots(5U, 5U, 1000U), 1000U);
    """,
)

FAMILY.add(
    "next-index", "easy",
    ask="""Advance an index of a ring whose capacity is not a power of two (e.g. 6 CAN mailboxes): return
    index + 1, wrapping to 0 at capacity, without using the % operator. An index that is already out of
    range, or a zero capacity, gives 0.""",
    signature="uint32_t ring_next(uint32_t index, uint32_t capacity)",
    reference="""\
#include <stdint.h>

/**
 * @brief Next index of a ring, wrapping at its capacity.
 * @param index Current index, below capacity.
 * @param capacity Number of slots.
 * @return index + 1, or 0 at the wrap, for an invalid index or a zero capacity.
 */
uint32_t ring_next(uint32_t index, uint32_t capacity)
{
    uint32_t next = 0U;
    if ((capacity > 0U) && (index < (capacity - 1U))) {
        next = index + 1U;
    }
    return next;
}
""",
    harness_body=r"""
    HX_U(ring_next(0U, 6U), 1U);
    HX_U(ring_next(4U, 6U), 5U);
    HX_U(ring_next(5U, 6U), 0U);
    HX_U(ring_next(6U, 6U), 0U);
    HX_U(ring_next(0U, 1U), 0U);
    HX_U(ring_next(3U, 0U), 0U);
    HX_U(ring_next(0xFFFFFFFDU, 0xFFFFFFFFU), 0xFFFFFFFEU);
    """,
)

CAN_TYPES = """\
typedef struct {
    uint32_t id;     /* 11-bit or 29-bit identifier */
    uint8_t dlc;     /* data length, 0..8 */
    uint8_t data[8];
} can_frame_t;

typedef struct {
    can_frame_t frames[4];
    uint8_t head;  /* slot of the next frame to write */
    uint8_t count; /* frames stored, 0..4 */
} can_queue_t;"""

FAMILY.add(
    "can-queue-push", "medium",
    ask="""Queue a CAN frame for transmission in a 4-slot queue: copy it into slot head, advance head
    (wrapping from 3 to 0) and count. Reject the frame (return false, queue unchanged) if the queue is
    full, a pointer is NULL, the DLC is above 8 or the identifier does not fit in 29 bits.""",
    signature="bool can_queue_push(can_queue_t *q, const can_frame_t *frame)",
    types=CAN_TYPES,
    reference=f"""\
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CAN_QUEUE_SIZE 4U
#define CAN_MAX_DLC 8U
#define CAN_EXT_ID_MAX 0x1FFFFFFFU

{CAN_TYPES}

/**
 * @brief Append a CAN frame to a transmit queue.
 * @param q The queue.
 * @param frame The frame to copy into the queue.
 * @return true if queued, false if the queue is full or the frame is invalid.
 */
bool can_queue_push(can_queue_t *q, const can_frame_t *frame)
{{
    bool queued = false;
    if ((q != NULL) && (frame != NULL) && (q->count < CAN_QUEUE_SIZE) && (frame->dlc <= CAN_MAX_DLC) &&
        (frame->id <= CAN_EXT_ID_MAX)) {{
        q->frames[q->head] = *frame;
        q->head = (uint8_t)((q->head + 1U) % CAN_QUEUE_SIZE);
        q->count++;
        queued = true;
    }}
    return queued;
}}
""",
    harness_body=r"""
    can_queue_t q;
    can_frame_t f;
    memset(&q, 0, sizeof q);
    memset(&f, 0, sizeof f);
    q.head = 3U;
    f.id = 0x123U; f.dlc = 2U; f.data[0] = 0xDEU; f.data[1] = 0xADU;
    HX_T(can_queue_push(&q, &f));
    HX_U(q.frames[3].id, 0x123U);
    HX_U(q.frames[3].dlc, 2U);
    HX_U(q.frames[3].data[1], 0xADU);
    HX_U(q.head, 0U);
    HX_U(q.count, 1U);
    f.id = 0x1FFFFFFFU; f.dlc = 8U; f.data[7] = 0x77U;
    HX_T(can_queue_push(&q, &f));
    HX_U(q.frames[0].data[7], 0x77U);
    f.dlc = 9U;
    HX_T(!can_queue_push(&q, &f));
    f.dlc = 1U; f.id = 0x20000000U;
    HX_T(!can_queue_push(&q, &f));
    f.id = 7U;
    HX_T(can_queue_push(&q, &f));
    HX_T(can_queue_push(&q, &f));
    HX_U(q.count, 4U);
    HX_T(!can_queue_push(&q, &f));
    HX_U(q.head, 3U);
    HX_T(!can_queue_push(NULL, &f));
    """,
)

SPSC = """\
typedef struct {
    uint8_t buf[32];
    volatile uint32_t wr; /* free-running count of bytes written; changed by the producer only */
    volatile uint32_t rd; /* free-running count of bytes read; changed by the consumer only */
} spsc32_t;"""

FAMILY.add(
    "spsc-put", "hard",
    ask="""Implement the producer side of a lock-free single-producer/single-consumer byte queue shared
    between an interrupt handler and the main loop. The counters run freely and wrap at 2^32; the queue
    is full when wr - rd (unsigned) equals 32, the byte goes to buf[wr % 32] (use a mask), and wr is
    advanced only after the byte is stored. Return false if the queue is full or the pointer is NULL.""",
    signature="bool spsc_put(spsc32_t *q, uint8_t byte)",
    types=SPSC,
    reference=f"""\
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SPSC_SIZE 32U
#define SPSC_MASK (SPSC_SIZE - 1U)

{SPSC}

/**
 * @brief Producer side of a single-producer/single-consumer byte queue.
 * @param q The queue.
 * @param byte The byte to enqueue.
 * @return true if enqueued, false if the queue is full or q is NULL.
 */
bool spsc_put(spsc32_t *q, uint8_t byte)
{{
    bool stored = false;
    if (q != NULL) {{
        uint32_t wr = q->wr;
        uint32_t rd = q->rd;
        if ((wr - rd) < SPSC_SIZE) {{
            q->buf[wr & SPSC_MASK] = byte;
            q->wr = wr + 1U; /* publish only after the byte is in place */
            stored = true;
        }}
    }}
    return stored;
}}
""",
    harness_body=r"""
    spsc32_t q;
    uint32_t i;
    bool all = true;
    memset(&q, 0, sizeof q);
    q.wr = 0xFFFFFFFEU;
    q.rd = 0xFFFFFFFEU;
    HX_T(spsc_put(&q, 0x41U));
    HX_U(q.buf[30], 0x41U);
    HX_U(q.wr, 0xFFFFFFFFU);
    HX_T(spsc_put(&q, 0x42U));
    HX_U(q.buf[31], 0x42U);
    HX_U(q.wr, 0U);
    for (i = 2U; i < 32U; i++) {
        all = all && spsc_put(&q, (uint8_t)i);
    }
    HX_T(all);
    HX_U(q.wr, 30U);
    HX_T(!spsc_put(&q, 0x99U));
    HX_U(q.wr, 30U);
    q.rd = q.rd + 1U;
    HX_T(spsc_put(&q, 0x99U));
    HX_U(q.buf[30], 0x99U);
    HX_T(!spsc_put(NULL, 1U));
    """,
)

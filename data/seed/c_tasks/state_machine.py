"""Event-driven state machines of body, powertrain and network ECUs: transition functions over enums
given in the prompt (door locks, CAN network management, window lift, gPTP peer-delay requester, HV
contactor precharge, UDS sessions) and stepped machines with state structs (flasher, frame parser).
Where a machine simplifies a standard, the prompt gives the full transition table."""

from common import Family

FAMILY = Family("state_machine", area="body and powertrain ECU application software")

# --- door lock ---------------------------------------------------------------------------------------

DOOR_T = """\
typedef enum {
    DOOR_UNLOCKED = 0,
    DOOR_LOCKED = 1,
    DOOR_DOUBLE_LOCKED = 2
} door_state_t;

typedef enum {
    DOOR_EV_UNLOCK = 0,
    DOOR_EV_LOCK = 1,
    DOOR_EV_DOUBLE_LOCK = 2,
    DOOR_EV_CRASH = 3
} door_event_t;"""

FAMILY.add(
    "door-lock", "medium",
    ask="""Implement the central locking transition function. From UNLOCKED, LOCK gives LOCKED and
    DOUBLE_LOCK gives DOUBLE_LOCKED. From LOCKED, UNLOCK gives UNLOCKED and DOUBLE_LOCK gives
    DOUBLE_LOCKED. From DOUBLE_LOCKED, only UNLOCK leaves (to UNLOCKED). A CRASH event unlocks from any
    state. Any other combination keeps the state, and an invalid state value (corrupted RAM) is
    recovered to LOCKED unless the event is CRASH. Use switch statements.""",
    signature="door_state_t door_lock_next(door_state_t state, door_event_t event)",
    types=DOOR_T,
    reference=f"""\
#include <stdint.h>

{DOOR_T}

/**
 * @brief Next state of the central locking.
 * @param state Current lock state.
 * @param event Received event.
 * @return The new lock state.
 */
door_state_t door_lock_next(door_state_t state, door_event_t event)
{{
    door_state_t next = state;
    if (event == DOOR_EV_CRASH) {{
        next = DOOR_UNLOCKED;
    }} else {{
        switch (state) {{
        case DOOR_UNLOCKED:
            if (event == DOOR_EV_LOCK) {{
                next = DOOR_LOCKED;
            }} else if (event == DOOR_EV_DOUBLE_LOCK) {{
                next = DOOR_DOUBLE_LOCKED;
            }} else {{
                next = DOOR_UNLOCKED;
            }}
            break;
        case DOOR_LOCKED:
            if (event == DOOR_EV_UNLOCK) {{
                next = DOOR_UNLOCKED;
            }} else if (event == DOOR_EV_DOUBLE_LOCK) {{
                next = DOOR_DOUBLE_LOCKED;
            }} else {{
                next = DOOR_LOCKED;
            }}
            break;
        case DOOR_DOUBLE_LOCKED:
            next = (event == DOOR_EV_UNLOCK) ? DOOR_UNLOCKED : DOOR_DOUBLE_LOCKED;
            break;
        default:
            next = DOOR_LOCKED;
            break;
        }}
    }}
    return next;
}}
""",
    harness_body=r"""
    HX_U(door_lock_next(DOOR_UNLOCKED, DOOR_EV_LOCK), DOOR_LOCKED);
    HX_U(door_lock_next(DOOR_UNLOCKED, DOOR_EV_DOUBLE_LOCK), DOOR_DOUBLE_LOCKED);
    HX_U(door_lock_next(DOOR_UNLOCKED, DOOR_EV_UNLOCK), DOOR_UNLOCKED);
    HX_U(door_lock_next(DOOR_LOCKED, DOOR_EV_UNLOCK), DOOR_UNLOCKED);
    HX_U(door_lock_next(DOOR_LOCKED, DOOR_EV_DOUBLE_LOCK), DOOR_DOUBLE_LOCKED);
    HX_U(door_lock_next(DOOR_LOCKED, DOOR_EV_LOCK), DOOR_LOCKED);
    HX_U(door_lock_next(DOOR_DOUBLE_LOCKED, DOOR_EV_LOCK), DOOR_DOUBLE_LOCKED);
    HX_U(door_lock_next(DOOR_DOUBLE_LOCKED, DOOR_EV_UNLOCK), DOOR_UNLOCKED);
    HX_U(door_lock_next(DOOR_DOUBLE_LOCKED, DOOR_EV_CRASH), DOOR_UNLOCKED);
    HX_U(door_lock_next(DOOR_LOCKED, DOOR_EV_CRASH), DOOR_UNLOCKED);
    HX_U(door_lock_next((door_state_t)7, DOOR_EV_UNLOCK), DOOR_LOCKED);
    HX_U(door_lock_next((door_state_t)7, DOOR_EV_CRASH), DOOR_UNLOCKED);
    HX_U(door_lock_next(DOOR_LOCKED, (door_event_t)9), DOOR_LOCKED);
    """,
)

# --- CAN network management -------------------------------------------------------------------------

NM_T = """\
typedef enum {
    NM_BUS_SLEEP = 0,
    NM_PREPARE_BUS_SLEEP = 1,
    NM_REPEAT_MESSAGE = 2,
    NM_NORMAL_OPERATION = 3,
    NM_READY_SLEEP = 4
} nm_state_t;

typedef enum {
    NM_EV_NETWORK_REQUEST = 0,
    NM_EV_NETWORK_RELEASE = 1,
    NM_EV_PDU_RECEIVED = 2,
    NM_EV_REPEAT_TIMER_EXPIRED = 3,
    NM_EV_NM_TIMEOUT = 4,
    NM_EV_WAIT_BUS_SLEEP_EXPIRED = 5
} nm_event_t;"""

NM_CASES = [
    ("NM_BUS_SLEEP", "NM_EV_NETWORK_REQUEST", True, "NM_REPEAT_MESSAGE"),
    ("NM_BUS_SLEEP", "NM_EV_PDU_RECEIVED", False, "NM_REPEAT_MESSAGE"),
    ("NM_BUS_SLEEP", "NM_EV_NM_TIMEOUT", False, "NM_BUS_SLEEP"),
    ("NM_REPEAT_MESSAGE", "NM_EV_REPEAT_TIMER_EXPIRED", True, "NM_NORMAL_OPERATION"),
    ("NM_REPEAT_MESSAGE", "NM_EV_REPEAT_TIMER_EXPIRED", False, "NM_READY_SLEEP"),
    ("NM_REPEAT_MESSAGE", "NM_EV_NETWORK_RELEASE", False, "NM_REPEAT_MESSAGE"),
    ("NM_NORMAL_OPERATION", "NM_EV_NETWORK_RELEASE", False, "NM_READY_SLEEP"),
    ("NM_NORMAL_OPERATION", "NM_EV_NM_TIMEOUT", True, "NM_NORMAL_OPERATION"),
    ("NM_READY_SLEEP", "NM_EV_NETWORK_REQUEST", True, "NM_NORMAL_OPERATION"),
    ("NM_READY_SLEEP", "NM_EV_NM_TIMEOUT", False, "NM_PREPARE_BUS_SLEEP"),
    ("NM_READY_SLEEP", "NM_EV_PDU_RECEIVED", False, "NM_READY_SLEEP"),
    ("NM_PREPARE_BUS_SLEEP", "NM_EV_WAIT_BUS_SLEEP_EXPIRED", False, "NM_BUS_SLEEP"),
    ("NM_PREPARE_BUS_SLEEP", "NM_EV_PDU_RECEIVED", False, "NM_REPEAT_MESSAGE"),
    ("NM_PREPARE_BUS_SLEEP", "NM_EV_NETWORK_REQUEST", True, "NM_REPEAT_MESSAGE"),
    ("(nm_state_t)9", "NM_EV_NETWORK_REQUEST", True, "NM_BUS_SLEEP"),
]

FAMILY.add(
    "can-nm", "hard",
    ask="""Implement the transition function of our simplified AUTOSAR CAN network management. BUS_SLEEP:
    NETWORK_REQUEST or PDU_RECEIVED go to REPEAT_MESSAGE. PREPARE_BUS_SLEEP: NETWORK_REQUEST or
    PDU_RECEIVED go to REPEAT_MESSAGE, WAIT_BUS_SLEEP_EXPIRED goes to BUS_SLEEP. REPEAT_MESSAGE:
    REPEAT_TIMER_EXPIRED goes to NORMAL_OPERATION if the network is still requested, else to
    READY_SLEEP. NORMAL_OPERATION: NETWORK_RELEASE goes to READY_SLEEP. READY_SLEEP: NETWORK_REQUEST goes
    to NORMAL_OPERATION, NM_TIMEOUT to PREPARE_BUS_SLEEP. Every other event keeps the state; an invalid
    state goes to BUS_SLEEP. Use a switch over the state.""",
    signature="nm_state_t cannm_next(nm_state_t state, nm_event_t event, bool network_requested)",
    types=NM_T,
    reference=f"""\
#include <stdbool.h>
#include <stdint.h>

{NM_T}

/**
 * @brief Next state of the CAN network management state machine.
 * @param state Current NM state.
 * @param event Received event.
 * @param network_requested true while the application requests the network.
 * @return The new NM state.
 */
nm_state_t cannm_next(nm_state_t state, nm_event_t event, bool network_requested)
{{
    nm_state_t next = state;
    switch (state) {{
    case NM_BUS_SLEEP:
    case NM_PREPARE_BUS_SLEEP:
        if ((event == NM_EV_NETWORK_REQUEST) || (event == NM_EV_PDU_RECEIVED)) {{
            next = NM_REPEAT_MESSAGE;
        }} else if ((state == NM_PREPARE_BUS_SLEEP) && (event == NM_EV_WAIT_BUS_SLEEP_EXPIRED)) {{
            next = NM_BUS_SLEEP;
        }} else {{
            next = state;
        }}
        break;
    case NM_REPEAT_MESSAGE:
        if (event == NM_EV_REPEAT_TIMER_EXPIRED) {{
            next = network_requested ? NM_NORMAL_OPERATION : NM_READY_SLEEP;
        }}
        break;
    case NM_NORMAL_OPERATION:
        if (event == NM_EV_NETWORK_RELEASE) {{
            next = NM_READY_SLEEP;
        }}
        break;
    case NM_READY_SLEEP:
        if (event == NM_EV_NETWORK_REQUEST) {{
            next = NM_NORMAL_OPERATION;
        }} else if (event == NM_EV_NM_TIMEOUT) {{
            next = NM_PREPARE_BUS_SLEEP;
        }} else {{
            next = NM_READY_SLEEP;
        }}
        break;
    default:
        next = NM_BUS_SLEEP;
        break;
    }}
    return next;
}}
""",
    harness_body="\n".join(f"HX_U(cannm_next({s}, {e}, {'true' if r else 'false'}), {n});" for s, e, r, n in NM_CASES),
)

# --- flasher ----------------------------------------------------------------------------------------

FLASHER_T = """\
typedef struct {
    uint8_t phase;       /* 0 = idle, 1 = lamp on, 2 = lamp off */
    uint16_t elapsed_ms; /* time spent in the current phase */
} flasher_t;"""


def flasher_model(steps):
    phase, elapsed, out = 0, 0, []
    for request, dt in steps:
        if not request:
            phase, elapsed = 0, 0
        elif phase not in (1, 2):
            phase, elapsed = 1, 0
        else:
            elapsed += dt
            if elapsed >= 400:
                phase, elapsed = (2 if phase == 1 else 1), elapsed - 400
        out.append((phase == 1, phase, elapsed))
    return out


FLASHER_STEPS = [(False, 10), (True, 10), (True, 100), (True, 290), (True, 10), (True, 395), (True, 20),
                 (True, 400), (False, 10), (True, 250)]


def _flasher_harness() -> str:
    lines = ["flasher_t f;", "memset(&f, 0, sizeof f);"]
    for (request, dt), (lamp, phase, elapsed) in zip(FLASHER_STEPS, flasher_model(FLASHER_STEPS)):
        lines.append(f"HX_U(flasher_step(&f, {'true' if request else 'false'}, {dt}U), {int(lamp)}U);")
        lines.append(f"HX_U(f.phase, {phase}U);")
        lines.append(f"HX_U(f.elapsed_ms, {elapsed}U);")
    lines += ["f.phase = 9U;", "HX_U(flasher_step(&f, true, 10U), 1U);", "HX_U(f.phase, 1U);",
              "HX_U(flasher_step(NULL, true, 10U), 0U);"]
    return "\n".join(lines)


FAMILY.add(
    "flasher", "medium",
    ask="""Drive the turn indicator lamp, called periodically with the elapsed time dt_ms (at most 400).
    Without a request the flasher goes idle (phase 0, elapsed 0, lamp off). A request while idle (or in
    an invalid phase) starts phase 1 with the lamp on at once and elapsed 0. Otherwise add dt_ms to
    elapsed_ms; when it reaches 400 ms the phase toggles between 1 (on) and 2 (off) and 400 is
    subtracted from elapsed_ms. Return true while the lamp is on; NULL returns false.""",
    signature="bool flasher_step(flasher_t *f, bool request, uint16_t dt_ms)",
    types=FLASHER_T,
    reference=f"""\
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FLASHER_IDLE 0U
#define FLASHER_ON   1U
#define FLASHER_OFF  2U
#define FLASHER_HALF_PERIOD_MS 400U

{FLASHER_T}

/**
 * @brief One step of the turn indicator flasher.
 * @param f Flasher state; updated.
 * @param request true while the indicator is requested.
 * @param dt_ms Time since the previous call in milliseconds (at most 400).
 * @return true while the lamp is on.
 */
bool flasher_step(flasher_t *f, bool request, uint16_t dt_ms)
{{
    bool lamp = false;
    if (f != NULL) {{
        if (!request) {{
            f->phase = FLASHER_IDLE;
            f->elapsed_ms = 0U;
        }} else if ((f->phase != FLASHER_ON) && (f->phase != FLASHER_OFF)) {{
            f->phase = FLASHER_ON;
            f->elapsed_ms = 0U;
        }} else {{
            f->elapsed_ms = (uint16_t)(f->elapsed_ms + dt_ms);
            if (f->elapsed_ms >= FLASHER_HALF_PERIOD_MS) {{
                f->phase = (f->phase == FLASHER_ON) ? FLASHER_OFF : FLASHER_ON;
                f->elapsed_ms = (uint16_t)(f->elapsed_ms - FLASHER_HALF_PERIOD_MS);
            }}
        }}
        lamp = (f->phase == FLASHER_ON);
    }}
    return lamp;
}}
""",
    harness_body=_flasher_harness(),
)

# --- frame parser -----------------------------------------------------------------------------------

PARSER_T = """\
typedef struct {
    uint8_t state;       /* 0 = wait for SOF, 1 = length, 2 = payload, 3 = checksum */
    uint8_t length;      /* payload length of the current frame, 1..16 */
    uint8_t index;       /* payload bytes received so far */
    uint8_t checksum;    /* XOR of the length byte and the payload bytes so far */
    uint8_t payload[16];
} frame_parser_t;"""


def parser_model(stream):
    state, length, index, checksum, out = 0, 0, 0, 0, []
    for byte in stream:
        result = 0
        if state == 0:
            state = 1 if byte == 0x7E else 0
        elif state == 1:
            if 1 <= byte <= 16:
                length, index, checksum, state = byte, 0, byte, 2
            else:
                state, result = 0, -1
        elif state == 2:
            checksum ^= byte
            index += 1
            if index == length:
                state = 3
        else:
            state, result = 0, (1 if byte == checksum else -1)
        out.append(result)
    return out


def _frame(payload: list[int], good: bool = True) -> list[int]:
    check = len(payload)
    for b in payload:
        check ^= b
    return [0x7E, len(payload), *payload, check if good else check ^ 0x01]


PARSER_STREAM = ([0x00, 0x41] + _frame([0x11, 0x22, 0x33]) + [0x7E, 0x00] + _frame([0x7E, 0x55], good=False)
                 + [0x7E, 0x11] + _frame(list(range(0xA0, 0xB0))) + _frame([0x42]))


def _parser_harness() -> str:
    stream = ", ".join(f"0x{b:02X}U" for b in PARSER_STREAM)
    expected = ", ".join(str(r) for r in parser_model(PARSER_STREAM))
    return f"""
static const uint8_t stream[{len(PARSER_STREAM)}] = {{{stream}}};
static const int8_t want[{len(PARSER_STREAM)}] = {{{expected}}};
frame_parser_t p;
size_t i;
int8_t got[{len(PARSER_STREAM)}];
int8_t result;
memset(&p, 0, sizeof p);
for (i = 0U; i < sizeof stream; i++) {{
    got[i] = frame_parser_feed(&p, stream[i]);
}}
HX_MEM(got, want, sizeof want);
memset(&p, 0, sizeof p);
result = 0;
for (i = 0U; i < 6U; i++) {{
    result = frame_parser_feed(&p, stream[2U + i]);
}}
HX_I(result, 1);
HX_U(p.length, 3U);
HX_U(p.payload[0], 0x11U);
HX_U(p.payload[2], 0x33U);
HX_U(p.state, 0U);
p.state = 8U;
HX_I(frame_parser_feed(&p, 0x7EU), -1);
HX_U(p.state, 0U);
HX_I(frame_parser_feed(NULL, 0x7EU), -1);
"""


FAMILY.add(
    "frame-parser", "hard",
    ask="""Write the byte-wise receive state machine of the UART link to the seat module. A frame is 0x7E
    (start of frame), a length byte (1..16), that many payload bytes, and a checksum byte equal to the
    XOR of the length byte and all payload bytes. In state 0 every byte other than 0x7E is ignored.
    Store payload bytes in payload[]. Return 1 when the checksum byte matches (frame complete, payload
    and length valid), -1 when the length is out of range or the checksum does not match, and 0
    otherwise; after 1 or -1 the parser waits for the next 0x7E. An invalid state is reset to 0 with
    result -1; a NULL parser returns -1.""",
    signature="int8_t frame_parser_feed(frame_parser_t *p, uint8_t byte)",
    types=PARSER_T,
    reference=f"""\
#include <stddef.h>
#include <stdint.h>

#define FRAME_SOF 0x7EU
#define FRAME_MAX_PAYLOAD 16U
#define PARSER_WAIT_SOF  0U
#define PARSER_LENGTH    1U
#define PARSER_PAYLOAD   2U
#define PARSER_CHECKSUM  3U

{PARSER_T}

/**
 * @brief Feed one received byte to the frame parser.
 * @param p Parser state; updated.
 * @param byte The received byte.
 * @return 1 for a complete valid frame, -1 for an error, 0 while a frame is incomplete.
 */
int8_t frame_parser_feed(frame_parser_t *p, uint8_t byte)
{{
    int8_t result = 0;
    if (p == NULL) {{
        result = -1;
    }} else {{
        switch (p->state) {{
        case PARSER_WAIT_SOF:
            if (byte == FRAME_SOF) {{
                p->state = PARSER_LENGTH;
            }}
            break;
        case PARSER_LENGTH:
            if ((byte >= 1U) && (byte <= FRAME_MAX_PAYLOAD)) {{
                p->length = byte;
                p->index = 0U;
                p->checksum = byte;
                p->state = PARSER_PAYLOAD;
            }} else {{
                p->state = PARSER_WAIT_SOF;
                result = -1;
            }}
            break;
        case PARSER_PAYLOAD:
            p->payload[p->index] = byte;
            p->checksum = (uint8_t)(p->checksum ^ byte);
            p->index++;
            if (p->index >= p->length) {{
                p->state = PARSER_CHECKSUM;
            }}
            break;
        case PARSER_CHECKSUM:
            p->state = PARSER_WAIT_SOF;
            result = (byte == p->checksum) ? 1 : -1;
            break;
        default:
            p->state = PARSER_WAIT_SOF;
            result = -1;
            break;
        }}
    }}
    return result;
}}
""",
    harness_body=_parser_harness(),
)

# --- window lifter ----------------------------------------------------------------------------------

WIN_T = """\
typedef enum {
    WIN_STOPPED = 0,
    WIN_MOVING_UP = 1,
    WIN_MOVING_DOWN = 2,
    WIN_REVERSING = 3
} win_state_t;

typedef enum {
    WIN_EV_BUTTON_UP = 0,
    WIN_EV_BUTTON_DOWN = 1,
    WIN_EV_BUTTON_RELEASE = 2,
    WIN_EV_PINCH = 3,
    WIN_EV_END_STOP = 4
} win_event_t;"""

WIN_CASES = [
    ("WIN_STOPPED", "WIN_EV_BUTTON_UP", "WIN_MOVING_UP"), ("WIN_STOPPED", "WIN_EV_BUTTON_DOWN", "WIN_MOVING_DOWN"),
    ("WIN_STOPPED", "WIN_EV_PINCH", "WIN_STOPPED"), ("WIN_MOVING_UP", "WIN_EV_BUTTON_RELEASE", "WIN_STOPPED"),
    ("WIN_MOVING_UP", "WIN_EV_END_STOP", "WIN_STOPPED"), ("WIN_MOVING_UP", "WIN_EV_PINCH", "WIN_REVERSING"),
    ("WIN_MOVING_UP", "WIN_EV_BUTTON_DOWN", "WIN_STOPPED"), ("WIN_MOVING_UP", "WIN_EV_BUTTON_UP", "WIN_MOVING_UP"),
    ("WIN_MOVING_DOWN", "WIN_EV_PINCH", "WIN_MOVING_DOWN"), ("WIN_MOVING_DOWN", "WIN_EV_BUTTON_UP", "WIN_STOPPED"),
    ("WIN_MOVING_DOWN", "WIN_EV_END_STOP", "WIN_STOPPED"), ("WIN_REVERSING", "WIN_EV_BUTTON_UP", "WIN_REVERSING"),
    ("WIN_REVERSING", "WIN_EV_BUTTON_RELEASE", "WIN_REVERSING"), ("WIN_REVERSING", "WIN_EV_END_STOP", "WIN_STOPPED"),
    ("(win_state_t)6", "WIN_EV_BUTTON_UP", "WIN_STOPPED"),
]

FAMILY.add(
    "window-lift", "medium",
    ask="""Implement the power window state machine with anti-pinch. STOPPED: BUTTON_UP starts MOVING_UP,
    BUTTON_DOWN starts MOVING_DOWN. MOVING_UP: BUTTON_RELEASE, END_STOP or BUTTON_DOWN stop it, PINCH
    starts REVERSING. MOVING_DOWN: BUTTON_RELEASE, END_STOP or BUTTON_UP stop it (PINCH is ignored when
    moving down). REVERSING runs down to the end stop whatever the buttons do: only END_STOP stops it.
    All other events keep the state; an invalid state gives STOPPED.""",
    signature="win_state_t window_next(win_state_t state, win_event_t event)",
    types=WIN_T,
    reference=f"""\
#include <stdint.h>

{WIN_T}

/**
 * @brief Next state of the power window with anti-pinch reversal.
 * @param state Current window state.
 * @param event Received event.
 * @return The new window state.
 */
win_state_t window_next(win_state_t state, win_event_t event)
{{
    win_state_t next = state;
    switch (state) {{
    case WIN_STOPPED:
        if (event == WIN_EV_BUTTON_UP) {{
            next = WIN_MOVING_UP;
        }} else if (event == WIN_EV_BUTTON_DOWN) {{
            next = WIN_MOVING_DOWN;
        }} else {{
            next = WIN_STOPPED;
        }}
        break;
    case WIN_MOVING_UP:
        if (event == WIN_EV_PINCH) {{
            next = WIN_REVERSING;
        }} else if ((event == WIN_EV_BUTTON_RELEASE) || (event == WIN_EV_END_STOP) ||
                   (event == WIN_EV_BUTTON_DOWN)) {{
            next = WIN_STOPPED;
        }} else {{
            next = WIN_MOVING_UP;
        }}
        break;
    case WIN_MOVING_DOWN:
        if ((event == WIN_EV_BUTTON_RELEASE) || (event == WIN_EV_END_STOP) || (event == WIN_EV_BUTTON_UP)) {{
            next = WIN_STOPPED;
        }}
        break;
    case WIN_REVERSING:
        if (event == WIN_EV_END_STOP) {{
            next = WIN_STOPPED;
        }}
        break;
    default:
        next = WIN_STOPPED;
        break;
    }}
    return next;
}}
""",
    harness_body="\n".join(f"HX_U(window_next({s}, {e}), {n});" for s, e, n in WIN_CASES),
)

# --- gPTP peer-delay requester ---------------------------------------------------------------------

PDREQ_T = """\
typedef enum {
    PDREQ_NOT_ENABLED = 0,
    PDREQ_INITIAL_SEND = 1,
    PDREQ_WAITING_FOR_RESP = 2,
    PDREQ_WAITING_FOR_FOLLOW_UP = 3,
    PDREQ_WAITING_FOR_INTERVAL = 4
} pdreq_state_t;

typedef enum {
    PDREQ_EV_PORT_ENABLED = 0,
    PDREQ_EV_PORT_DISABLED = 1,
    PDREQ_EV_REQ_SENT = 2,
    PDREQ_EV_RESP_RECEIVED = 3,
    PDREQ_EV_FOLLOW_UP_RECEIVED = 4,
    PDREQ_EV_TIMEOUT = 5,
    PDREQ_EV_INTERVAL_EXPIRED = 6
} pdreq_event_t;"""

PDREQ_CASES = [
    ("PDREQ_NOT_ENABLED", "PDREQ_EV_PORT_ENABLED", "PDREQ_INITIAL_SEND"),
    ("PDREQ_NOT_ENABLED", "PDREQ_EV_REQ_SENT", "PDREQ_NOT_ENABLED"),
    ("PDREQ_INITIAL_SEND", "PDREQ_EV_REQ_SENT", "PDREQ_WAITING_FOR_RESP"),
    ("PDREQ_WAITING_FOR_RESP", "PDREQ_EV_RESP_RECEIVED", "PDREQ_WAITING_FOR_FOLLOW_UP"),
    ("PDREQ_WAITING_FOR_RESP", "PDREQ_EV_TIMEOUT", "PDREQ_WAITING_FOR_INTERVAL"),
    ("PDREQ_WAITING_FOR_RESP", "PDREQ_EV_FOLLOW_UP_RECEIVED", "PDREQ_WAITING_FOR_RESP"),
    ("PDREQ_WAITING_FOR_FOLLOW_UP", "PDREQ_EV_FOLLOW_UP_RECEIVED", "PDREQ_WAITING_FOR_INTERVAL"),
    ("PDREQ_WAITING_FOR_FOLLOW_UP", "PDREQ_EV_TIMEOUT", "PDREQ_WAITING_FOR_INTERVAL"),
    ("PDREQ_WAITING_FOR_INTERVAL", "PDREQ_EV_INTERVAL_EXPIRED", "PDREQ_INITIAL_SEND"),
    ("PDREQ_WAITING_FOR_INTERVAL", "PDREQ_EV_RESP_RECEIVED", "PDREQ_WAITING_FOR_INTERVAL"),
    ("PDREQ_WAITING_FOR_FOLLOW_UP", "PDREQ_EV_PORT_DISABLED", "PDREQ_NOT_ENABLED"),
    ("PDREQ_INITIAL_SEND", "PDREQ_EV_PORT_DISABLED", "PDREQ_NOT_ENABLED"),
    ("(pdreq_state_t)12", "PDREQ_EV_PORT_ENABLED", "PDREQ_NOT_ENABLED"),
]

FAMILY.add(
    "pdelay-requester", "medium",
    ask="""Implement our simplified 802.1AS peer-delay requester (MDPdelayReq) state machine. PORT_DISABLED
    returns to NOT_ENABLED from any state. NOT_ENABLED: PORT_ENABLED goes to INITIAL_SEND. INITIAL_SEND:
    REQ_SENT (a Pdelay_Req was transmitted) goes to WAITING_FOR_RESP. WAITING_FOR_RESP: RESP_RECEIVED goes
    to WAITING_FOR_FOLLOW_UP, TIMEOUT to WAITING_FOR_INTERVAL. WAITING_FOR_FOLLOW_UP: FOLLOW_UP_RECEIVED
    or TIMEOUT go to WAITING_FOR_INTERVAL. WAITING_FOR_INTERVAL: INTERVAL_EXPIRED goes to INITIAL_SEND.
    Everything else keeps the state; an invalid state goes to NOT_ENABLED.""",
    signature="pdreq_state_t pdelay_req_next(pdreq_state_t state, pdreq_event_t event)",
    types=PDREQ_T,
    reference=f"""\
#include <stdint.h>

{PDREQ_T}

/**
 * @brief Next state of the peer-delay requester.
 * @param state Current state.
 * @param event Received event.
 * @return The new state.
 */
pdreq_state_t pdelay_req_next(pdreq_state_t state, pdreq_event_t event)
{{
    pdreq_state_t next = state;
    if (event == PDREQ_EV_PORT_DISABLED) {{
        next = PDREQ_NOT_ENABLED;
    }} else {{
        switch (state) {{
        case PDREQ_NOT_ENABLED:
            if (event == PDREQ_EV_PORT_ENABLED) {{
                next = PDREQ_INITIAL_SEND;
            }}
            break;
        case PDREQ_INITIAL_SEND:
            if (event == PDREQ_EV_REQ_SENT) {{
                next = PDREQ_WAITING_FOR_RESP;
            }}
            break;
        case PDREQ_WAITING_FOR_RESP:
            if (event == PDREQ_EV_RESP_RECEIVED) {{
                next = PDREQ_WAITING_FOR_FOLLOW_UP;
            }} else if (event == PDREQ_EV_TIMEOUT) {{
                next = PDREQ_WAITING_FOR_INTERVAL;
            }} else {{
                next = PDREQ_WAITING_FOR_RESP;
            }}
            break;
        case PDREQ_WAITING_FOR_FOLLOW_UP:
            if ((event == PDREQ_EV_FOLLOW_UP_RECEIVED) || (event == PDREQ_EV_TIMEOUT)) {{
                next = PDREQ_WAITING_FOR_INTERVAL;
            }}
            break;
        case PDREQ_WAITING_FOR_INTERVAL:
            if (event == PDREQ_EV_INTERVAL_EXPIRED) {{
                next = PDREQ_INITIAL_SEND;
            }}
            break;
        default:
            next = PDREQ_NOT_ENABLED;
            break;
        }}
    }}
    return next;
}}
""",
    harness_body="\n".join(f"HX_U(pdelay_req_next({s}, {e}), {n});" for s, e, n in PDREQ_CASES),
)

# --- HV contactor precharge -------------------------------------------------------------------------

HV_T = """\
typedef enum {
    HV_OPEN = 0,
    HV_PRECHARGE = 1,
    HV_CLOSED = 2,
    HV_FAULT = 3
} hv_state_t;"""

HV_CASES = [
    ("HV_OPEN", True, 0, 400000, 0, "HV_PRECHARGE"), ("HV_OPEN", False, 0, 400000, 0, "HV_OPEN"),
    ("HV_PRECHARGE", True, 300000, 400000, 100, "HV_PRECHARGE"),
    ("HV_PRECHARGE", True, 380000, 400000, 120, "HV_CLOSED"),
    ("HV_PRECHARGE", True, 379999, 400000, 499, "HV_PRECHARGE"),
    ("HV_PRECHARGE", True, 379999, 400000, 500, "HV_FAULT"),
    ("HV_PRECHARGE", True, 399000, 400000, 800, "HV_CLOSED"),
    ("HV_PRECHARGE", False, 399000, 400000, 10, "HV_OPEN"),
    ("HV_CLOSED", True, 0, 400000, 0, "HV_CLOSED"), ("HV_CLOSED", False, 400000, 400000, 0, "HV_OPEN"),
    ("HV_FAULT", True, 400000, 400000, 0, "HV_FAULT"), ("HV_FAULT", False, 0, 400000, 0, "HV_OPEN"),
    ("HV_PRECHARGE", True, 4000000000, 4200000000, 10, "HV_CLOSED"),
    ("(hv_state_t)5", True, 0, 400000, 0, "HV_OPEN"),
]

FAMILY.add(
    "hv-precharge", "hard",
    ask="""Sequence the high-voltage contactors of the battery pack. OPEN: a close request starts PRECHARGE.
    PRECHARGE: if the request is withdrawn, go to OPEN; else if the DC-link voltage has reached 95 % of
    the pack voltage (bus x 100 >= pack x 95, computed without overflow for voltages up to UINT32_MAX
    millivolts) close the main contactor (CLOSED); else if precharge has lasted 500 ms or more, go to
    FAULT. CLOSED: withdrawing the request opens (OPEN). FAULT is latched until the request is
    withdrawn, then OPEN. An invalid state goes to OPEN.""",
    signature="hv_state_t hv_contactor_step(hv_state_t state, bool close_request, uint32_t bus_mv, uint32_t pack_mv, uint16_t precharge_ms)",
    types=HV_T,
    reference=f"""\
#include <stdbool.h>
#include <stdint.h>

#define PRECHARGE_TIMEOUT_MS 500U
#define PRECHARGE_DONE_PERCENT 95U

{HV_T}

/**
 * @brief One step of the HV contactor precharge sequence.
 * @param state Current contactor state.
 * @param close_request true while the vehicle requests high voltage.
 * @param bus_mv DC-link voltage in millivolts.
 * @param pack_mv Battery pack voltage in millivolts.
 * @param precharge_ms Time spent in PRECHARGE so far, in milliseconds.
 * @return The new contactor state.
 */
hv_state_t hv_contactor_step(hv_state_t state, bool close_request, uint32_t bus_mv, uint32_t pack_mv, uint16_t precharge_ms)
{{
    hv_state_t next = state;
    switch (state) {{
    case HV_OPEN:
        next = close_request ? HV_PRECHARGE : HV_OPEN;
        break;
    case HV_PRECHARGE:
        if (!close_request) {{
            next = HV_OPEN;
        }} else if (((uint64_t)bus_mv * 100U) >= ((uint64_t)pack_mv * PRECHARGE_DONE_PERCENT)) {{
            next = HV_CLOSED;
        }} else if (precharge_ms >= PRECHARGE_TIMEOUT_MS) {{
            next = HV_FAULT;
        }} else {{
            next = HV_PRECHARGE;
        }}
        break;
    case HV_CLOSED:
        next = close_request ? HV_CLOSED : HV_OPEN;
        break;
    case HV_FAULT:
        next = close_request ? HV_FAULT : HV_OPEN;
        break;
    default:
        next = HV_OPEN;
        break;
    }}
    return next;
}}
""",
    harness_body="\n".join(
        f"HX_U(hv_contactor_step({s}, {'true' if r else 'false'}, {b}UL, {p}UL, {t}U), {n});"
        for s, r, b, p, t, n in HV_CASES),
)

# --- UDS diagnostic sessions -----------------------------------------------------------------------

UDS_T = """\
typedef enum {
    UDS_SESSION_DEFAULT = 1,
    UDS_SESSION_PROGRAMMING = 2,
    UDS_SESSION_EXTENDED = 3
} uds_session_t;"""

UDS_CASES = [
    ("UDS_SESSION_DEFAULT", 0x03, False, "UDS_SESSION_EXTENDED", True),
    ("UDS_SESSION_DEFAULT", 0x02, False, "UDS_SESSION_DEFAULT", False),
    ("UDS_SESSION_EXTENDED", 0x02, False, "UDS_SESSION_PROGRAMMING", True),
    ("UDS_SESSION_EXTENDED", 0x03, False, "UDS_SESSION_EXTENDED", True),
    ("UDS_SESSION_PROGRAMMING", 0x03, False, "UDS_SESSION_PROGRAMMING", False),
    ("UDS_SESSION_PROGRAMMING", 0x01, False, "UDS_SESSION_DEFAULT", True),
    ("UDS_SESSION_EXTENDED", 0x01, False, "UDS_SESSION_DEFAULT", True),
    ("UDS_SESSION_EXTENDED", 0x40, False, "UDS_SESSION_EXTENDED", False),
    ("UDS_SESSION_EXTENDED", 0x02, True, "UDS_SESSION_DEFAULT", False),
    ("UDS_SESSION_PROGRAMMING", 0x02, False, "UDS_SESSION_PROGRAMMING", True),
    ("(uds_session_t)9", 0x03, False, "UDS_SESSION_EXTENDED", True),
]

FAMILY.add(
    "uds-session", "medium",
    ask="""Handle the DiagnosticSessionControl (0x10) sub-function of our UDS server. If the S3 server timer
    has expired, fall back to the default session and do not process the request (accepted = false).
    Otherwise: 0x01 (default) is always accepted; 0x03 (extended) is accepted from the default and
    extended sessions; 0x02 (programming) only from the extended or programming session. A rejected or
    unknown sub-function keeps the current session; an invalid current session value is treated as
    the default session. Store whether the request was accepted through accepted unless it is NULL,
    and return the new session.""",
    signature="uds_session_t uds_session_next(uds_session_t current, uint8_t requested, bool s3_timeout, bool *accepted)",
    types=UDS_T,
    reference=f"""\
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UDS_SUB_DEFAULT     0x01U
#define UDS_SUB_PROGRAMMING 0x02U
#define UDS_SUB_EXTENDED    0x03U

{UDS_T}

/**
 * @brief Session transition for a DiagnosticSessionControl request.
 * @param current Active diagnostic session.
 * @param requested Requested sub-function (session type).
 * @param s3_timeout true if the S3 server timer has expired.
 * @param accepted Receives whether the request was accepted; may be NULL.
 * @return The new active session.
 */
uds_session_t uds_session_next(uds_session_t current, uint8_t requested, bool s3_timeout, bool *accepted)
{{
    uds_session_t session = current;
    bool ok = false;
    if ((session != UDS_SESSION_PROGRAMMING) && (session != UDS_SESSION_EXTENDED)) {{
        session = UDS_SESSION_DEFAULT;
    }}
    if (s3_timeout) {{
        session = UDS_SESSION_DEFAULT;
    }} else {{
        switch (requested) {{
        case UDS_SUB_DEFAULT:
            session = UDS_SESSION_DEFAULT;
            ok = true;
            break;
        case UDS_SUB_EXTENDED:
            if (session != UDS_SESSION_PROGRAMMING) {{
                session = UDS_SESSION_EXTENDED;
                ok = true;
            }}
            break;
        case UDS_SUB_PROGRAMMING:
            if (session != UDS_SESSION_DEFAULT) {{
                session = UDS_SESSION_PROGRAMMING;
                ok = true;
            }}
            break;
        default:
            ok = false;
            break;
        }}
    }}
    if (accepted != NULL) {{
        *accepted = ok;
    }}
    return session;
}}
""",
    harness_body="bool ok = false;\n" + "\n".join(
        f"HX_U(uds_session_next({s}, 0x{r:02X}U, {'true' if t else 'false'}, &ok), {n});\nHX_T({'' if a else '!'}ok);"
        for s, r, t, n, a in UDS_CASES) + "\nHX_U(uds_session_next(UDS_SESSION_DEFAULT, 0x03U, false, NULL), UDS_SESSION_EXTENDED);",
)

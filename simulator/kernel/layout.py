"""The kernel's state layout: every code it uses, bound as an integer, and a name for every
row and column of its packed arrays.

Codes come from :mod:`simulator.world.codes` (declared once there; numba needs plain
integers, so they are bound here). Packed arrays hold one kind of thing per row (or
column): their layouts are tuples of names here, the packing in
:mod:`simulator.kernel.pack` and the engine (:mod:`simulator.kernel.engine`) use the
same tuples, and the compiled code reads them through the constants below
(``PV[PV_ON_ORDER, p]``, never ``PV[1, p]``).

State is passed between the compiled functions as a few named tuples by role
(:data:`Events`, :data:`Apps`, :data:`Ships`, :data:`Lines`, :data:`Logs`,
:data:`Inputs`; static arrays :data:`Clock`, :data:`GoodsData`, :data:`LineData`),
built of *borrowed* arrays in :func:`simulator.kernel.loop.run_loop` (no reference
counts when they are passed).
"""

from __future__ import annotations

from collections import namedtuple

from simulator.world.codes import (
    DEADLINE_RULES,
    WITHDRAW_P,
    Ev,
    G,
    Outcome,
    Priority,
    Source,
    Stage,
    effect_column,
)
from simulator.world.policy import CAPACITY, STATE


def _index(names: tuple[str, ...]) -> dict[str, int]:
    return {n: i for i, n in enumerate(names)}


# ---------------------------------------------------------------------------- codes
P_POLICY, P_URGENT, P_NORMAL, P_DAILY = (
    Priority.POLICY,
    Priority.URGENT,
    Priority.NORMAL,
    Priority.DAILY,
)
# authority log kinds (Ev) and goods log kinds (G)
EV_SUBMIT, EV_RETURN, EV_ACCEPT = Ev.SUBMIT, Ev.RETURN, Ev.ACCEPT
EV_REVIEW_START, EV_INFO_REQ, EV_INFO_RESP = Ev.REVIEW_START, Ev.INFO_REQUEST, Ev.INFO_RESPONSE
EV_DECIDE, EV_PARK, EV_EXTEND, EV_RELEASE_LOG = Ev.DECIDE, Ev.PARK, Ev.EXTEND, Ev.RELEASE
EV_WITHDRAW_LOG = Ev.WITHDRAW
WITHDRAW_P = WITHDRAW_P  # the approval a withdrawal hands to the decision (re-exported)
G_ORDER, G_APPLY, G_DENIED, G_EXPIRED = G.ORDER, G.APPLY, G.DENIED, G.EXPIRED
G_LAPSED = G.LAPSED
G_PRESENTED, G_HELD, G_RELEASED = G.PRESENTED, G.HELD, G.RELEASED
G_DEPARTED, G_ARRIVED = G.DEPARTED, G.ARRIVED
AT_DEADLINE = Outcome.AT_DEADLINE
SRC_BACKGROUND, SRC_ORDER, SRC_PIPELINE = Source.BACKGROUND, Source.ORDER, Source.PIPELINE
R_DECIDE, R_APPROVE, R_DENY, R_EXTEND, R_CONTINUE = (
    DEADLINE_RULES.index(r) for r in ("decide", "approve", "deny", "extend", "continue")
)
# effects table columns (simulator.world.codes.EFFECT_COLUMNS)
E_RTF, E_APPROVE, E_INFO, E_RETURN, E_PRIORITY = (
    effect_column(c) for c in ("rtf", "approve", "info", "ret", "priority")
)
E_SUSPEND, E_LICENCE, E_VALIDITY = (effect_column(c) for c in ("suspend", "licence", "validity"))
E_HOLD, E_INSP_P, E_INSP_I = (effect_column(c) for c in ("hold", "insp_p", "insp_i"))
E_PARK_P, E_PARK_I = (effect_column(c) for c in ("park_p", "park_i"))
E_REL_SHARE, E_REL_DAYS, E_REL_P = (effect_column(c) for c in ("rel_share", "rel_days", "rel_p"))
# where an application is (simulator.world.codes.Stage)
ST_INTAKE, ST_QUEUED, ST_REVIEW = Stage.INTAKE, Stage.QUEUED, Stage.REVIEW
ST_APPLICANT, ST_WAITING, ST_DONE = Stage.APPLICANT, Stage.WAITING, Stage.DONE

# ---------------------------------------------------------------------------- events
EVENT_KINDS = (
    "until",  # the end of the run
    "policy",  # a change of policy state (a = its index in the path)
    "app_init",  # an application's process starts (a = application)
    "interrupt",  # a review is re-planned after a policy change (a = application)
    "app_timeout",  # an application's timeout (a = application, b = label to resume)
    "wake",  # a reviewer's grant or the deadline wakes a queued application (a = request)
    "dl_timer",  # the statutory limit's timer of a queued application (a, b = request)
    "changed",  # the policy's `changed` event succeeds (a = its generation)
    "bg",  # the background process wakes for its next contract
    "daily",  # the plants' daily step (a = day)
    "goods",  # a goods callback (a = shipment, b = action, x = tonnes)
    "bg_init",  # the background process starts
    "daily_init",  # the daily process starts
    "release",  # a batch release of a picked file (a = application, x = approval)
)
(
    EV_UNTIL,
    EV_POLICY,
    EV_APP_INIT,
    EV_INTERRUPT,
    EV_APP_TIMEOUT,
    EV_WAKE,
    EV_DL_TIMER,
    EV_CHANGED,
    EV_BG,
    EV_DAILY,
    EV_GOODS,
    EV_BG_INIT,
    EV_DAILY_INIT,
    EV_RELEASE,
) = range(len(EVENT_KINDS))
# causes of an interrupt (EV_INTERRUPT's b): a re-plan after a policy change; a release
INT_REPLAN, INT_RELEASE = range(2)
# kinds of a policy path's change (simulator.world.policy)
PATH_STATE, PATH_CAPACITY = STATE, CAPACITY
# goods callbacks (Goods.at)
GA_PRESENT, GA_DEPART, GA_CLEAR, GA_ARRIVE, GA_LEAK = range(5)

# heap rows: the key (time, priority, sequence), then the payload (floats; ints exact)
H_T, H_PRIO, H_SEQ, H_KIND, H_A, H_B, H_X = range(7)
N_H = 7

# scalar state (Events.IV): counters and the pool's, the logs' and the heap's sizes
IV_NAMES = (
    "seq",  # events scheduled (SimPy's event id)
    "gen",  # generation of the policy's `changed` event
    "n_app",  # applications created
    "n_ship",  # shipments created
    "n_req",  # reviewer requests made
    "state",  # the policy state in force
    "busy",  # reviewers busy
    "cap",  # reviewers in force
    "n_cancel",  # cancelled requests still in the reviewers' queue
    "pool_seq",  # requests queued (FIFO order within a priority)
    "await",  # reviewed, waiting for a decision (suspended or parked)
    "in_sys",  # submitted, not yet decided
    "n_sub",  # submitted
    "n_dec",  # decided
    "bg_pos",  # next background contract
    "rev_seq",  # reviews started (order of the authority's in-review dict)
    "err",  # inconsistent events (0)
    "hn",  # rows in the heap
    "pn",  # rows in the reviewers' queue
    "an",  # rows in the authority log
    "gn",  # rows in the goods log
    "n_held",  # shipments held at the port
    "n_wait",  # processes waiting for `changed`
    "full",  # bits of the arrays that ran out (FULL_*)
)
(
    I_SEQ,
    I_GEN,
    I_NAPP,
    I_NSHIP,
    I_NREQ,
    I_STATE,
    I_BUSY,
    I_CAP,
    I_NCANCEL,
    I_POOLSEQ,
    I_AWAIT,
    I_INSYS,
    I_NSUB,
    I_NDEC,
    I_BGPOS,
    I_REVSEQ,
    I_ERR,
    I_HN,
    I_PN,
    I_AN,
    I_GN,
    I_NHELD,
    I_NWAIT,
    I_FULL,
) = range(len(IV_NAMES))
N_I = len(IV_NAMES)
F_NOW = 0
"""Events.F: the clock."""
# Events.IV[I_FULL] bits: which preallocated array ran out (the engine enlarges it, reruns)
FULL_HEAP, FULL_WAIT, FULL_ALOG, FULL_GLOG = 1, 2, 4, 8

# ---------------------------------------------------------------------------- applications
# where an application's process resumes (its generator's suspension points)
(
    L_START,
    L_INTAKE,
    L_SCREENED,
    L_RESUBMITTED,
    L_ACCEPT,
    L_QUEUE,
    L_WOKEN,
    L_REVIEW,
    L_WORK,
    L_WORK_DONE,
    L_INTERRUPTED,
    L_AFTER_WORK,
    L_INFO_DONE,
    L_DECISION,
    L_DEC_LOOP,
    L_SUSPEND_CHANGED,
    L_PARK_WAIT,
    L_PARK_CHANGED,
    L_PARK_DONE,
    L_DECIDE,
    L_DONE,
    L_RELEASED_REVIEW,
    L_RELEASED_DECIDE,
    L_PREPARED,
) = range(24)
# Apps.AI columns (integers of an application's process)
(
    A_DRAW,  # its row of application draws
    A_CLASS,  # application class
    A_SHIP,  # the shipment it licenses
    A_PC,  # where it resumes
    A_TOKEN,  # sequence of its pending timeout (-1: none; an interrupt makes it stale)
    A_RETURNS,  # intake returns so far
    A_R,  # policy state last looked up
    A_EFF,  # policy state its effects come from
    A_NPTS,  # information requests it will get
    A_EXTENDED,  # statutory limit extended
    A_FORCED,  # deadline rule that forced the decision (-1: none)
    A_K,  # information requests made
    A_INREV,  # in review now
    A_INREV_ORD,  # when its review started (order of re-planning)
    A_HIT,  # the deadline came before the work was done
    A_PARKED,  # its parking is used up
    A_WAITING,  # counted as awaiting a decision
    A_REQ,  # its reviewer request
    A_STAGE,  # where it is (ST_*)
    A_PICKED,  # a batch release picked it
    A_RELEASED,  # released: decided at AF_RELP
    A_WAITGEN,  # generation of the `changed` event it waits for (-1: none)
) = range(22)
N_AI = 22
# Apps.AF columns (floats)
(
    AF_TONNES,  # applied for
    AF_DONE,  # share of the work done before the current stretch
    AF_USED,  # statutory clock used before the last restart, wd
    AF_CSTART,  # when the clock (re)started
    AF_DEADLINE,  # the statutory limit, calendar days
    AF_STOP,  # share of the work at which the current stretch stops
    AF_TODO,  # work left in the current stretch, wd at normal speed
    AF_FACTOR,  # review speed in use
    AF_T0,  # start of the current timeout
    AF_TDONE,  # when the work would be done
    AF_TEND,  # end of the current timeout
    AF_RELP,  # approval probability of its batch release
) = range(12)
N_AF = 12
# Apps.RQ columns (reviewer requests); R_VAL: what woke it
R_APP, R_TRIG, R_VAL, R_CANCEL = range(4)
WOKE_GRANTED, WOKE_DEADLINE, WOKE_RELEASED = range(3)

# ---------------------------------------------------------------------------- shipments
# Ships.SI columns
(
    SH_SRC,  # Source kind
    SH_INDEX,  # stream or manufacturer index
    SH_CLASS,  # application class
    SH_PART,  # part (-1: background)
    SH_EX,  # exporter (-1: background or upstream)
    SH_ORIGIN,  # origin country
    SH_DEST,  # destination country
    SH_MADE,  # made (at or past customs)
    SH_CUSTOMS,  # through Chinese customs
    SH_DSRC,  # draw source (-1: no customs draws)
    SH_DRAW,  # its row of shipment draws
    SH_LEAD,  # its exporter-part lead-time pair (-1: none)
    SH_BO_NEXT,  # next in its upstream supplier's backorders (-1: last)
) = range(13)
N_SI = 13
# Ships.SF columns
SF_TONNES, SF_TORDER, SF_EXPIRY, SF_BO_LEFT = range(4)
N_SF = 4
# Ships.CNT rows: draws used per draw source / pair
CNT_APPS, CNT_SHIPS, CNT_LEAD, CNT_TRANSIT = range(4)
# Ships.XF rows: per exporter, per destination country
XF_FREE_AT, XF_PORT_BUSY = range(2)
# Ships.BO rows: per upstream manufacturer, its backorders (a linked list of shipments)
BO_HEAD, BO_TAIL = range(2)

# ---------------------------------------------------------------------------- lines
PV_NAMES = ("inventory_t", "on_order_t", "lead_est_days", "extra_safety_days")
"""Lines.PV rows: per part."""
PV_INV, PV_ON_ORDER, PV_LEAD, PV_EXTRA = range(len(PV_NAMES))
MV_NAMES = ("backlog_units", "output_t", "out_stock_t")
"""Lines.MV rows: per manufacturer (units still to make; output made today for customers
downstream; finished output not yet shipped)."""
MV_BACKLOG, MV_OUTPUT, MV_STOCK = range(len(MV_NAMES))
REC_NAMES = (
    "consumed_t",
    "shortfall_t",
    "stockout_t",
    "inventory_t",
    "on_order_t",
    "backlog_t",
)
"""Lines.REC: per day and part (the Trace's part series after ``demand_t``)."""
REC_CONSUMED, REC_SHORTFALL, REC_STOCKOUT, REC_INVENTORY, REC_ON_ORDER, REC_BACKLOG = range(
    len(REC_NAMES)
)
RECL_NAMES = ("made_units", "short_units", "backlog_units")
"""Lines.RECL: per day and manufacturer."""
RECL_MADE, RECL_SHORT, RECL_BACKLOG = range(len(RECL_NAMES))
AD_NAMES = ("queued", "in_review", "awaiting_decision", "in_system")
"""Logs.AD columns: the authority's counts at the start of each day."""

# ---------------------------------------------------------------------------- static rows
# packed by simulator.kernel.pack from Static attributes of these names
BG_ROWS = ("bg_class", "bg_dest")
BG_CLASS, BG_DEST = range(len(BG_ROWS))
PI_ROWS = ("part_line", "is_ss", "review", "expedite_mode")
PI_LINE, PI_IS_SS, PI_REVIEW, PI_EXP_MODE = range(len(PI_ROWS))
PF_ROWS = (
    "t_per_unit",
    "mean_daily",
    "init_inventory",
    "lead_init",
    "adapt",
    "safety",
    "order_days",
    "expedite_below",
    "react_gain",
    "react_max",
    "react_keep",
)
(
    PF_TPU,
    PF_MD,
    PF_INIT_INV,
    PF_LEAD_INIT,
    PF_ADAPT,
    PF_SAFETY,
    PF_ORDER_DAYS,
    PF_EXP_BELOW,
    PF_REACT_GAIN,
    PF_REACT_MAX,
    PF_REACT_KEEP,
) = range(len(PF_ROWS))
LI_ROWS = ("first_part", "backlog_mode", "m_country")
LI_FIRST, LI_BACKLOG, LI_COUNTRY = range(len(LI_ROWS))
LF_ROWS = ("mean_units", "out_t_per_unit")
LF_MEAN_UNITS, LF_OUT_TPU = range(len(LF_ROWS))
SUPI_ROWS = ("sup_ex", "sup_mfr", "sup_class", "sup_lead")
SUP_EX, SUP_MFR, SUP_CLASS, SUP_LEAD = range(len(SUPI_ROWS))
SUPF_ROWS = ("sup_share",)
SUP_SHARE = 0
EXI_ROWS = ("ex_country", "ex_licensed", "cap_n")
EX_COUNTRY, EX_LICENSED, EX_CAP_N = range(len(EXI_ROWS))
GL_ROWS = ("gl_ex", "gl_m", "gl_t0", "gl_t1")
GL_EX, GL_M, GL_T0, GL_T1 = range(len(GL_ROWS))
PIPI_ROWS = ("pipe_part", "pipe_transit", "pipe_ex", "pipe_origin", "pipe_class", "pipe_customs")
PIPE_PART, PIPE_TRANSIT, PIPE_EX, PIPE_ORIGIN, PIPE_CLASS, PIPE_CUSTOMS = range(len(PIPI_ROWS))
PIPF_ROWS = ("pipe_q", "pipe_day")
PIPE_Q, PIPE_DAY = range(len(PIPF_ROWS))

# ---------------------------------------------------------------------------- the tuples
Events = namedtuple("Events", ["IV", "F", "heap"])
"""The event machinery: scalar state (:data:`IV_NAMES`), the clock, the event heap."""
Apps = namedtuple("Apps", ["AI", "AF", "PTS", "RQ", "pool", "waiters", "gen_start", "TAU"])
"""Applications and reviewers: per application integers and floats, its information
requests' points, reviewer requests, the reviewers' queue, processes waiting for the
policy's ``changed`` event, where each generation's waiters start, and per application
class when a licence last became required for it (-inf: from the start)."""
Ships = namedtuple("Ships", ["SI", "SF", "CNT", "XF", "held", "BO"])
"""Shipments: per shipment integers and floats, draws used per source, exporters' and
ports' times, shipments held at the port, upstream backorders."""
Lines = namedtuple("Lines", ["PV", "MV", "REC", "RECL", "DEM"])
"""Production lines: per part and per line state, daily records, demand per day."""
Logs = namedtuple("Logs", ["alog", "glog", "ships", "apps", "AD"])
"""What the run writes: the authority and goods logs, the shipments and applications
tables, the authority's daily counts."""
Inputs = namedtuple("Inputs", ["DF", "DI", "EFF"])
"""A replication's inputs: float draws, integer inputs (the policy path's reviewers in
force among them), the effects table."""
Clock = namedtuple("Clock", ["cum", "working"])
"""The working-day clock's table."""
GoodsData = namedtuple(
    "GoodsData",
    [
        "class_controlled",
        "BGI",
        "EXI",
        "cap_times",
        "cap_rates",
        "pace",
        "pace_cum",
        "lane_of",
        "transit_of",
        "release_rate",
        "GL",
        "PIPI",
        "PIPF",
    ],
)
"""The goods chain's static arrays (rows: ``BG_ROWS``, ``EXI_ROWS``, ``GL_ROWS``, ...)."""
LineData = namedtuple("LineData", ["PI", "PF", "LI", "LF", "sup_start", "SUPI", "SUPF", "ahead"])
"""The lines' and suppliers' static arrays (rows: ``PI_ROWS``, ``PF_ROWS``, ...)."""

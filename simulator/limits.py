"""Sizes beyond which relsim refuses work before it eats memory or time.

One place holds every limit; the scenario types (:mod:`simulator.scenario.types`), the
cross-field rules, the loader, the command line, the baselines and the ensemble runner
all read them from here. A value beyond a limit is refused with a message naming the
limit (``Limits.NAME``), never clipped silently.
"""

from __future__ import annotations

import datetime as dt

__all__ = ["Limits"]


class Limits:
    """Sizes beyond which a scenario or a command is refused."""

    # ------------------------------------------------------------------ scenario sizes
    MAX_HORIZON_DAYS = 36_600
    """At most 100 years of simulated time."""
    EARLIEST_DATE = dt.date(1900, 1, 1)
    """No scenario starts before this date."""
    LATEST_DATE = dt.date(2199, 12, 31)
    """No scenario ends after this date: the working-day calendar is tabulated 800 days
    past the end and extended as far as the longest duration (100 years of working
    days, about 140 calendar years) reaches, which must stay a valid date."""
    MAX_REVIEWERS = 100_000
    """At most this many reviewers, also after a regime's ``capacity_factor``\\ s."""
    MAX_ENTITIES = 10_000
    """At most this many manufacturers / exporters / lanes / background streams (and
    regimes, timeline entries, general licences)."""
    MAX_RATE_PER_WD = 100_000.0
    """At most this many background applications per working day per stream."""
    MAX_DURATION_DAYS = 36_600
    """No duration (a ``_days`` or ``_wd`` field, or a distribution's value, bounds, mean
    or sd there) may exceed 100 years: longer ones mean nothing inside the horizon and
    make the working-day calendar grow without bound."""
    MAX_REVIEW_TIME_FACTOR = 100.0
    """At most this slow-down factor per policy rule."""
    MAX_COMBINED_FACTOR = 1e6
    """The review-time factors of one regime multiply (all its rules, its includes' too,
    may match one application): their product stays within [1e-6, 1e6], so review
    times neither overflow nor vanish."""
    MAX_TONNES = 1e9
    """No quantity of material may exceed a billion tonnes: a capacity (per month), a
    quantity per application, a manufacturer's daily demand or output (world output of
    NdFeB magnets is about 300,000 t a year). Sums over 100 years stay far from
    overflowing."""
    MAX_UNITS_PER_DAY = 1e12
    """At most this many units a manufacturer makes per day."""
    MIN_HOLDING_DAYS = 1.0
    """Shortest mean holding time of a Markov-switching regime, calendar days (a regime
    lasting less than a day on average is not a policy; each switch re-plans every
    review in progress)."""
    MAX_REGIME_CHANGES = 10_000
    """At most this many expected Markov regime changes per replication (the days the
    chain governs / its shortest mean holding time)."""
    MAX_APPLICATIONS = 1_000_000
    """At most this many expected licence applications per replication: background
    (sum of ``rate_per_wd`` × horizon days) plus the most orders the manufacturers can
    place (one per supplier per review period, per day for (s, S)); each costs about
    0.5 ms and 4 kB."""
    MAX_DAILY_CELLS = 1_000_000
    """At most this many daily values per series per replication: horizon days ×
    (manufacturers + countries)."""
    MAX_REPLICATION_EVENTS = 200_000_000
    """At most this many events in one replication, estimated from the compiled scenario
    (:mod:`simulator.world.budget`: applications' and shipments' steps, daily steps,
    changes of policy state and the reviews each re-plans, policy states' effects)."""
    MAX_REPLICATION_BYTES = 2**30
    """At most this much memory for one replication (1 GiB), estimated likewise for the
    engine that runs it (its draws, working arrays and objects); each worker process
    holds one replication at a time."""
    MAX_REPLICATION_SECONDS = 600.0
    """At most this long for one replication, estimated likewise (events × the engine's
    cost per event, :data:`simulator.world.budget.SECONDS_PER_EVENT`)."""
    MIN_CV = 1e-6
    """Smallest coefficient of variation (sd / mean) of a gamma distribution and of demand
    noise: below it their parameters overflow."""
    MAX_CV = 1e3
    """Largest coefficient of variation of a gamma or lognormal distribution and of demand
    noise: above it their parameters underflow."""
    TRANSITION_SUM_TOLERANCE = 1e-9
    """Markov transition probabilities of a row must sum to 1 within this (numpy's
    sampler refuses rows off by more than 1.5e-8)."""

    # ------------------------------------------------------------------ runs
    MAX_REPS = 1_000_000
    """At most this many replications (scenario ``reps``, ``--reps``, a baseline's
    ``reps``)."""
    MAX_SEED = 2**64 - 1
    """Largest root seed (scenario ``seed``, ``--seed``, a baseline's ``seed``)."""
    MAX_WORKERS = 256
    """At most this many worker processes (``--workers``); an ensemble never starts
    more workers than it has replications."""

    # ------------------------------------------------------------------ files read
    MAX_SCENARIO_BYTES = 5_000_000
    """Largest scenario file read."""
    MAX_YAML_NODES = 200_000
    """Most YAML nodes in one scenario file, counting repetitions through aliases."""
    MAX_YAML_DEPTH = 100
    """Deepest nesting of a scenario file."""
    MAX_EXTENDS_DEPTH = 16
    """Longest ``extends:`` chain (a file extending a file extending …)."""
    MAX_EXTENDS_FILES = 64
    """Most files one scenario may be composed of through ``extends:``."""
    MAX_DATA_BYTES = 50_000_000
    """Largest data file read (``observed_exports:`` CSV)."""
    MAX_BASELINE_BYTES = 5_000_000
    """Largest regression baseline (JSON) read."""
    MAX_SET_PATH_CHARS = 500
    """Longest ``--set`` key path."""
    MAX_SET_PATH_PARTS = 32
    """Most names and indices in one ``--set`` key path."""
    MAX_SET_VALUE_NODES = 10_000
    """Most YAML nodes in one ``--set`` value (a flow list or mapping)."""
    MAX_SET_VALUE_DEPTH = 50
    """Deepest nesting of one ``--set`` value."""
    MAX_MANIFEST_BYTES = 1_000_000
    """Largest ``manifest.json`` read to tell a relsim output directory (``--force``)."""
    MAX_RUN_FILE_BYTES = 50_000_000
    """Largest JSON or CSV file of a run directory read back by ``relsim report``
    (``summary.json``, ``scenario.notes.json``, ``kpi_table.csv``, ``regimes.csv``)."""
    MAX_RUN_TABLE_ROWS = 100_000
    """Most rows of a table of a run directory read back by ``relsim report``."""
    MAX_FIGURE_BYTES = 50_000_000
    """Largest figure (PNG or SVG) of a run directory embedded by ``relsim report``."""
    MAX_REPORT_FIGURE_BYTES = 500_000_000
    """Most bytes of figures one ``report.html`` embeds (``relsim report``)."""
    MAX_TEXT_CHARS = 100_000
    """Longest text read back from a relsim file (a note, a cell, a label)."""
    MAX_CACHE_FILE_BYTES = 256_000_000
    """Largest file of the compiled-code cache loaded (the kernel's entries are a few MB;
    a larger file is a cache miss, not a memory error)."""
    SCHEDULER_TIMEOUT_S = 10.0
    """Seconds to wait for a Dask scheduler (``--scheduler``) to answer."""

    # ------------------------------------------------------------------ sweeps and fits
    MAX_SWEEP_PARAMS = 64
    """At most this many parameters in a sweep, a sensitivity analysis or a fit."""
    MAX_SWEEP_POINTS = 100_000
    """At most this many points in a sweep (each runs a whole ensemble)."""
    MAX_GRID_LEVELS = 1_000
    """At most this many levels of one parameter in a grid or one-at-a-time design."""
    MAX_SWEEP_RUNS = 10_000_000
    """At most this many replications in a whole sweep or fit (points × replications;
    about 80 core-days of the case study on the SimPy engine)."""
    MAX_FIT_TRIALS = 10_000
    """At most this many trial points in a fit."""
    MAX_PARAM_CHARS = 1_000
    """Longest ``--param PATH=LOW:HIGH[:N]`` option."""
    MAX_BANK_SIMS = 1_000_000
    """At most this many simulations in a forecast's simulation bank (and posterior
    predictive draws); bank values (simulations × (parameters + summaries)) stay within
    ``100 × MAX_BANK_SIMS`` (800 MB of float64)."""

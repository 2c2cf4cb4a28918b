"""Sizes beyond which relsim refuses work before it eats memory or time.

One place holds every limit; the scenario types (:mod:`simulator.scenario.types`), the
cross-field rules, the command line and the ensemble runner all read them from here.
"""

from __future__ import annotations

__all__ = ["Limits"]


class Limits:
    """Sizes beyond which a scenario or a command is refused."""

    MAX_HORIZON_DAYS = 36_600
    """At most 100 years of simulated time."""
    MAX_REVIEWERS = 100_000
    """At most this many reviewers."""
    MAX_ENTITIES = 10_000
    """At most this many manufacturers / exporters / lanes / background streams (and
    regimes, timeline entries, general licences)."""
    MAX_RATE_PER_WD = 100_000.0
    """At most this many background applications per working day per stream."""
    MAX_REPS = 1_000_000
    """At most this many replications."""
    MAX_DURATION_DAYS = 36_600
    """No duration (a ``_days`` or ``_wd`` field, or a distribution's value, bounds, mean
    or sd there) may exceed 100 years: longer ones mean nothing inside the horizon and
    make the working-day calendar grow without bound."""
    MAX_REVIEW_TIME_FACTOR = 100.0
    """At most this slow-down factor per policy rule."""
    MAX_APPLICATIONS = 1_000_000
    """At most this many expected background applications per replication
    (sum of ``rate_per_wd`` × horizon days); each costs about 0.5 ms and 4 kB."""
    MAX_DAILY_CELLS = 1_000_000
    """At most this many daily values per series per replication: horizon days ×
    (manufacturers + countries)."""
    MIN_CV = 1e-6
    """Smallest coefficient of variation (sd / mean) of a gamma distribution and of demand
    noise: below it their parameters overflow."""
    MAX_CV = 1e3
    """Largest coefficient of variation of a gamma or lognormal distribution and of demand
    noise: above it their parameters underflow."""

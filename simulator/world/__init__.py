"""Stage 2 of the pipeline: a scenario becomes one replication's world, which runs and
returns a :class:`~simulator.world.trace.Trace`.

The working-day calendar (:mod:`.calendar`), seed streams (:mod:`.rng`) and draws
(:mod:`.sampling`), policy (:mod:`.policy`), the licensing authority
(:mod:`.licensing`), goods on the move (:mod:`.logistics`), manufacturers
(:mod:`.manufacturing`), the trace's declarations (:mod:`.trace`) and the wiring
(:mod:`.world`).
"""

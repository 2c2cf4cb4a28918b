"""Stage 3 of the pipeline: one replication → a :class:`~simulator.replication.result.RunResult`.

The engine entry (:mod:`.engine`), tables decoded from the trace (:mod:`.tables`,
:mod:`.result`), KPIs (:mod:`.kpis`) and the digest an ensemble keeps (:mod:`.digest`).
"""

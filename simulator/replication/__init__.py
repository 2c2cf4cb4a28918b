"""Stage 3 of the pipeline: one replication → a :class:`~simulator.replication.result.RunResult`.

The engines by name (:mod:`.engines`), the engine entry (:mod:`.engine`), tables decoded
from the trace (:mod:`.tables`, :mod:`.result`), KPIs (:mod:`.kpis`), the digest an
ensemble keeps (:mod:`.digest`) and the notebook view with the HTML formatting every
view shares (:mod:`.views`).
"""

"""Stage 4 of the pipeline: many replications → ensemble statistics.

Running replications on executors (:mod:`.runner`, :mod:`.executors`) as the
execution options say (:mod:`.options`), folding their digests in bounded memory
(:mod:`.aggregate`) and the result views (:mod:`.results`: :class:`EnsembleResult`,
:class:`Comparison`; their notebook tables in :mod:`.views`, their ``.plot`` accessors
registered from the report stage in :mod:`.accessors`).
"""

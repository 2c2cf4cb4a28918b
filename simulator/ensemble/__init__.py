"""Stage 4 of the pipeline: many replications → ensemble statistics.

Running replications on executors (:mod:`.runner`, :mod:`.executors`), folding their
digests in bounded memory (:mod:`.aggregate`) and the result views
(:mod:`.results`: :class:`EnsembleResult`, :class:`Comparison`).
"""

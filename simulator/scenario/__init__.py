"""Stage 1 of the pipeline: YAML → a validated, frozen :class:`Scenario`.

Reading with positions (:mod:`.reading`), ``extends:`` and ``--set`` composition
(:mod:`.compose`), validation with located messages (:mod:`.translate`), the models by
part (:mod:`.authority`, :mod:`.policy`, :mod:`.goods`, :mod:`.manufacturers`,
:mod:`.model`), their field types and limits (:mod:`.types`), cross-field rules
(:mod:`.rules`) and the entry points (:mod:`.load`).
"""

"""Stage 5 of the pipeline: results become files a person reads.

Atomic writing (:mod:`.atomic`), the run directory (:mod:`.rundir`), figures
(:mod:`.plots`, :mod:`.plot_exports`, :mod:`.plot_comparison`, :mod:`.figures`, style
in :mod:`.plot_style`), observed data (:mod:`.observed`) and calibration tables against
it, rendered (:mod:`.calibration`; the targets themselves are observed and judged in
:mod:`simulator.explore.targets`).
"""

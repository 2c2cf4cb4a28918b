"""Exploring and fitting: many ensembles of one scenario, on top of the ensemble stage.

* :mod:`.params` — a parameter is a scenario path (as ``--set`` takes it) with a range:
  from ``--param PATH=LOW:HIGH[:N]``, a scenario's ``uncertainties:`` block or a
  targets file's ``parameters:``; overlay windows (``duration_days``, a moved ``from``);
* :mod:`.design` — which points run: grid, one at a time, Latin hypercube, Sobol
  (Saltelli), Morris; :mod:`.seeds` — their seeds, derived from the sweep's one seed;
* :mod:`.sweep` — an ensemble at every point with common random numbers
  (:func:`~simulator.explore.sweep.sweep`, ``relsim sweep``), a tidy table;
  :mod:`.store` — resuming an interrupted sweep; :mod:`.output` — its directory;
  :mod:`.cluster` — one Dask cluster for all points;
* :mod:`.sensitivity` — Sobol indices and Morris screening (SALib), tornado swings;
  :mod:`.plots` — stress-test maps, tornado charts, index charts;
* :mod:`.targets` — calibration targets (a targets file: observed facts with
  tolerances, free parameters), observed in every replication of an ensemble
  (``relsim calibrate --targets``) and judged;
* :mod:`.fit` — the free parameters of a targets file fitted to its targets
  (:func:`~simulator.explore.fit.fit`, ``relsim fit``).

Components never print; the CLI (:mod:`simulator.cli.sweep`, :mod:`simulator.cli.fit`)
calls them.
"""

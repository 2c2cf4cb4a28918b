"""Regression checks of scenario KPIs against stored baselines (``relsim regress``).

Baselines (:mod:`.baseline`), judging with statistically honest tolerances
(:mod:`.judge`), running scenarios for it (:mod:`.run`) and reports (:mod:`.reports`).
No command-line code: that is :mod:`simulator.cli.regress`.
"""

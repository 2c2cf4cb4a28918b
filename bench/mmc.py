"""Benchmark: M/M/4 at rho = 0.9, 200,000 applications.

Runs the relsim engine on an all-working-days calendar with neutral policy (the
authority as a plain M/M/c queue) and a minimal hand-written SimPy model of the same
queue, in the same process, and prints times, the ratio engine / minimal SimPy,
and (if installed: ``pip install ciw``, not a project dependency) Ciw on the same
queue. Mean waits are printed next to Erlang C as a sanity check. Times are CPU
seconds (``time.process_time``: robust to other load on a shared machine) with wall
seconds in brackets, per application; the three run interleaved (engine and SimPy
in alternating order), and both the best of ``--repeat`` and the median of the
paired per-repeat ratios are printed.

Usage: python bench/mmc.py [--apps N] [--repeat R] [--quick]
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
import simpy

from simulator.replication.engine import run
from simulator.scenario.model import Scenario

C, RHO, MEAN_SERVICE = 4, 0.9, 0.1  # service mean 0.1 day keeps the horizon short


def erlang_c_wq(c: int, lam: float, mu: float) -> float:
    """Mean wait in queue of M/M/c (Erlang C)."""
    a = lam / mu
    rho = a / c
    s = sum(a**k / math.factorial(k) for k in range(c))
    top = a**c / math.factorial(c) / (1 - rho)
    pw = top / (s + top)
    return pw / (c * mu - lam)


def scenario(n_apps: int) -> Scenario:
    lam = RHO * C / MEAN_SERVICE
    days = math.ceil(n_apps / lam)
    import datetime as dt

    start = dt.date(2000, 1, 1)
    return Scenario.model_validate(
        {
            "name": "mmc-bench",
            "start": start,
            "end": start + dt.timedelta(days=days - 1),
            "calendar": {"all_working": True},
            "countries": [{"id": "XX"}],
            "products": [{"id": "p"}],
            "authority": {
                "reviewers": C,
                "review_work_wd": {"kind": "exponential", "mean": MEAN_SERVICE},
                "statutory_limit_wd": None,
                "background": [{"destination": "XX", "product": "p", "rate_per_wd": lam}],
            },
        }
    )


def minimal_simpy(n_apps: int, seed: int) -> tuple[float, float, float]:
    lam = RHO * C / MEAN_SERVICE
    rng = np.random.default_rng(seed)
    gaps = rng.exponential(1 / lam, n_apps).tolist()
    service = rng.exponential(MEAN_SERVICE, n_apps).tolist()
    env = simpy.Environment()
    res = simpy.Resource(env, C)
    waits: list[float] = []

    def customer(s: float):
        t0 = env.now
        with res.request() as req:
            yield req
            waits.append(env.now - t0)
            yield env.timeout(s)

    def source():
        for g, s in zip(gaps, service, strict=True):
            yield env.timeout(g)
            env.process(customer(s))

    t, c = time.perf_counter(), time.process_time()
    env.process(source())
    env.run()
    return time.process_time() - c, time.perf_counter() - t, float(np.mean(waits))


def ciw_time(n_apps: int, seed: int) -> tuple[float, float] | None:
    try:
        import ciw
    except ImportError:
        return None
    lam = RHO * C / MEAN_SERVICE
    net = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(lam)],
        service_distributions=[ciw.dists.Exponential(1 / MEAN_SERVICE)],
        number_of_servers=[C],
    )
    ciw.seed(seed)
    sim = ciw.Simulation(net)
    t, c = time.perf_counter(), time.process_time()
    sim.simulate_until_max_customers(n_apps, method="Finish")
    return time.process_time() - c, time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--apps", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="50,000 applications, once")
    args = ap.parse_args()
    if args.quick:
        args.apps, args.repeat = 50_000, 1
    sc = scenario(args.apps)
    lam = RHO * C / MEAN_SERVICE
    wq = erlang_c_wq(C, lam, 1 / MEAN_SERVICE)
    eng, mini, ciws = [], [], []  # (CPU s, wall s) per application
    n_min = args.apps

    def engine(i: int) -> tuple[int, float]:
        t, c = time.perf_counter(), time.process_time()
        r = run(sc, seed=i)
        n = r.trace.n_applications
        eng.append(((time.process_time() - c) / n, (time.perf_counter() - t) / n))
        lic = r.licences
        return n, float((lic.review_start_days - lic.accepted_days).mean())

    def minimal(i: int) -> float:
        tm, tw, w = minimal_simpy(n_min, seed=i)
        mini.append((tm / n_min, tw / n_min))
        return w

    run(scenario(5_000), seed=99)  # warm-up, untimed: first-call costs (imports,
    minimal_simpy(5_000, seed=99)  # allocator growth) are not per-application costs
    for i in range(args.repeat):
        # alternate the order (ABBA...) so a drift in the machine's speed hits both alike
        if i % 2 == 0:
            n, w_eng = engine(i)
            w_min = minimal(i)
        else:
            w_min = minimal(i)
            n, w_eng = engine(i)
        cw = ciw_time(n_min, seed=i)
        if cw is not None:
            ciws.append((cw[0] / n_min, cw[1] / n_min))
        print(
            f"rep {i}: engine {n} applications {eng[-1][0] * n:.2f} s ({eng[-1][1] * n:.2f}) "
            f"Wq {w_eng:.4f} d; minimal SimPy {n_min} {mini[-1][0] * n_min:.2f} s "
            f"({mini[-1][1] * n_min:.2f}) Wq {w_min:.4f} d; "
            + (f"Ciw {cw[0]:.2f} s ({cw[1]:.2f}); " if cw is not None else "")
            + f"Erlang C Wq {wq:.4f} d",
            flush=True,
        )
    us = 1e6
    e, m = min(eng), min(mini)
    print(
        f"best of {args.repeat}, CPU (wall) microseconds per application: engine "
        f"{e[0] * us:.1f} ({e[1] * us:.1f}), minimal SimPy {m[0] * us:.1f} ({m[1] * us:.1f}); "
        f"engine / minimal SimPy = {e[0] / m[0]:.2f}x CPU, {e[1] / m[1]:.2f}x wall"
    )
    # each repeat runs both back to back on the same seed: the paired ratios cancel
    # slow phases of a shared machine that best-of can catch on one side only
    paired = sorted(a[0] / b[0] for a, b in zip(eng, mini, strict=True))
    print(
        f"paired engine / minimal SimPy per repeat (CPU): "
        f"{', '.join(f'{x:.2f}' for x in paired)}; median {float(np.median(paired)):.2f}x"
    )
    if ciws:
        c = min(ciws)
        print(
            f"Ciw {c[0] * us:.1f} ({c[1] * us:.1f}) us/application; Ciw / minimal SimPy = "
            f"{c[0] / m[0]:.2f}x CPU, {c[1] / m[1]:.2f}x wall; engine / Ciw = "
            f"{e[0] / c[0]:.2f}x CPU"
        )
    else:
        print("Ciw not installed (pip install ciw to compare)")


if __name__ == "__main__":
    main()

"""Benchmark: M/M/4 at rho = 0.9, 200,000 applications.

Runs relsim's two engines — the compiled kernel and the SimPy reference — on an
all-working-days calendar with neutral policy (the authority as a plain M/M/c queue),
a minimal hand-written SimPy model of the same queue and a plain pure-Python ``heapq``
event loop of it, in the same process, and prints times per application and their
ratios; and (if installed: ``pip install ciw``, not a project dependency) Ciw on the
same queue. Mean waits are printed next to Erlang C as a sanity check. Times are CPU
seconds (``time.process_time``: robust to other load on a shared machine) with wall
seconds in brackets, per application; the models run interleaved (the order rotating
from repeat to repeat), and both the best of ``--repeat`` and the median of the paired
per-repeat ratios are printed. The kernel's times include drawing its random numbers
and building the trace; it is compiled (or loaded from its cache) before timing.

Usage: python bench/mmc.py [--apps N] [--repeat R] [--quick]
"""

from __future__ import annotations

import argparse
import heapq
import math
import time
from collections import deque
from typing import Any

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


def heapq_loop(n_apps: int, seed: int) -> tuple[float, float, float]:
    """The same queue as a plain event loop: a heap of (time, seq, kind, customer), a
    FIFO of waiting customers, a count of free reviewers."""
    lam = RHO * C / MEAN_SERVICE
    rng = np.random.default_rng(seed)
    gaps = rng.exponential(1 / lam, n_apps).tolist()
    service = rng.exponential(MEAN_SERVICE, n_apps).tolist()
    t, c = time.perf_counter(), time.process_time()
    heap: list[tuple[float, int, int, int]] = [(gaps[0], 0, 0, 0)]
    seq = 1
    free = C
    queue: deque[tuple[int, float]] = deque()
    waits: list[float] = []
    push, pop = heapq.heappush, heapq.heappop
    while heap:
        now, _, kind, i = pop(heap)
        if kind == 0:  # arrival of customer i
            if i + 1 < n_apps:
                push(heap, (now + gaps[i + 1], seq, 0, i + 1))
                seq += 1
            if free:
                free -= 1
                waits.append(0.0)
                push(heap, (now + service[i], seq, 1, i))
                seq += 1
            else:
                queue.append((i, now))
        elif queue:  # a departure: the next waiting customer starts
            j, t0 = queue.popleft()
            waits.append(now - t0)
            push(heap, (now + service[j], seq, 1, j))
            seq += 1
        else:
            free += 1
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
    """Run the benchmark and print its figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--apps", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="50,000 applications, once")
    args = ap.parse_args()
    if args.quick:
        args.apps, args.repeat = 50_000, 1
    sc = scenario(args.apps)
    lam = RHO * C / MEAN_SERVICE
    wq = erlang_c_wq(C, lam, 1 / MEAN_SERVICE)
    n_min = args.apps
    times: dict[str, list[tuple[float, float]]] = {}  # (CPU s, wall s) per application
    waits: dict[str, float] = {}

    def engine(name: str, which: str, i: int) -> None:
        t, c = time.perf_counter(), time.process_time()
        r = run(sc, seed=i, engine=which)
        n = r.trace.n_applications
        times.setdefault(name, []).append(
            ((time.process_time() - c) / n, (time.perf_counter() - t) / n)
        )
        lic = r.licences
        waits[name] = float((lic.review_start_days - lic.accepted_days).mean())

    def loop(name: str, fn: Any, i: int) -> None:
        tm, tw, w = fn(n_min, seed=i)
        times.setdefault(name, []).append((tm / n_min, tw / n_min))
        waits[name] = w

    models = {
        "kernel": lambda i: engine("kernel", "kernel", i),
        "simpy engine": lambda i: engine("simpy engine", "simpy", i),
        "minimal SimPy": lambda i: loop("minimal SimPy", minimal_simpy, i),
        "heapq loop": lambda i: loop("heapq loop", heapq_loop, i),
    }
    # warm-up, untimed: first-call costs (compiling or loading the kernel, imports,
    # allocator growth) are not per-application costs
    run(scenario(5_000), seed=99, engine="kernel")
    run(scenario(5_000), seed=99, engine="simpy")
    minimal_simpy(5_000, seed=99)
    heapq_loop(5_000, seed=99)
    names = list(models)
    for i in range(args.repeat):
        order = names[i % len(names) :] + names[: i % len(names)]  # rotate the order
        for name in order:
            models[name](i)
        cw = ciw_time(n_min, seed=i)
        if cw is not None:
            times.setdefault("Ciw", []).append((cw[0] / n_min, cw[1] / n_min))
        print(
            f"repeat {i}: "
            + "; ".join(
                f"{k} {times[k][-1][0] * 1e6:.2f} us ({times[k][-1][1] * 1e6:.2f}) "
                f"Wq {waits.get(k, float('nan')):.4f} d"
                for k in times
            )
            + f"; Erlang C Wq {wq:.4f} d",
            flush=True,
        )
    us = 1e6
    best = {k: min(v) for k, v in times.items()}
    print(f"best of {args.repeat}, CPU (wall) microseconds per application:")
    for k, (c, w) in best.items():
        print(f"  {k:14s} {c * us:8.2f} ({w * us:8.2f})")
    h = best["heapq loop"][0]
    print(
        f"kernel / heapq loop = {best['kernel'][0] / h:.2f}x CPU; "
        f"simpy engine / kernel = {best['simpy engine'][0] / best['kernel'][0]:.1f}x; "
        f"minimal SimPy / kernel = {best['minimal SimPy'][0] / best['kernel'][0]:.1f}x; "
        f"simpy engine / minimal SimPy = {best['simpy engine'][0] / best['minimal SimPy'][0]:.2f}x"
    )
    # each repeat runs all of them on the same seed: the paired ratios cancel slow
    # phases of a shared machine that best-of can catch on one side only
    for a, b in (("kernel", "heapq loop"), ("simpy engine", "minimal SimPy")):
        paired = sorted(x[0] / y[0] for x, y in zip(times[a], times[b], strict=True))
        print(
            f"paired {a} / {b} per repeat (CPU): "
            f"{', '.join(f'{x:.2f}' for x in paired)}; median {float(np.median(paired)):.2f}x"
        )
    if "Ciw" not in times:
        print("Ciw not installed (pip install ciw to compare)")


if __name__ == "__main__":
    main()

"""`make bench`: load the whole system and compare it with the floor measured in the same run.

Prints a Markdown table, writes it to bench/results/latest.md with a PNG plot, and exits
non-zero if an invariant broke (a request assigned twice, a technician above capacity, a
request left unserved).
"""

import argparse
import asyncio
import statistics
import sys
import tempfile
import uuid
from dataclasses import replace
from pathlib import Path

import psutil

from bench.floor import Measure, relay_floor, store_floor
from bench.load import MODES, Results, Scenario, run_load
from testkit.backends import backends
from testkit.plugin import Backends
from testkit.system import System

RESULTS = Path(__file__).resolve().parent / "results"


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f}"


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def rss_mb(system: System) -> dict[str, float]:
    usage = {}
    for name, processes in system.processes.items():
        total = 0
        for process in processes:
            if process.process and process.process.poll() is None:
                total += psutil.Process(process.process.pid).memory_info().rss
        usage[name] = total / 2**20
    return usage


def invariants(results: Results) -> list[str]:
    problems = []
    twice = [key for key, count in results.assignments.items() if count > 1]
    if twice:
        problems.append(f"{len(twice)} assignment(s) published more than once: {twice[:3]}")
    unassigned = set(results.submitted) - set(results.assigned_at) - set(results.rejected)
    if unassigned:
        problems.append(f"{len(unassigned)} request(s) never assigned nor rejected")
    unfinished = set(results.submitted) - results.ended - set(results.rejected)
    if unfinished:
        problems.append(f"{len(unfinished)} request(s) stuck before the end of their chat")
    problems += results.capacity_violations
    if results.failed_submissions:
        problems.append(f"{len(results.failed_submissions)} submission(s) refused: {results.failed_submissions[:2]}")
    return problems


async def measure_system(base: Backends, run_dir: Path, workers: int, scenario: Scenario) -> tuple[Results, dict[str, float]]:
    phase = replace(base, run_id=f"{base.run_id}w{workers}")
    system = System(
        phase,
        run_dir / f"workers-{workers}",
        dispatch_workers=workers,
        env={"LOG_LEVEL": "WARNING", "SUBMISSION_LIMIT": "100000", "LOGIN_LIMIT": "100000"},
    )
    try:
        await system.start()
        results = await run_load(system.gateway_url, phase.rabbitmq_url, scenario, tag=uuid.uuid4().hex[:6])
        return results, rss_mb(system)
    finally:
        system.stop()


Floor = tuple[Measure, Measure, Measure, Measure]  # relay alone, store alone, relay loaded, store loaded


def table(floor: Floor, runs: dict[int, tuple[Results, dict[str, float]]], scenario: Scenario) -> str:
    relay, store, relay_loaded, store_loaded = floor
    floor_latency = relay.p50 + store.p50
    floor_throughput = min(relay_loaded.per_second, store_loaded.per_second)
    lines = [
        f"Scenario: {scenario.requests} requests at {scenario.rate_per_second}/s across "
        f"{scenario.portals_per_mode * len(MODES)} portals, {scenario.technicians} technicians "
        f"(capacity {scenario.capacity}), chats of {scenario.chat_seconds}s.",
        "",
        "| measure | p50 ms | p95 ms | p99 ms | per second |",
        "|---|---:|---:|---:|---:|",
    ]
    for measure, how in ((relay, "one at a time"), (store, "one at a time"), (relay_loaded, "20 in flight"), (store_loaded, "10 in flight")):
        lines.append(
            f"| floor: {measure.name}, {how} | {ms(measure.p50)} | {ms(measure.percentile(95))} "
            f"| {ms(measure.percentile(99))} | {measure.per_second:.0f} |"
        )
    for workers, (results, _) in runs.items():
        for mode in MODES:
            values = results.latencies(mode)
            if values:
                lines.append(
                    f"| submit→assigned, {mode}, {workers} dispatch worker(s) | {ms(statistics.median(values))} "
                    f"| {ms(percentile(values, 95))} | {ms(percentile(values, 99))} | |"
                )
        throughput = len(results.assigned_at) / results.elapsed if results.elapsed else 0
        lines.append(f"| assignments sustained, {workers} worker(s) | | | | {throughput:.1f} |")
    lines += ["", "| ratio to the floor | 1 worker | 2 workers |", "|---|---:|---:|"]
    ratios = {}
    for workers, (results, _) in runs.items():
        all_latencies = [v for m in MODES for v in results.latencies(m)]
        throughput = len(results.assigned_at) / results.elapsed if results.elapsed else 0
        ratios[workers] = (
            statistics.median(all_latencies) / floor_latency if all_latencies else float("nan"),
            throughput / floor_throughput,
        )
    lines.append("| p50 latency ÷ floor p50 (relay + store, one at a time) | " + " | ".join(f"{ratios[w][0]:.1f}×" for w in sorted(ratios)) + " |")
    lines.append("| throughput ÷ floor throughput (the slower of relay and store, loaded) | " + " | ".join(f"{ratios[w][1]:.3f}" for w in sorted(ratios)) + " |")
    lines += ["", "| RSS (MiB) | " + " | ".join(f"{w} worker(s)" for w in sorted(runs)) + " |", "|---|" + "---:|" * len(runs)]
    for name in next(iter(runs.values()))[1]:
        lines.append(f"| {name} | " + " | ".join(f"{runs[w][1][name]:.0f}" for w in sorted(runs)) + " |")
    lines += ["", "Invariants:"]
    for workers, (results, _) in runs.items():
        problems = invariants(results)
        lines.append(
            f"- {workers} worker(s): {len(results.submitted)} submitted, {len(results.assigned_at)} assigned, "
            f"{len(results.rejected)} rejected ({', '.join(sorted(set(results.rejected.values()))) or 'none'}), "
            f"{len(results.ended)} chats ended, max concurrent chats per technician "
            f"{max(results.max_active.values(), default=0)} (capacity {scenario.capacity}): "
            + ("OK" if not problems else "; ".join(problems))
        )
    return "\n".join(lines)


def plot(runs: dict[int, tuple[Results, dict[str, float]]], floor_latency: float, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(8, 4.5))
    for workers, (results, _) in runs.items():
        for mode in MODES:
            values = sorted(v * 1000 for v in results.latencies(mode))
            if values:
                fractions = [(i + 1) / len(values) for i in range(len(values))]
                axis.plot(values, fractions, label=f"{mode}, {workers} worker(s)", linestyle="-" if workers == 1 else "--")
    axis.axvline(floor_latency * 1000, color="grey", linestyle=":", label="floor p50 (relay + store)")
    axis.set_xscale("log")
    axis.set_xlabel("submit → assigned latency (ms, log scale)")
    axis.set_ylabel("fraction of requests")
    axis.set_title("Assistline: submit → assigned latency per mode")
    axis.legend(fontsize=8)
    axis.grid(True, alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=110)


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=Scenario.requests)
    parser.add_argument("--rate", type=float, default=Scenario.rate_per_second)
    parser.add_argument("--technicians", type=int, default=Scenario.technicians)
    args = parser.parse_args()
    scenario = Scenario(requests=args.requests, rate_per_second=args.rate, technicians=args.technicians)
    RESULTS.mkdir(exist_ok=True)
    run_id = "bench" + uuid.uuid4().hex[:6]
    with tempfile.TemporaryDirectory() as tmp, backends(run_id, Path(tmp)) as (rabbit, mongo, embedded):
        base = Backends(run_id, rabbit, mongo, embedded)
        floor = (
            await relay_floor(rabbit, 200, 1),
            await store_floor(mongo, 100, 1),
            await relay_floor(rabbit, 500, 20),
            await store_floor(mongo, 200, 10),
        )
        runs = {}
        for workers in (1, 2):
            runs[workers] = await measure_system(base, Path(tmp), workers, scenario)
    report = table(floor, runs, scenario)
    print(report)
    (RESULTS / "latest.md").write_text(report + "\n")
    plot(runs, floor[0].p50 + floor[1].p50, RESULTS / "latency.png")
    print(f"\nwritten: {RESULTS / 'latest.md'}, {RESULTS / 'latency.png'}")
    return 1 if any(invariants(results) for results, _ in runs.values()) else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

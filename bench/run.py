"""`make bench`: find the highest request rate the system sustains, beside the floor.

In one run: the floor (a bare broker relay and the bare store operations of one assignment),
then for 1 and then 2 dispatch workers a ramp of offered rates — each step a bounded number
of requests — until p99 submit→assigned passes the limit (2 s) or a submission fails. Every
step checks the invariants and reads each service process's `/stats` (PyMongo command
monitoring, CPU, RSS) before and after, so the cost per assigned request is measured, not
estimated. `--soak` instead pushes N requests (default 10,000) in windows of 1,000 and
compares the first and the last window. Writes Markdown and a PNG plot to bench/results/ and
exits non-zero if a request was assigned twice or a technician went above capacity.
"""

import argparse
import asyncio
import contextlib
import math
import os
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx
import psutil  # type: ignore[import-untyped]

from bench.floor import Measure, relay_floor, store_floor
from bench.load import MODES, LoadSession, Results, Scenario
from testkit.backends import EmbeddedStores, backends
from testkit.plugin import Backends
from testkit.system import System

RESULTS = Path(__file__).resolve().parent / "results"
SERVICES = ("portal-svc", "presence-svc", "dispatch-svc", "chat-svc")


def ms(seconds: float) -> str:
    return "—" if math.isnan(seconds) else f"{seconds * 1000:.0f}"


@dataclass
class Usage:
    """One service's cost over a step (all its processes together; RSS of the largest)."""

    commands: int = 0
    failed: int = 0
    store_seconds: float = 0.0
    cpu_seconds: float = 0.0
    rss_bytes: int = 0
    by_command: dict[str, int] = field(default_factory=dict)
    by_collection: dict[str, int] = field(default_factory=dict)
    """`"<command> <collection>"` → count: where the commands go."""
    contention: dict[str, int] = field(default_factory=dict)
    """dispatch only: collisions between workers (`/stats/contention`)."""


async def read_stats(system: System) -> dict[str, list[dict[str, Any]]]:
    """Every service process's `/stats`, read directly (not through the gateway)."""
    stats: dict[str, list[dict[str, Any]]] = {}
    async with httpx.AsyncClient(timeout=10) as http:
        for name in SERVICES:
            prefix = "/api/" + name.removesuffix("-svc")
            stats[name] = [
                (await http.get(f"{process.base_url}{prefix}/stats")).raise_for_status().json()
                for process in system.processes[name]
            ]
            if name == "dispatch-svc":
                for process, entry in zip(system.processes[name], stats[name], strict=True):
                    response = await http.get(f"{process.base_url}{prefix}/stats/contention")
                    entry["contention"] = response.raise_for_status().json()
    return stats


def usage_between(before: dict[str, list[dict[str, Any]]], after: dict[str, list[dict[str, Any]]]) -> dict[str, Usage]:
    usage = {}
    for name in SERVICES:
        total = Usage()
        by_command: dict[str, int] = defaultdict(int)
        by_collection: dict[str, int] = defaultdict(int)
        for old, new in zip(before[name], after[name], strict=True):
            total.commands += new["store"]["commands"] - old["store"]["commands"]
            total.failed += new["store"]["failed"] - old["store"]["failed"]
            total.store_seconds += new["store"]["seconds"] - old["store"]["seconds"]
            total.cpu_seconds += new["process"]["cpu_seconds"] - old["process"]["cpu_seconds"]
            total.rss_bytes = max(total.rss_bytes, new["process"]["rss_bytes"])
            for command, counts in new["store"]["by_command"].items():
                was = old["store"]["by_command"].get(command, {"ok": 0, "failed": 0})
                by_command[command] += counts["ok"] + counts["failed"] - was["ok"] - was["failed"]
            for where, count in new["store"].get("by_collection", {}).items():
                by_collection[where] += count - old["store"].get("by_collection", {}).get(where, 0)
        total.by_command = {k: v for k, v in sorted(by_command.items()) if v}
        total.by_collection = {k: v for k, v in sorted(by_collection.items(), key=lambda kv: -kv[1]) if v}
        contention: dict[str, int] = defaultdict(int)
        for old, new in zip(before[name], after[name], strict=True):
            for key, value in new.get("contention", {}).items():
                contention[key] += value - old.get("contention", {}).get(key, 0)
        total.contention = dict(contention)
        usage[name] = total
    return usage


@dataclass
class Machine:
    """CPU over a step: the whole machine's busy share, and each service's embedded store."""

    busy: float = float("nan")
    """Busy share of all cores (0–1): services, stores, broker, gateway and the load itself."""
    store_cpu_seconds: dict[str, float] = field(default_factory=dict)
    other_cpu_seconds: dict[str, float] = field(default_factory=dict)
    """The rest of the machine's busy time that a request costs: `OTHERS`."""


OTHERS = ("broker", "gateway", "load")
"""RabbitMQ's Erlang VM, nginx, and this process (the customers and help centres it plays)."""


def _other_cpu_seconds() -> dict[str, float]:
    spent = dict.fromkeys(OTHERS, 0.0)
    for process in psutil.process_iter(["pid", "name", "cpu_times"]):
        name, times = process.info["name"] or "", process.info["cpu_times"]
        if times is None:
            continue
        kind = "load" if process.info["pid"] == os.getpid() else {"beam.smp": "broker", "nginx": "gateway"}.get(name)
        if kind is not None:
            spent[kind] += times.user + times.system
    return spent


class MachineMeter:
    def __init__(self, store_pids: Mapping[str, int]) -> None:
        self.stores = {service: psutil.Process(pid) for service, pid in store_pids.items()}

    def _read(self) -> tuple[float, float, dict[str, float], dict[str, float]]:
        times = psutil.cpu_times()
        idle = times.idle + getattr(times, "iowait", 0.0)
        stores = {service: sum(process.cpu_times()[:2]) for service, process in self.stores.items()}
        return sum(times) - idle, sum(times), stores, _other_cpu_seconds()

    @contextlib.contextmanager
    def measure(self) -> Iterator[Machine]:
        busy, total, stores, others = self._read()
        machine = Machine()
        yield machine
        busy_after, total_after, stores_after, others_after = self._read()
        machine.busy = (busy_after - busy) / (total_after - total) if total_after > total else float("nan")
        machine.store_cpu_seconds = {service: stores_after[service] - stores[service] for service in stores}
        machine.other_cpu_seconds = {kind: others_after[kind] - others[kind] for kind in OTHERS}


@dataclass
class Step:
    results: Results
    usage: dict[str, Usage]
    problems: list[str]
    held: bool
    machine: Machine = field(default_factory=Machine)

    @property
    def assigned(self) -> int:
        return len(self.results.assigned_at)

    def per_assigned(self, value: float) -> float:
        return value / self.assigned if self.assigned else float("nan")


def safety_problems(problems: list[str]) -> list[str]:
    return [p for p in problems if "claimed twice" in p or ("chats" in p and "had" in p)]


async def measured_step(
    system: System, session: LoadSession, meter: MachineMeter, rate: float, requests: int, p99_limit: float
) -> Step:
    before = await read_stats(system)
    with meter.measure() as machine:
        results = await session.step(rate, requests)
    usage = usage_between(before, await read_stats(system))
    problems = results.invariants(session.scenario.capacity)
    held = not problems and results.drained and results.percentile(99) <= p99_limit
    return Step(results, usage, problems, held, machine)


def start_system(base: Backends, run_dir: Path, workers: int, tag: str, partitions: int) -> System:
    phase = replace(base, run_id=f"{base.run_id}{tag}")
    return System(
        phase,
        run_dir / tag,
        dispatch_workers=workers,
        env={
            "LOG_LEVEL": "WARNING",
            "SUBMISSION_LIMIT": "1000000",
            "LOGIN_LIMIT": "1000000",
            # dispatch's company partitions (0: every worker competes for every event)
            "PARTITIONS": str(partitions),
        },
    )


IDLE_SECONDS = 10.0


async def ramp(
    base: Backends, run_dir: Path, workers: int, args: argparse.Namespace, scenario: Scenario, meter: MachineMeter
) -> tuple[dict[str, Usage], list[Step]]:
    """The steps of the ramp, and before them what the system costs with no requests at all
    (help centres connected: leases, heartbeats, sweepers), over `IDLE_SECONDS`."""
    system = start_system(base, run_dir, workers, f"w{workers}", args.partitions)
    steps: list[Step] = []
    try:
        await system.start()
        async with LoadSession(system.gateway_url, base.rabbitmq_url, scenario) as session:
            before = await read_stats(system)
            await asyncio.sleep(IDLE_SECONDS)
            idle = usage_between(before, await read_stats(system))
            for rate in args.rates:
                requests = max(args.min_requests, min(args.max_requests, round(rate * args.step_seconds)))
                step = await measured_step(system, session, meter, rate, requests, args.p99_limit)
                steps.append(step)
                print(step_line(workers, step), flush=True)
                if not step.held:
                    break
    finally:
        system.stop()
    return idle, steps


def idle_line(idle: dict[str, Usage]) -> str:
    per_second = [idle[s].commands / IDLE_SECONDS for s in SERVICES]
    return (
        f"With no requests (help centres connected) the services issue {' · '.join(f'{c:.1f}' for c in per_second)}"
        f" = {sum(per_second):.1f} store commands per second (periodic work), charged to the requests of each step."
    )


def step_line(workers: int, step: Step) -> str:
    r = step.results
    total = sum(u.commands for u in step.usage.values())
    return (
        f"{workers} worker(s) @ {r.rate:g}/s: {len(r.submitted)} submitted, {step.assigned} assigned, "
        f"p50 {ms(r.p50)} ms, p99 {ms(r.percentile(99))} ms, {step.per_assigned(total):.1f} store commands/request"
        f" — {'held' if step.held else 'did not hold: ' + ('; '.join(step.problems) or 'p99 over the limit or not drained')}"
    )


def highest_held(steps: list[Step]) -> float:
    held = [s.results.rate for s in steps if s.held]
    return max(held) if held else 0.0


def floor_table(floor: tuple[Measure, Measure, Measure, Measure]) -> list[str]:
    lines = ["| floor | p50 ms | p99 ms | per second |", "|---|---:|---:|---:|"]
    for measure, how in zip(floor, ("one at a time", "one at a time", "20 in flight", "10 in flight"), strict=True):
        lines.append(
            f"| {measure.name}, {how} | {ms(measure.p50)} | {ms(measure.percentile(99))} | {measure.per_second:.0f} |"
        )
    return lines


def ramp_table(workers: int, steps: list[Step]) -> list[str]:
    lines = [
        f"### {workers} dispatch worker(s): highest sustained rate **{highest_held(steps):g}/s**",
        "",
        "| offered /s | requests | assigned /s | p50 ms | p99 ms | p50 ms by mode: web · queue · phone "
        "| store cmds / request: portal · presence · dispatch · chat = total "
        "| CPU ms / request: portal · presence · dispatch · chat | max RSS MiB: portal · presence · dispatch · chat "
        "| dispatch collisions: lost writes · held slots · retries · step-backs "
        "| store CPU ms / request: portal · presence · dispatch · chat "
        "| other CPU ms / request: broker · gateway · load | machine busy | invariants |",
        "|---:|---:|---:|---:|---:|---|---|---|---|---|---|---|---|---:|---|",
    ]
    for step in steps:
        r = step.results
        commands = [step.per_assigned(step.usage[s].commands) for s in SERVICES]
        cpu = [step.per_assigned(step.usage[s].cpu_seconds) * 1000 for s in SERVICES]
        rss = [step.usage[s].rss_bytes / 2**20 for s in SERVICES]
        lines.append(
            f"| {r.rate:g} | {len(r.submitted)} | {step.assigned / r.elapsed if r.elapsed else 0:.1f} | {ms(r.p50)} "
            f"| {ms(r.percentile(99))} | {' · '.join(ms(r.median(mode)) for mode in MODES)} "
            f"| {' · '.join(f'{c:.1f}' for c in commands)} = **{sum(commands):.1f}** "
            f"| {' · '.join(f'{c:.0f}' for c in cpu)} | {' · '.join(f'{m:.0f}' for m in rss)} "
            f"| {collisions(step.usage['dispatch-svc'])} | {store_cpu(step)} | {other_cpu(step)} "
            f"| {step.machine.busy:.0%} "
            f"| {'OK' if not step.problems else '; '.join(step.problems)} |"
        )
    return lines


def store_cpu(step: Step) -> str:
    cpu = step.machine.store_cpu_seconds
    if not cpu:
        return "— (one shared server)"
    return " · ".join(f"{step.per_assigned(cpu[s]) * 1000:.0f}" for s in SERVICES)


def other_cpu(step: Step) -> str:
    cpu = step.machine.other_cpu_seconds
    return " · ".join(f"{step.per_assigned(cpu.get(kind, float('nan'))) * 1000:.0f}" for kind in OTHERS)


def collisions(usage: Usage) -> str:
    keys = ("lost_writes", "held_slots", "retries", "step_backs")
    return " · ".join(str(usage.contention.get(key, 0)) for key in keys)


def command_mix(steps: list[Step]) -> list[str]:
    """Which commands each service issues per assigned request, at the highest rate that held."""
    held = [s for s in steps if s.held] or steps[:1]
    if not held:
        return []
    step = held[-1]
    lines = [f"Store commands per assigned request by command, at {step.results.rate:g}/s:", ""]
    for name in SERVICES:
        usage = step.usage[name]
        mix = ", ".join(f"{command} {step.per_assigned(n):.1f}" for command, n in usage.by_command.items())
        store_ms = usage.store_seconds / usage.commands * 1000 if usage.commands else float("nan")
        lines.append(f"- {name}: {mix or 'none'} (store time {store_ms:.1f} ms per command)")
        where = ", ".join(f"{key} {step.per_assigned(n):.1f}" for key, n in list(usage.by_collection.items())[:8])
        lines.append(f"  - most commands went to: {where or 'none'}")
    return lines


def plot(ramps: dict[int, list[Step]], floor_latency: float, p99_limit: float, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(8, 4.5))
    for workers, steps in ramps.items():
        rates = [s.results.rate for s in steps]
        style = "-" if workers == 1 else "--"
        axis.plot(rates, [s.results.p50 * 1000 for s in steps], style, marker="o", label=f"p50, {workers} worker(s)")
        axis.plot(
            rates,
            [s.results.percentile(99) * 1000 for s in steps],
            style,
            marker="^",
            label=f"p99, {workers} worker(s)",
        )
    axis.axhline(p99_limit * 1000, color="red", linestyle=":", label=f"p99 limit ({p99_limit:g} s)")
    axis.axhline(floor_latency * 1000, color="grey", linestyle=":", label="floor p50 (relay + store)")
    axis.set_yscale("log")
    axis.set_xlabel("offered rate (requests per second)")
    axis.set_ylabel("submit → assigned (ms, log scale)")
    axis.set_title("Assistline: latency against offered rate")
    axis.legend(fontsize=8)
    axis.grid(True, alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=110)


async def soak(
    base: Backends, run_dir: Path, args: argparse.Namespace, scenario: Scenario, meter: MachineMeter
) -> tuple[str, bool]:
    system = start_system(base, run_dir, 1, "soak", args.partitions)
    windows: list[Step] = []
    began = time.monotonic()
    try:
        await system.start()
        async with LoadSession(system.gateway_url, base.rabbitmq_url, scenario) as session:
            for start in range(0, args.soak_requests, args.window):
                count = min(args.window, args.soak_requests - start)
                windows.append(await measured_step(system, session, meter, args.soak_rate, count, args.p99_limit))
                print(f"soak {start + count}/{args.soak_requests}: " + step_line(1, windows[-1]), flush=True)
    finally:
        system.stop()
    lines = [
        f"Soak: {args.soak_requests} requests at {args.soak_rate:g}/s, 1 dispatch worker, chats of "
        f"{scenario.chat_messages} messages, in windows of {args.window}; ran {(time.monotonic() - began) / 60:.1f} min.",
        "",
        "| window | p50 ms | p99 ms | store ms per command | store ms per command: portal · presence · dispatch "
        "· chat | store CPU ms / request: portal · presence · dispatch · chat | store cmds / request | machine busy "
        "| invariants |",
        "|---|---:|---:|---:|---|---|---:|---:|---|",
    ]
    # Every window, not only the first and the last: a store that slows down as its data grows
    # shows here, service by service, in store time per command and in store CPU.
    for number, step in enumerate(windows, start=1):
        commands = sum(u.commands for u in step.usage.values())
        seconds = sum(u.store_seconds for u in step.usage.values())
        each = " · ".join(
            f"{u.store_seconds / u.commands * 1000:.1f}" if u.commands else "—"
            for u in (step.usage[name] for name in SERVICES)
        )
        lines.append(
            f"| {number} ({len(step.results.submitted)}) | {ms(step.results.p50)} | {ms(step.results.percentile(99))} "
            f"| {seconds / commands * 1000 if commands else float('nan'):.2f} | {each} | {store_cpu(step)} "
            f"| {step.per_assigned(commands):.1f} | {step.machine.busy:.0%} "
            f"| {'OK' if not step.problems else '; '.join(step.problems)} |"
        )
    safe = not any(safety_problems(w.problems) for w in windows)
    return "\n".join(lines), safe


@contextlib.contextmanager
def service_stores(wanted: bool, tmp: Path) -> Iterator[EmbeddedStores | None]:
    """The embedded store topology of `make run`: a server per service (see `EmbeddedStores`)."""
    if not wanted:
        yield None
        return
    stores = EmbeddedStores(tmp / "stores", SERVICES)
    stores.start()
    try:
        yield stores
    finally:
        stores.stop()


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", default="1,2,4,6,8,10,12,16,20", help="offered rates to step through (per second)")
    parser.add_argument("--step-seconds", type=float, default=10.0, help="each step offers about this long")
    parser.add_argument("--min-requests", type=int, default=10)
    parser.add_argument("--max-requests", type=int, default=150)
    parser.add_argument("--p99-limit", type=float, default=2.0, help="seconds, submit→assigned")
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--partitions", type=int, default=0, help="dispatch company partitions (0, the default: off)")
    parser.add_argument("--technicians", type=int, default=Scenario.technicians)
    parser.add_argument("--capacity", type=int, default=Scenario.capacity)
    parser.add_argument(
        "--stores",
        choices=("per-service", "shared"),
        default="per-service",
        help="embedded store: a server per service as `make run` starts them, or one for all",
    )
    parser.add_argument("--soak", action="store_true", help="run the soak instead of the ramp")
    parser.add_argument("--soak-requests", "--requests", type=int, default=10_000, help="soak: how many requests")
    parser.add_argument(
        "--soak-rate", type=float, default=2.0, help="soak: offered rate (10,000 at 2/s take about 85 minutes)"
    )
    parser.add_argument("--window", type=int, default=1_000)
    parser.add_argument("--chat-messages", type=int, default=Scenario.chat_messages)
    args = parser.parse_args()
    args.rates = [float(rate) for rate in args.rates.split(",")]
    args.workers = [int(workers) for workers in args.workers.split(",")]
    return args


async def main() -> int:
    args = parse()
    scenario = Scenario(technicians=args.technicians, capacity=args.capacity, chat_messages=args.chat_messages)
    RESULTS.mkdir(exist_ok=True)
    run_id = "bench" + uuid.uuid4().hex[:6]
    with (
        tempfile.TemporaryDirectory() as tmp,
        backends(run_id, Path(tmp)) as (rabbit, mongo, embedded),
        service_stores(embedded is not None and args.stores == "per-service", Path(tmp)) as stores,
    ):
        base = Backends(run_id, rabbit, mongo, embedded, service_mongodb_urls=stores.urls() if stores else {})
        meter = MachineMeter(stores.pids() if stores else {})
        if args.soak:
            report, safe = await soak(base, Path(tmp), args, scenario, meter)
            print(report)
            (RESULTS / "soak.md").write_text(report + "\n")
            return 0 if safe else 1
        floor = (
            await relay_floor(rabbit, 200, 1),
            await store_floor(mongo, 100, 1),
            await relay_floor(rabbit, 500, 20),
            await store_floor(mongo, 200, 10),
        )
        measured = {workers: await ramp(base, Path(tmp), workers, args, scenario, meter) for workers in args.workers}
    ramps = {workers: steps for workers, (_, steps) in measured.items()}
    floor_latency = floor[0].p50 + floor[1].p50
    lines = [
        f"Ramp: steps of about {args.step_seconds:g} s ({args.min_requests}–{args.max_requests} requests) at "
        f"{', '.join(f'{r:g}' for r in args.rates)} requests/s until p99 submit→assigned passes "
        f"{args.p99_limit:g} s or a submission fails; {scenario.portals_per_mode * 3} portals (Web, Queue, Phone), "
        f"{scenario.technicians} technicians (capacity {scenario.capacity}), chats of {scenario.chat_messages} messages; "
        f"dispatch company partitions: {args.partitions or 'off'}; embedded store: "
        f"{'a server per service' if base.service_mongodb_urls else 'one server for all'}.",
        "",
        "| highest sustained rate | " + " | ".join(f"{w} worker(s)" for w in ramps) + " |",
        "|---|" + "---:|" * len(ramps),
        "| requests/s with p99 ≤ limit, invariants OK | "
        + " | ".join(f"{highest_held(s):g}" for s in ramps.values())
        + " |",
        "",
        f"Floor p50 (relay + store, one at a time): {ms(floor_latency)} ms.",
        "",
        *floor_table(floor),
    ]
    for workers, (idle, steps) in measured.items():
        lines += ["", *ramp_table(workers, steps), "", idle_line(idle), "", *command_mix(steps)]
    report = "\n".join(lines)
    print("\n" + report)
    (RESULTS / "latest.md").write_text(report + "\n")
    plot(ramps, floor_latency, args.p99_limit, RESULTS / "latency.png")
    print(f"\nwritten: {RESULTS / 'latest.md'}, {RESULTS / 'latency.png'}")
    return 1 if any(safety_problems(s.problems) for steps in ramps.values() for s in steps) else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

"""The largest load of the live benchmark that keeps both targets, as participants per core.

With BENCH_CAPACITY=<sessions>,<sessions>,… (say 2,4,6,8,10: at most BENCH_SESSIONS), the
live benchmark runs its load once more for each number of sessions, smallest first, on
one server, each for BENCH_SECONDS: change -> every other participant's page up to date
(p95 < 100 ms) and the bare endpoint (p95 < 20 ms), with the load average. The largest load
where both hold is reported as participants per core (sessions x participants / cores)."""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path

from tests.bench import live

UPDATE_P95 = 0.100  # change -> every other participant, seconds
BARE_P95 = 0.020  # the bare endpoint, seconds


def steps() -> list[int]:
    raw = os.environ.get("BENCH_CAPACITY", "")
    sizes = sorted({int(part) for part in raw.split(",") if part.strip()})
    return [size for size in sizes if 0 < size <= live.SESSIONS]


def search(bench_url: str, redis_url: str, rooms: list[live.Room]) -> None:
    sizes = steps()
    if not sizes:
        return
    cores = os.cpu_count() or 1
    print(f"Capacity: {', '.join(map(str, sizes))} sessions x {live.PARTICIPANTS} …", flush=True)
    results = []
    with tempfile.TemporaryDirectory() as probe_dir:
        probe = Path(probe_dir)
        server, url = live.start_server(bench_url, redis_url, live.WORKERS, live.ROOT, probe)
        try:
            for size in sizes:
                live.reset_answers(bench_url)
                run = live.Run(label=f"{size} sessions")
                asyncio.run(live.load_run(url, rooms[:size], probe, run))
                results.append((size, run))
        finally:
            live.stop(server)
    print()
    print(
        f"  {'sessions':>8} {'people':>7} {'per core':>9} {'change->all p95':>16}"
        f" {'bare p95':>9} {'errors':>7} {'load (1 min)':>13}  both targets"
    )
    best = None
    for size, run in results:
        update = live.percentile(run.update, 95)
        bare = live.percentile(run.baseline, 95)
        kept = update < UPDATE_P95 and bare < BARE_P95 and not run.errors
        if kept:
            best = size
        people = size * live.PARTICIPANTS
        print(
            f"  {size:>8} {people:>7} {people / cores:>9.0f} {update * 1000:>13.1f} ms"
            f" {bare * 1000:>6.1f} ms {run.errors:>7} {run.load[1].split()[0]:>13}"
            f"  {'yes' if kept else 'no'}"
        )
    for size, run in results:
        if run.why:
            print(
                f"  {size} sessions, errors: "
                + ", ".join(f"{n} {why}" for why, n in run.why.items())
            )
    if best is None:
        print("  No load tried kept both targets.")
    else:
        people = best * live.PARTICIPANTS
        print(
            f"  Largest load that keeps both: {best} sessions x {live.PARTICIPANTS} ="
            f" {people} participants, {people / cores:.0f} per core ({cores} cores)"
        )

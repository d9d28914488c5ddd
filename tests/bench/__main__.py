"""`make bench`: the benchmarks, each a script of its own (tests/bench/<name>.py with a
main()), run in turn. `python -m tests.bench live pdf` runs only those named.

Figures are reported as ratios against a baseline measured in the same process and run,
never as absolute targets asserted in tests."""

import importlib
import sys

SUITES = ["live", "pdf", "reminders"]


def main(argv: list[str]) -> None:
    for name in argv or SUITES:
        print(f"\n=== {name} ===", flush=True)
        importlib.import_module(f"tests.bench.{name}").main()


if __name__ == "__main__":
    main(sys.argv[1:])

"""Run every side-by-side benchmark and gather their tables into benchmarks/RESULTS.md.

    make bench                      # installs the peers (MLflow, DVC), then runs this
    python benchmarks/run_all.py    # the same, when the peers are installed
    python benchmarks/run_all.py data tracking   # only those
    python benchmarks/run_all.py --collect       # only rebuild RESULTS.md from results/

Each ``bench_*.py`` script prints its table and writes it to ``results/NAME.md``;
this script runs them one after another (never in parallel: they time things) and
joins the files under a header that names the machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"


def machine() -> str:
    cores = os.cpu_count()
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{platform.machine()}, {cores} cores, {mem:.0f} GiB, Python {platform.python_version()}"


def section(path: Path) -> str:
    """One result file, its title demoted to a section under the page's own title."""
    text = path.read_text(encoding="utf-8").strip()
    return "#" + text if text.startswith("# ") else text


def main(argv: list[str]) -> None:
    available = sorted(HERE.glob("bench_*.py"))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    known = [s.stem.removeprefix("bench_") for s in available]
    parser.add_argument(
        "names", nargs="*", help=f"run only these benchmarks: {', '.join(known)} (default: all)"
    )
    parser.add_argument(
        "--collect", action="store_true", help="only rebuild RESULTS.md from results/"
    )
    args = parser.parse_args(argv)
    unknown = sorted(set(args.names) - set(known))
    if unknown:
        parser.error(f"no benchmark named {', '.join(unknown)}; choose from {', '.join(known)}")
    scripts = [] if args.collect else available
    if args.names:
        scripts = [s for s in scripts if s.stem.removeprefix("bench_") in args.names]
    for script in scripts:
        print(f"== {script.name}", flush=True)
        subprocess.run([sys.executable, str(script)], check=True)
    sections = [section(p) for p in sorted(RESULTS.glob("*.md"))]
    header = (
        "# Benchmark results\n\n"
        "Each table compares sluice with the peer named in its issue, in the same script\n"
        f"on the same machine ({machine()}), last gathered {time.strftime('%Y-%m-%d')}.\n"
        "Reproduce everything with `make bench`, or one table with the command under it.\n"
    )
    (HERE / "RESULTS.md").write_text(header + "\n" + "\n\n".join(sections) + "\n", encoding="utf-8")
    print(f"wrote {HERE / 'RESULTS.md'}")


if __name__ == "__main__":
    main(sys.argv[1:])

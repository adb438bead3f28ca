"""Time every pipeline stage on this machine: wall seconds and peak memory (RSS) per stage.

    .venv/bin/python benchmarks/pipeline_bench.py            # all stages, current params.yaml
    .venv/bin/python benchmarks/pipeline_bench.py train evaluate

Runs each stage as `tuneloop <stage>` in a child process (what `dvc repro` runs), one after the
other, from the repo root, and prints one table. It rewrites the stages' outputs like `dvc repro -f`
would; afterwards `dvc commit -f` (or `dvc repro`) brings dvc.lock back in line if they changed.
The target it checks: the whole default run under 15 minutes on 2 CPU cores (README).
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from pathlib import Path

STAGES = ["base", "prepare", "build", "split", "train", "evaluate", "gate", "card"]
TARGET_SECONDS = 15 * 60


def run_stage(stage: str, tuneloop: str) -> tuple[float, float]:
    """(wall seconds, peak RSS in MiB) of one stage run in a fresh child process."""
    start = time.perf_counter()
    proc = subprocess.Popen([tuneloop, stage], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"stage {stage} failed:\n{proc.stderr.read()[-3000:]}")
    return wall, usage.ru_maxrss / 1024  # ru_maxrss is KiB on Linux


def main(argv: list[str]) -> int:
    stages = argv or STAGES
    root = Path(__file__).resolve().parents[1]
    os.chdir(root)
    tuneloop = str(Path(sys.executable).parent / "tuneloop")
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB, Python {platform.python_version()}"
    )
    print(f"{'stage':<10} {'wall s':>8} {'peak RSS MiB':>13}")
    total = 0.0
    for stage in stages:
        wall, rss = run_stage(stage, tuneloop)
        total += wall
        print(f"{stage:<10} {wall:>8.1f} {rss:>13.0f}", flush=True)
    print(f"{'total':<10} {total:>8.1f}")
    if stages == STAGES:
        verdict = "within" if total <= TARGET_SECONDS else "OVER"
        print(f"target: whole pipeline <= {TARGET_SECONDS} s: {verdict} ({total / 60:.1f} min)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

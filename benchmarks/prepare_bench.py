"""prepare end to end (read, validate, redact, quality, dedup, write, report) at 10k and 100k tickets.

    .venv/bin/python benchmarks/prepare_bench.py                 # 10k and 100k, both worker settings
    .venv/bin/python benchmarks/prepare_bench.py --sizes 10000 --workers 2
    .venv/bin/python benchmarks/prepare_bench.py --engine rules      # redact.engine (default: presidio)

A synthetic corpus of N tickets comes from the example-corpus generator (the same distribution as the
default: PII, duplicates, bad records) with a different seed per size. Each (size, workers) runs in a
fresh child process, so peak RSS is the stage's own. Prints records/s and peak memory side by side.
Targets: issue 3, 2,000 records/s end to end on 2 cores with the rules engine; issue 13, 500 records/s
with the presidio engine (spaCy NER); memory growing no faster than linearly.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_RECORDS_PER_S = {"rules": 2000, "presidio": 500}
ROOT = Path(__file__).resolve().parents[1]


def child(corpus: Path, workers: int, work: Path) -> None:
    """Run prepare once (in this process) and print a JSON line with the figures."""
    import resource

    from tuneloop.data import prepare
    from tuneloop.params import compose

    params = compose(conf_dir=ROOT / "conf")
    params["redact"]["engine"] = os.environ.get("TUNELOOP_BENCH_ENGINE", "presidio")
    params["data"].update(tickets=[str(corpus / "tickets.jsonl")], kb_dir=str(corpus / "kb"), num_proc=workers)
    start = time.perf_counter()
    report = prepare.run(params, out_dir=work / "prepared", report_dir=work / "reports")
    wall = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    # CPU time of this process and its (finished) worker processes: on a shared machine the wall time
    # says more about the other jobs than about prepare
    cpu = sum(
        u.ru_utime + u.ru_stime for u in map(resource.getrusage, (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    )
    print(
        json.dumps(
            {
                "records": report["records_in"],
                "kept": report["kept"],
                "seconds": round(wall, 2),
                "records_per_s": round(report["records_in"] / wall),
                "peak_rss_mib": round(peak),
                "cpu_seconds": round(cpu, 1),
                "records_per_cpu_s": round(report["records_in"] / cpu),
            }
        )
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--workers", default="1,2", help="data.num_proc values to compare")
    parser.add_argument("--engine", default="presidio", choices=["presidio", "rules"], help="redact.engine")
    parser.add_argument("--child", nargs=3, metavar=("CORPUS", "WORKERS", "WORKDIR"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    os.environ["TUNELOOP_BENCH_ENGINE"] = args.engine  # the child processes read it
    if args.child:
        child(Path(args.child[0]), int(args.child[1]), Path(args.child[2]))
        return 0
    from tuneloop.data import example as example_corpus

    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(
        "\n| tickets | workers | seconds | records/s | CPU seconds | records per CPU-second | peak RSS MiB | kept |\n"
        "|---:|---:|---:|---:|---:|---:|---:|---:|"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for size in map(int, args.sizes.split(",")):
            corpus = Path(tmp) / f"corpus-{size}"
            example_corpus.generate(corpus, n_tickets=size, seed=size)
            for workers in map(int, args.workers.split(",")):
                work = Path(tmp) / f"work-{size}-{workers}"
                out = subprocess.run(
                    [sys.executable, __file__, "--child", str(corpus), str(workers), str(work)],
                    capture_output=True,
                    text=True,
                    cwd=ROOT,
                )
                if out.returncode != 0:
                    raise SystemExit(out.stderr[-3000:])
                r = json.loads(out.stdout.strip().splitlines()[-1])
                mark = "" if r["records_per_s"] >= TARGET_RECORDS_PER_S[args.engine] else " (below target)"
                print(
                    f"| {size} | {workers} | {r['seconds']} | {r['records_per_s']}{mark} | {r['cpu_seconds']} | "
                    f"{r['records_per_cpu_s']} | {r['peak_rss_mib']} | {r['kept']} |",
                    flush=True,
                )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Load test of the CPU server on 127.0.0.1: p50/p95 latency and requests/s at 1, 4 and 16 concurrent
users, then a rollback under load (zero failed requests expected). A bounded client of our own (httpx
threads), not locust: the figures and the failure count come back as one JSON.

    PYTHONPATH=src python benchmarks/serve_bench.py --base models/base [--adapter DIR] [--requests 24]

With --adapter, production serves that adapter; the rollback phase registers two versions of it in a
scratch git + DVC repo and rolls back while the clients run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

KEY = "sk-bench-0123456789"
PROMPTS = [
    "My Glow bulb keeps dropping off the wifi, what should I try?",
    "I was charged twice for my Lumora Plus subscription this month.",
    "The tracking number for my thermostat order has not updated in a week.",
    "How do I reset my password if I no longer have the old phone?",
]


def load(url: str, users: int, per_user: int, max_tokens: int, model: str = "tuneloop") -> dict:
    import httpx

    latencies, failures, lock = [], [], threading.Lock()

    def user(i: int) -> None:
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {KEY}"}, timeout=600) as c:
            for j in range(per_user):
                t0 = time.perf_counter()
                r = c.post(
                    "/v1/chat/completions",
                    json={
                        "model": model,
                        "max_tokens": max_tokens,
                        "messages": [{"role": "user", "content": PROMPTS[(i + j) % 4]}],
                    },
                )
                with lock:
                    (latencies if r.status_code == 200 else failures).append(
                        time.perf_counter() - t0 if r.status_code == 200 else r.status_code
                    )

    t0 = time.perf_counter()
    threads = [threading.Thread(target=user, args=(i,)) for i in range(users)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    lat = sorted(latencies)
    return {
        "users": users,
        "requests": len(lat) + len(failures),
        "failed": len(failures),
        "p50_s": round(statistics.median(lat), 3),
        "p95_s": round(lat[max(0, int(0.95 * len(lat)) - 1)], 3),
        "rps": round(len(lat) / wall, 2),
        "wall_s": round(wall, 1),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--base", default="models/base")
    ap.add_argument("--adapter")
    ap.add_argument("--requests", type=int, default=32, help="requests per concurrency level")
    ap.add_argument("--max-tokens", type=int, default=32)
    ap.add_argument("--rollback-requests", type=int, default=6, help="per user (4 users) in the rollback phase")
    ap.add_argument("--rollback-after", type=float, default=3.0, help="seconds of load before the rollback")
    args = ap.parse_args()
    from helpers.serve_helpers import running

    from tuneloop.serve import server

    os.environ["TUNELOOP_API_KEYS"] = f"bench:{KEY}"
    tmp = Path(tempfile.mkdtemp(prefix="serve-bench-"))
    common = {
        "base": args.base,
        "log": str(tmp / "requests.jsonl"),
        "max_tokens": 256,
        "rate_limit": {"requests": 100000, "per_seconds": 1},
        "params": "params.yaml",
    }
    out: dict = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs",
        "load_avg_1m_before": round(os.getloadavg()[0], 2),
        "max_tokens": args.max_tokens,
        "adapter": args.adapter,
        "levels": [],
    }
    if args.adapter:
        from helpers.registry_repo import make_repo, train_and_commit, verdict

        from tuneloop.registry.store import Registry

        second = tmp / "second"
        shutil.copytree(args.adapter, second)
        (second / "README.md").write_text("a second version: same weights, different folder hash\n")
        repo = make_repo(tmp / "repo", {"one": Path(args.adapter), "two": second})
        reg = Registry(repo)
        for name in ("one", "two"):
            reg.register("HEAD", verdict=verdict(train_and_commit(repo, name)))
        reg.promote("v1.0.0", "production")
        reg.promote("v2.0.0", "production")
        cfg = server.load_config(None, repo=str(repo), store=str(tmp / "store"), poll_seconds=1, **common)
    else:
        reg = None
        cfg = server.load_config(None, **common)
    app, deployment = server.build(cfg)
    with running(app, deployment) as url:
        load(url, 1, 2, args.max_tokens)  # warm-up
        for users in (1, 4, 16):
            level = load(url, users, max(1, args.requests // users), args.max_tokens)
            level["load_avg_1m_after"] = round(os.getloadavg()[0], 2)  # other work on the machine skews figures
            out["levels"].append(level)
            print(json.dumps(level), flush=True)
        if reg is not None:
            result: dict = {}
            t = threading.Thread(target=lambda: result.update(load(url, 4, args.rollback_requests, args.max_tokens)))
            t.start()
            time.sleep(args.rollback_after)
            reg.rollback()
            t.join()
            out["rollback_under_load"] = {**result, "serving_after": deployment.slots["production"]["version"]}
            print(json.dumps(out["rollback_under_load"]), flush=True)
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

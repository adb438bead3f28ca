"""Scale the train stage out on existing engines: `accelerate launch` with the config in conf/accelerate.

    dvc exp run -S accelerate=ddp -S accelerate.num_processes=8      # DDP (NCCL; gloo without CUDA)
    dvc exp run -S accelerate=fsdp -S method=full                    # FSDP (CUDA)
    dvc exp run -S accelerate=deepspeed_zero3 -S method=full         # DeepSpeed ZeRO-3 (CUDA, pip install deepspeed)

`tuneloop train` (what dvc.yaml runs) stays the command: with `accelerate.num_processes > 1` the stage
writes the group as an accelerate config file and re-runs itself under `accelerate launch` (one process
per device); each process runs the same stage code, rank 0 writes the outputs. Without CUDA, DDP runs
as CPU processes over gloo (torch.distributed's launcher, which accelerate uses for `MULTI_GPU`; its
CPU path otherwise wants mpirun), each with its share of the cores.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

CUDA_ONLY = ("FSDP", "DEEPSPEED")


class LaunchError(RuntimeError):
    pass


def inside_launch() -> bool:
    return "LOCAL_RANK" in os.environ or "WORLD_SIZE" in os.environ


def is_main() -> bool:
    return int(os.environ.get("RANK", "0")) == 0


def needed(params: dict[str, Any]) -> bool:
    acc = params.get("accelerate") or {}
    return int(acc.get("num_processes") or 1) > 1 and not inside_launch()


def accelerate_config(acc: dict[str, Any], cuda: bool) -> dict[str, Any]:
    """The accelerate config file's content for a conf/accelerate group."""
    dist = str(acc.get("distributed_type") or "auto")
    if dist == "auto":
        dist = "MULTI_GPU"  # without CUDA, the launched processes find no GPU and use gloo on CPU
    if dist in CUDA_ONLY and not cuda:
        raise LaunchError(
            f"accelerate={acc.get('name')} ({dist}) needs CUDA; use accelerate=ddp (gloo) or "
            "accelerate=none on this machine"
        )
    config = {
        "compute_environment": "LOCAL_MACHINE",
        "distributed_type": dist,
        "num_processes": int(acc["num_processes"]),
        "num_machines": 1,
        "machine_rank": 0,
        "mixed_precision": str(acc.get("mixed_precision") or "no"),
        "use_cpu": False,
        "gpu_ids": "all",
        "main_training_function": "main",
        "rdzv_backend": "static",
        "same_network": True,
    }
    for key in ("fsdp_config", "deepspeed_config"):
        if acc.get(key):
            config[key] = dict(acc[key])
    return config


def relaunch(params: dict[str, Any], paths: dict[str, Path], cuda: bool) -> None:
    """Run the train stage under `accelerate launch` with these params and paths; raise if it fails."""
    acc = params["accelerate"]
    config = accelerate_config(acc, cuda)
    with tempfile.TemporaryDirectory(prefix="tuneloop-launch-") as tmp:
        cfg_file, params_file = Path(tmp, "accelerate.yaml"), Path(tmp, "params.yaml")
        cfg_file.write_text(yaml.safe_dump(config, sort_keys=True))
        params_file.write_text(yaml.safe_dump(params, sort_keys=False))
        cmd = [
            sys.executable,
            "-m",
            "accelerate.commands.launch",
            "--config_file",
            str(cfg_file),
            "--main_process_port",
            str(_free_port()),
            "-m",
            "tuneloop.train.sft",
            "--params",
            str(params_file),
        ]
        for name, path in paths.items():
            cmd += [f"--{name.replace('_', '-')}", str(Path(path).resolve())]
        env = dict(os.environ)
        if not cuda:  # torch's launcher sets 1 thread per process; give each its share of the cores instead
            env["OMP_NUM_THREADS"] = str(max((os.cpu_count() or 1) // config["num_processes"], 1))
            env["ACCELERATE_USE_CPU"] = "true"  # with WORLD_SIZE > 1: MULTI_CPU over gloo
        result = subprocess.run(cmd, env=env)
    if result.returncode != 0:
        raise LaunchError(
            f"accelerate launch ({acc.get('name')}, {config['num_processes']} processes) exited "
            f"{result.returncode}; the processes' errors are above"
        )


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

"""`tuneloop serve` and `tuneloop export`: the production adapter behind an API, or out as files.

    tuneloop serve [--config deploy/serve.yaml]      OpenAI-compatible CPU server (keys: TUNELOOP_API_KEYS)
    tuneloop serve --vllm                            print the vLLM launch command (GPU; deploy/vllm.yaml)
    tuneloop export --version v3.0.0 --format gguf --out dist/   PEFT folder, merged safetensors or GGUF

docs/serving.md.
"""

from __future__ import annotations

import json
import os
import sys

COMMANDS = [
    ("serve", "OpenAI-compatible server with the production adapter (--vllm: the GPU command)"),
    ("export", "an adapter as a PEFT folder, merged safetensors or GGUF"),
]


def add_parsers(sub) -> None:
    sv = sub.add_parser("serve", description=COMMANDS[0][1])
    sv.add_argument("--config", default="deploy/serve.yaml")
    sv.add_argument("--host")
    sv.add_argument("--port", type=int)
    sv.add_argument("--adapter", help="serve this adapter folder instead of the registry's")
    sv.add_argument("--no-auth", action="store_true", help="no API keys (a local trial on 127.0.0.1 only)")
    sv.add_argument(
        "--vllm",
        action="store_true",
        help="print the vLLM launch command (GPU) for the registry's holders (config deploy/vllm.yaml)",
    )
    sv.set_defaults(func=_serve)
    ex = sub.add_parser("export", description=COMMANDS[1][1])
    src = ex.add_mutually_exclusive_group(required=True)
    src.add_argument("--version", help="a registered version (materialised from the DVC cache)")
    src.add_argument("--adapter", help="an adapter folder")
    ex.add_argument("--format", required=True, choices=["adapter", "merged", "gguf"])
    ex.add_argument("--base", default="models/base")
    ex.add_argument("--out", required=True)
    ex.set_defaults(func=_export)


def _errors():
    from tuneloop.registry.store import RegistryError

    return (RegistryError, ValueError, FileNotFoundError)


def _export(args) -> int:
    from tuneloop.registry import export

    try:
        done = export.run(args.format, args.out, base=args.base, version=args.version, adapter=args.adapter)
    except _errors() as exc:
        print(f"tuneloop export: error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(done, indent=2))
    return 0


def _serve(args) -> int:
    try:
        if args.vllm:
            from tuneloop.serve import vllm

            cfg = vllm.load_config("deploy/vllm.yaml" if args.config == "deploy/serve.yaml" else args.config)
            print(vllm.shell(vllm.command(cfg, vllm.adapters(cfg))))
            return 0
        from tuneloop.serve import server

        given = args.config if os.path.exists(args.config) or args.config != "deploy/serve.yaml" else None
        cfg = server.load_config(given, host=args.host, port=args.port, adapter=args.adapter)
        cfg["auth"] = not args.no_auth
        server.run(cfg)
    except _errors() as exc:
        print(f"tuneloop serve: error: {exc}", file=sys.stderr)
        return 2
    return 0

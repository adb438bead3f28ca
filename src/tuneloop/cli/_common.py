"""What every family's commands share: reading params.yaml and turning our errors into exit code 2."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

# Our stages and commands raise these with a message naming the file, record or setting at fault.
USER_ERRORS: tuple[type[BaseException], ...] = (RuntimeError, ValueError, FileNotFoundError)


def params(args) -> dict:
    from tuneloop.params import load_params

    return load_params(args.params)


def guarded(name: str, fn: Callable[[], Any], errors: tuple[type[BaseException], ...] = ()) -> int | Any:
    """Run fn; a user error becomes `tuneloop NAME: error: ...` on stderr and exit code 2 (no traceback)."""
    try:
        return fn()
    except USER_ERRORS + errors as exc:
        print(f"tuneloop {name}: error: {exc}", file=sys.stderr)
        return 2


def show(result: Any, limit: int | None = None) -> None:
    text = json.dumps(result, indent=2, default=str)
    print(text[:limit] if limit else text)

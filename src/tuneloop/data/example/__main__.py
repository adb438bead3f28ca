"""python -m tuneloop.data.example --out DIR [--n-tickets N] [--seed S]: write the example corpus."""

from __future__ import annotations

from tuneloop.data.example import main

if __name__ == "__main__":
    raise SystemExit(main())

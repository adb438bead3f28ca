"""`python -m tuneloop.cli ...`: the same as the `tuneloop` command."""

from tuneloop.cli import main

raise SystemExit(main())

"""`python -m bot`: the same as the `vecinos` command."""

from bot.cli import main

raise SystemExit(main())

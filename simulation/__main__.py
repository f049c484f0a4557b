"""`python -m simulation ...` is the `labourlab` command."""

from simulation.cli import main

raise SystemExit(main())

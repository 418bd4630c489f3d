"""``python -m simulation``: run the simulation (see simulation.cli)."""

from simulation.cli import main

raise SystemExit(main())

"""``python -m simulator`` runs the relsim CLI."""

from simulator.cli import main

raise SystemExit(main())

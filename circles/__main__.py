"""``python -m circles``: the same command line as the ``circles`` script."""

from circles.cli import main

raise SystemExit(main())

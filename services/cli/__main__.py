"""`python -m interpol_offices.cli` is the same as the `interpol-mesh` console script."""

from interpol_offices.cli.main import main

raise SystemExit(main())

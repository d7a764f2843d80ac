"""The `interpol-mesh` command: run the mesh, run offices, manage keys."""

"""Office services: one package per office role, each assembled with the shared app factory."""

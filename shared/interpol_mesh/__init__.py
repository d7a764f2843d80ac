"""interpol-mesh shared library: every office service is assembled from these parts."""

__version__ = "0.1.0"

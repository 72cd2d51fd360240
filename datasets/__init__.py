"""docbin.datasets: DIBCO/H-DIBCO/DKDS and generic images+gt loaders, and synthetic degraded pages."""

"""The empirical probe: word problems and other tasks, torch models, one training loop, the
min-depth sweep with resume, and the report (torch is imported only under this package)."""

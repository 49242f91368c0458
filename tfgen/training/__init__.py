"""Training loop, workdirs, strategies."""

"""Operations' view of a running service: gauges sampled in the background (see sampling)."""

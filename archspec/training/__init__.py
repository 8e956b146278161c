"""Training, evaluation and prediction (needs the [train] extra: torch and friends)."""

"""The scheduler service: training jobs, their state machine, and the launchers that run them."""

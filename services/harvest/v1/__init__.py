"""Generated gRPC code for the harvest.v1 contracts. Regenerate with `make proto`; do not edit."""

"""Test harness: real servers started (and installed if missing) for the integration tests."""

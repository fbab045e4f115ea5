"""Launchers: one interface (render -> submit -> status -> cancel -> logs), one module per backend."""

"""Pieces several pages share: guards, the project picker, thumbnail grids, charts."""

"""HARVEST: label a few images per class, train a semi-supervised classifier with DDP, repeat."""

__version__ = "0.1.0"

"""Class definitions typed as text (one per line) and the keyboard keys they can use.

A text area beats a grid editor here: experts paste a list of names, and a line like
`cat #ff8800 c` reads the same in the form and in the docs. Keys must be ones Streamlit's button
shortcuts accept, or the labeling view could not bind them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from harvest.v1 import labels_pb2

_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
# Streamlit reserves C and R for its own shortcuts and does not bind punctuation.
RESERVED_KEYS = frozenset("cr")


@dataclass(frozen=True)
class ClassLine:
    """One parsed line: a class name, an optional color and an optional one-character key."""

    name: str
    color: str = ""
    shortcut: str = ""

    def to_proto(self) -> labels_pb2.NewClass:
        return labels_pb2.NewClass(name=self.name, color=self.color, shortcut=self.shortcut)


def bindable(key: str) -> bool:
    """Whether a class shortcut can be a Streamlit button shortcut (one letter or digit, not C or R)."""
    return len(key) == 1 and key.isalnum() and key.isascii() and key.lower() not in RESERVED_KEYS


def parse_class_lines(text: str) -> list[ClassLine]:
    """`name [#RRGGBB] [key]` per line; blank lines skipped. Raises ValueError naming the bad line.

    Names may contain spaces: the color and key are recognized from the end of the line.
    """
    parsed: list[ClassLine] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        words = raw.split()
        if not words:
            continue
        color = shortcut = ""
        if len(words) > 1 and len(words[-1]) == 1:
            shortcut = words.pop()
            if not bindable(shortcut):
                raise ValueError(f"line {number}: key {shortcut!r} cannot be a shortcut "
                                 "(use a letter or digit other than C and R)")
        if len(words) > 1 and words[-1].startswith("#"):
            color = words.pop()
            if not _COLOR.match(color):
                raise ValueError(f"line {number}: color {color!r} is not #RRGGBB")
        parsed.append(ClassLine(" ".join(words), color.lower(), shortcut.lower()))
    names = [c.name.lower() for c in parsed]
    if len(set(names)) != len(names):
        raise ValueError("two classes have the same name")
    keys = [c.shortcut for c in parsed if c.shortcut]
    if len(set(keys)) != len(keys):
        raise ValueError("two classes have the same key")
    return parsed

"""The dataset snapshot manifest ("harvest.snapshot/1"): written once by storage, read by the training
job without any service.

Format (JSON Lines, UTF-8, stored at `snapshots/<snapshot_id>.json`): the first line is a header
`{"format", "snapshot_id", "project_id", "classes": [names in label-index order], "created_at", "seed"}`;
every further line is one entry `{"key", "sha256", "width", "height", "label" (null when unlabeled),
"split" ("labeled" | "unlabeled" | "validation"), "item_id", "noisy"}`. The id is derived from the
content (classes + entries), so freezing the same labels twice gives the same snapshot.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Literal

from harvest.common.errors import InvalidArgument

FORMAT = "harvest.snapshot/1"
SPLITS: tuple[str, ...] = ("labeled", "unlabeled", "validation")
Split = Literal["labeled", "unlabeled", "validation"]


@dataclass(frozen=True, slots=True)
class ManifestEntry:
    key: str
    sha256: str
    width: int
    height: int
    label: str | None
    split: Split
    item_id: str = ""
    noisy: bool = False


@dataclass(frozen=True, slots=True)
class Manifest:
    snapshot_id: str
    project_id: str
    classes: tuple[str, ...]
    entries: tuple[ManifestEntry, ...]
    created_at: str = ""
    seed: int = 0
    format: str = FORMAT
    _index: dict[str, int] = field(default_factory=dict, compare=False, repr=False)

    def class_index(self, name: str) -> int:
        if not self._index:
            self._index.update({c: i for i, c in enumerate(self.classes)})
        return self._index[name]

    def split(self, name: Split) -> list[ManifestEntry]:
        return [e for e in self.entries if e.split == name]


def snapshot_id(classes: Iterable[str], entries: Iterable[ManifestEntry]) -> str:
    """Content-derived id: 32 hex characters of the SHA-256 of classes and entries."""
    digest = hashlib.sha256(json.dumps(list(classes)).encode())
    for entry in entries:
        digest.update(json.dumps(asdict(entry), sort_keys=True).encode())
    return digest.hexdigest()[:32]


def validate(classes: tuple[str, ...], entries: Iterable[ManifestEntry]) -> None:
    """Refuse a manifest training could not use, saying which entry is wrong."""
    if len(set(classes)) != len(classes) or not classes:
        raise InvalidArgument("snapshot classes must be a non-empty list of distinct names")
    known = set(classes)
    for number, entry in enumerate(entries, start=1):
        where = f"entry {number} ({entry.key})"
        if entry.split not in SPLITS:
            raise InvalidArgument(f"{where}: split must be one of {', '.join(SPLITS)}")
        if (entry.label is None) != (entry.split == "unlabeled"):
            raise InvalidArgument(f"{where}: labeled and validation entries need a label, unlabeled ones none")
        if entry.label is not None and entry.label not in known:
            raise InvalidArgument(f"{where}: label {entry.label!r} is not one of the snapshot classes")
        if len(entry.sha256) != 64 or any(c not in "0123456789abcdef" for c in entry.sha256):
            raise InvalidArgument(f"{where}: sha256 must be 64 lowercase hex characters")


def build(project_id: str, classes: Iterable[str], entries: Iterable[ManifestEntry], seed: int = 0,
          created_at: dt.datetime | None = None) -> Manifest:
    classes = tuple(classes)
    entries = tuple(entries)
    validate(classes, entries)
    stamp = (created_at or dt.datetime.now(dt.UTC)).isoformat()
    return Manifest(snapshot_id(classes, entries), project_id, classes, entries, stamp, seed)


def dumps(manifest: Manifest) -> bytes:
    header = {"format": manifest.format, "snapshot_id": manifest.snapshot_id, "project_id": manifest.project_id,
              "classes": list(manifest.classes), "created_at": manifest.created_at, "seed": manifest.seed}
    lines = [json.dumps(header)] + [json.dumps(asdict(entry)) for entry in manifest.entries]
    return ("\n".join(lines) + "\n").encode()


def loads(data: bytes | str) -> Manifest:
    text = data.decode() if isinstance(data, bytes) else data
    lines = iter(line for line in text.splitlines() if line.strip())
    try:
        header = json.loads(next(lines))
    except (StopIteration, json.JSONDecodeError) as exc:
        raise InvalidArgument(f"not a snapshot manifest: {exc}") from None
    if header.get("format") != FORMAT:
        raise InvalidArgument(f"unsupported manifest format {header.get('format')!r}; expected {FORMAT}")
    entries = tuple(_entries(lines))
    classes = tuple(header["classes"])
    validate(classes, entries)
    return Manifest(header["snapshot_id"], header.get("project_id", ""), classes, entries,
                    header.get("created_at", ""), int(header.get("seed", 0)))


def _entries(lines: Iterator[str]) -> Iterator[ManifestEntry]:
    for number, line in enumerate(lines, start=2):
        try:
            raw = json.loads(line)
            yield ManifestEntry(key=raw["key"], sha256=raw["sha256"], width=int(raw["width"]),
                                height=int(raw["height"]), label=raw.get("label"), split=raw["split"],
                                item_id=raw.get("item_id", ""), noisy=bool(raw.get("noisy", False)))
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise InvalidArgument(f"manifest line {number} is malformed: {exc}") from None


def manifest_key(snapshot: str) -> str:
    return f"snapshots/{snapshot}.json"

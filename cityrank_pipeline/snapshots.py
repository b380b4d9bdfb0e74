"""The raw store: every file cityrank reads, kept by content, with its provenance.

Files live at `raw/objects/<sha[:2]>/<sha256>` with a JSON sidecar holding the provenance
record (where it came from, when, how big, licence). The same bytes again are a no-op — the
first record is kept, so re-running yields the same provenance. Which snapshot stands for an
index edition is recorded under `raw/editions/<CODE>/`, so a partition run can find its file.
Files that fail go to `quarantine/` with a note saying why; they are never deleted by cityrank.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .atomic_files import atomic_write


class SnapshotError(RuntimeError):
    pass


@dataclass(frozen=True)
class Snapshot:
    snapshot_id: str
    original_name: str
    media_type: str
    bytes: int
    fetched_at: str  # ISO 8601, UTC
    licence_note: str
    source_url: str | None = None
    published_on: str | None = None  # ISO date
    etag: str | None = None
    last_modified: str | None = None

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class EditionSource:
    """Which snapshot and parser make up one index edition."""

    index_code: str
    edition: str
    snapshot_id: str
    parser: str
    source_kind: str
    parser_options: dict = field(default_factory=dict)
    complete: bool = False  # True when the file lists every ranked city (PDF tables).


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def edition_slug(edition: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", edition).strip("_").lower()


def utc_now_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()


class RawStore:
    def __init__(self, root: Path):
        self.root = Path(root)

    def _object_path(self, snapshot_id: str) -> Path:
        return self.root / "objects" / snapshot_id[:2] / snapshot_id

    def _record_path(self, snapshot_id: str) -> Path:
        return self.root / "objects" / snapshot_id[:2] / f"{snapshot_id}.json"

    def put(
        self,
        data: bytes,
        *,
        original_name: str,
        media_type: str,
        licence_note: str,
        source_url: str | None = None,
        published_on: str | None = None,
        fetched_at: str | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> tuple[Snapshot, bool]:
        """Store bytes by content. Returns (snapshot, created); the same bytes again are a no-op."""
        snapshot_id = sha256_of(data)
        existing = self.find(snapshot_id)
        if existing is not None:
            return existing, False
        snapshot = Snapshot(
            snapshot_id=snapshot_id,
            original_name=original_name,
            media_type=media_type,
            bytes=len(data),
            fetched_at=fetched_at or utc_now_iso(),
            licence_note=licence_note,
            source_url=source_url,
            published_on=published_on,
            etag=etag,
            last_modified=last_modified,
        )
        atomic_write(self._object_path(snapshot_id), data)
        atomic_write(self._record_path(snapshot_id), json.dumps(snapshot.as_dict(), indent=2, sort_keys=True).encode())
        return snapshot, True

    def find(self, snapshot_id: str) -> Snapshot | None:
        record = self._record_path(snapshot_id)
        if not record.exists() or not self._object_path(snapshot_id).exists():
            return None
        return Snapshot(**json.loads(record.read_text()))

    def get(self, snapshot_id: str) -> Snapshot:
        snapshot = self.find(snapshot_id)
        if snapshot is None:
            raise SnapshotError(f"snapshot {snapshot_id} is not in the raw store {self.root}")
        return snapshot

    def read_bytes(self, snapshot_id: str) -> bytes:
        """The stored bytes, verified against their address (a corrupted store is loud)."""
        path = self._object_path(snapshot_id)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise SnapshotError(f"snapshot {snapshot_id} is missing from {path.parent}") from None
        if sha256_of(data) != snapshot_id:
            raise SnapshotError(f"{path}: contents no longer match their sha256; the raw store is corrupted")
        return data

    def path_of(self, snapshot_id: str) -> Path:
        return self._object_path(snapshot_id)

    # --- which snapshot is which edition -------------------------------------------------

    def _edition_path(self, index_code: str, edition: str) -> Path:
        return self.root / "editions" / index_code / f"{edition_slug(edition)}.json"

    def register_edition(self, source: EditionSource) -> bool:
        """Point an edition at a snapshot. Returns False when it already pointed there.

        The registration it replaces is kept, so a new file that then fails validation can be
        withdrawn and the edition falls back to what was loaded before.
        """
        path = self._edition_path(source.index_code, source.edition)
        payload = json.dumps(asdict(source), indent=2, sort_keys=True).encode()
        if path.exists():
            if path.read_bytes() == payload:
                return False
            atomic_write(path.with_suffix(".previous.json"), path.read_bytes())
        self._write_history(source, [*(h for h in self._history(source) if h != source), source])
        atomic_write(path, payload)
        return True

    def _history_path(self, index_code: str, edition: str) -> Path:
        return self.root / "editions" / index_code / f"{edition_slug(edition)}.history.json"

    def _history(self, source: EditionSource) -> list[EditionSource]:
        path = self._history_path(source.index_code, source.edition)
        return [EditionSource(**item) for item in json.loads(path.read_text())] if path.exists() else []

    def _write_history(self, source: EditionSource, history: list[EditionSource]) -> None:
        atomic_write(self._history_path(source.index_code, source.edition),
                      json.dumps([asdict(h) for h in history], indent=2, sort_keys=True).encode())

    def edition_history(self, index_code: str, edition: str) -> list[EditionSource]:
        """Every file registered for an edition and not withdrawn, newest first.

        A later file does not erase what an earlier one gave: Mori's functions-only file after
        its full data file must not lose the indicators (see `assembly`)."""
        probe = EditionSource(index_code, edition, "", "", "")
        return list(reversed(self._history(probe)))

    def withdraw_edition(self, source: EditionSource) -> EditionSource | None:
        """Undo `register_edition(source)` if it is still current; returns what is current now."""
        path = self._edition_path(source.index_code, source.edition)
        current = self.edition_source(source.index_code, source.edition)
        if current != source:
            return current
        self._write_history(source, [h for h in self._history(source) if h != source])
        previous = path.with_suffix(".previous.json")
        if previous.exists():
            os.replace(previous, path)
            return self.edition_source(source.index_code, source.edition)
        path.unlink(missing_ok=True)
        return None

    def edition_source(self, index_code: str, edition: str) -> EditionSource | None:
        path = self._edition_path(index_code, edition)
        if not path.exists():
            return None
        return EditionSource(**json.loads(path.read_text()))

    def edition_sources(self, index_code: str) -> list[EditionSource]:
        folder = self.root / "editions" / index_code
        return [EditionSource(**json.loads(p.read_text())) for p in sorted(folder.glob("*.json"))
                if not p.name.endswith((".previous.json", ".history.json"))]


# Longest original name kept in a quarantined file's name (the note keeps it whole): a
# file name may have 255 bytes, and the note's name adds the sha prefix and ".reason.json".
QUARANTINE_NAME_BYTES = 120


def quarantine_name(original_name: str) -> str:
    """The last component of `original_name`, fit for a file name: no folder (so `../x` and
    `/etc/passwd` stay in the quarantine folder), control characters (NUL, newline) as `_`,
    at most QUARANTINE_NAME_BYTES bytes of UTF-8, keeping the end (the extension)."""
    name = re.sub(r"[\x00-\x1f\x7f]", "_", Path(original_name).name)
    encoded = name.encode("utf-8", "replace")
    if len(encoded) > QUARANTINE_NAME_BYTES:
        name = encoded[-QUARANTINE_NAME_BYTES:].decode("utf-8", "ignore")
    return name


class Quarantine:
    """Keeps a failing file and a note of why, for a person to look at."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def put(self, data: bytes, *, index_code: str, original_name: str, reason: str, edition: str | None = None) -> Path:
        sha = sha256_of(data)
        folder = self.root / index_code.lower()
        target = folder / f"{sha[:12]}_{quarantine_name(original_name)}"
        if not target.exists():
            atomic_write(target, data)
        note = {
            "original_name": original_name,
            "sha256": sha,
            "index_code": index_code,
            "edition": edition,
            "reason": reason,
            "quarantined_at": utc_now_iso(),
        }
        atomic_write(target.with_name(target.name + ".reason.json"), json.dumps(note, indent=2).encode())
        return target

    def entries(self) -> list[dict]:
        return [json.loads(p.read_text()) for p in sorted(self.root.glob("*/*.reason.json"))]

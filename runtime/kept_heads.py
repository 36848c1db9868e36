"""The last head this server signed for each public log, kept outside the database beside the
log key: after a restore from a backup, a log behind a head already shown to checkers is
noticed at start and named, instead of checkers alone finding that it shrank."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from bot.domain.public_log import Head

log = logging.getLogger(__name__)


def kept_heads_file(log_key_file: Path) -> Path:
    """`undersigned.log.heads.json` beside `undersigned.log.key`."""
    return log_key_file.with_name(f"{log_key_file.stem}.heads.json")


class KeptHeads:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.heads = self._load()
        self.warned = False

    def _load(self) -> dict[str, dict[str, object]]:
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}
        except (OSError, ValueError):
            log.warning("%s is unreadable: the logs' kept heads start over", self.path)
            return {}
        return data if isinstance(data, dict) else {}

    def note(self, head: Head) -> None:
        """Keep `head` if it is the largest seen for its log (written whole, mode 0600)."""
        if self.size_kept(head.slug) >= head.tree_size and head.slug in self.heads:
            return
        # Another process (console beside run) may have kept a larger head since we read
        # the file: merge, keeping the larger of each, never write our older view over it.
        for slug, theirs in self._load().items():
            if self.size_kept(slug) < _size(theirs):
                self.heads[slug] = theirs
        if self.size_kept(head.slug) >= head.tree_size and head.slug in self.heads:
            return
        self.heads[head.slug] = {
            "tree_size": head.tree_size,
            "root_hash": head.root_hash.hex(),
            "released": head.released,
        }
        draft = self.path.with_name(f".{self.path.name}.{os.getpid()}")
        try:
            fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as fh:
                json.dump(self.heads, fh, indent=1, sort_keys=True)
            draft.replace(self.path)
        except OSError as exc:
            if not self.warned:  # once: a read-only folder would say it at every step
                log.warning(
                    "could not keep the logs' heads in %s (%s): a restore from a backup will "
                    "not be noticed at start; set UNDERSIGNED_LOG_KEY_FILE to a writable place",
                    self.path,
                    exc.strerror,
                )
                self.warned = True

    def size_kept(self, slug: str) -> int:
        return _size(self.heads.get(slug))

    def behind(self, heads: list[tuple[Head, bytes | None]]) -> list[str]:
        """One line per log that is behind, or other than, a head this server signed (with
        the root of its first entries as many as that head held): what a restore did."""
        lines = []
        for head, root_then in heads:
            kept = self.heads.get(head.slug)
            if not isinstance(kept, dict):
                continue
            size = self.size_kept(head.slug)
            said = (
                f"the public log of {head.slug} has {head.tree_size} entries, but this server "
                f"signed a head of {size} (released {kept.get('released')})"
            )
            if head.tree_size < size:
                lines.append(
                    f"{said}: the database was restored from before it. Checkers who kept that "
                    "head will be told the log shrank or went back in time; say why where the "
                    "campaign is followed"
                )
            elif root_then is not None and root_then.hex() != kept.get("root_hash"):
                lines.append(
                    f"{said} with other entries than its first {size} now: the database was "
                    "restored from before it. Checkers who kept that head will be told the log "
                    "was rewritten; say why where the campaign is followed"
                )
        return lines


def _size(kept: object) -> int:
    size = kept.get("tree_size") if isinstance(kept, dict) else None
    return size if isinstance(size, int) and size >= 0 else 0

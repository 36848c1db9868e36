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
        kept = self.heads.get(head.slug)
        if isinstance(kept, dict) and int(kept.get("tree_size", 0)) >= head.tree_size:  # type: ignore[call-overload]
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
            log.warning("could not keep the logs' heads in %s: %s", self.path, exc.strerror)

    def behind(self, heads: list[Head]) -> list[str]:
        """One line per log now behind the head this server signed: what a restore did."""
        lines = []
        for head in heads:
            kept = self.heads.get(head.slug)
            if not isinstance(kept, dict):
                continue
            size = int(kept.get("tree_size", 0))  # type: ignore[call-overload]
            if head.tree_size < size:
                lines.append(
                    f"the public log of {head.slug} has {head.tree_size} entries, but this "
                    f"server signed a head of {size} (released {kept.get('released')}): the "
                    "database was restored from before it. Checkers who kept that head will "
                    "be told the log shrank; say why where the campaign is followed"
                )
        return lines

"""Keep the garbage collector's full passes off the acknowledgement path.

A full (oldest-generation) collection walks every object the process holds. After start-up that
is mostly imported modules (slack-bolt, discord.py, SQLAlchemy, Babel), which never become garbage,
and each pass over them stalled the event loop for 100-140 ms under a burst (measured with
gc.callbacks during `bench.sign_slack`): long enough to push ack p99 past 80 ms. Freezing what
start-up built moves it out of the collector's sight; the objects requests create are still
collected as before.
"""

from __future__ import annotations

import gc


def settle_heap() -> None:
    """Collect start-up garbage once, then freeze the survivors (called when serving begins)."""
    gc.collect()
    gc.freeze()

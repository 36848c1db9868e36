"""Pure rules and values: campaigns, signatures, identity, tallies, count steps, schedules,
time parsing, text cleaning, permissions, exports and the wording of replies and notices.

Nothing here does I/O or imports anything of ours outside this package (tests/test_layers.py).
"""

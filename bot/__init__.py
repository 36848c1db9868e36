"""Undersigned's platform-agnostic core: domain rules, command grammar and use cases."""

__version__ = "0.5.0"  # bumped per release; CHANGELOG.md says what each changed

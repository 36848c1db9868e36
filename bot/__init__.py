"""Undersigned's platform-agnostic core: domain rules, command grammar and use cases."""

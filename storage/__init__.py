"""Persistence: SQLModel tables, engine set-up, the group-commit writer and migrations."""

"""Discord adapter (discord.py 2.x): slash commands, buttons and modals."""

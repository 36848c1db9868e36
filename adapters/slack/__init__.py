"""Slack adapter (slack-bolt): slash commands, buttons and modals over Socket Mode or HTTP."""

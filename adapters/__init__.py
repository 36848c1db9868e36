"""Platform adapters: translate platform events into core calls and render core replies."""

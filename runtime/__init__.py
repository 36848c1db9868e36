"""What runs for a long time, and the wiring: bootstrap, config, keys, scheduler, dispatcher,
leader. The core (`bot/`) never imports from here."""

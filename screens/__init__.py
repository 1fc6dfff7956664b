"""Qt widgets: one module per screen plus the shared pieces (header, keypad, step bar)."""

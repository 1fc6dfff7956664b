"""Local SQLite store: money journal, outbox, personal-data encryption and retention."""

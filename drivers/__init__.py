"""Device drivers (banknote acceptor, receipt printer, card reader) and their emulators."""

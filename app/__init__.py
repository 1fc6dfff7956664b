"""The application layer: the only code that knows both Qt and the core.

``assembly.py`` builds a whole kiosk from a configuration; ``runtime.py`` runs
it as a process (``kiosk run`` / ``kiosk demo``); ``tour.py`` drives it
headless to save every screen; ``cli.py`` is the ``kiosk`` command.  Below it,
``screens/`` renders and forwards taps, and ``kiosk/``, ``drivers/`` and
``offline_store/`` know nothing of Qt.
"""

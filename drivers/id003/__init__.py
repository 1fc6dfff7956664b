"""Banknote acceptor, JCM ID-003: frame codec, driver, emulator and ``kiosk diag acceptor``.

    codec     frames and messages, no I/O (docs/id003.md lists the sources)
    driver    AcceptorDriver: pyserial 9600 8E1 on its own thread, events and XFS status
    events    what the driver tells the payment layer (NoteCredited, PowerUpWithNote, ...)
    emulator  AcceptorEmulator: a scriptable acceptor on a pty, for tests, bench and demo panel
    diag      run_diag(), behind ``kiosk diag acceptor``
"""

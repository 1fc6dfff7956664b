"""Banknote acceptor, JCM ID-003: frame codec, protocol, driver, emulator and ``kiosk diag acceptor``.

    codec      the entry to frames and messages, no I/O (docs/id003.md lists the sources):
               frames (CRC, FrameDecoder), codes (Command, Status), replies, commands
    protocol   AcceptorProtocol: the controller, pure — bytes and a clock in, frames and events out;
               with line (reply matching), notes (credit once), power_up, setup, status_model, stats
    driver     AcceptorDriver: the protocol on pyserial 9600 8E1, on its own thread
    events     what the driver tells the payment layer (NoteCredited, PowerUpWithNote, ...)
    emulator   AcceptorEmulator: a scriptable acceptor on a pty, for tests, bench and demo panel;
               with emulated_acceptor (its state machine), emulated_line (line faults),
               emulator_pty, emulator_counters
    diag       run_diag(), behind ``kiosk diag acceptor``
"""

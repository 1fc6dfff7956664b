"""The barcode/QR scanner: fixed-mount 1D/2D scanners on a serial port (USB-CDC ACM included).

``lines`` turns bytes into lines, ``codes`` says which lines are payment
codes, ``driver`` runs both on a thread over pyserial, ``emulator`` is a
scanner on a pty, ``diag`` is ``kiosk diag scanner``.  See docs/scanner.md.
"""

"""Receipt printer, ESC/POS.

    slip.py       a slip laid out from data, rendered to ESC/POS bytes (python-escpos builds the commands)
    realtime.py   DLE EOT / GS r status bytes and their meaning in our status model
    transport.py  tcp://, serial and device-file wires, every operation under a deadline
    link.py       one synchronous conversation: status, print, confirmation
    driver.py     PrinterDriver: the worker thread the kiosk uses
    diag.py       kiosk diag printer
    emulator.py   a printer on a loopback TCP port or a pty, for tests and the demo
    decode.py     ESC/POS bytes back into lines, QR codes and cuts, for tests
"""

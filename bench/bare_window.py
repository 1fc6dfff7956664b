"""Baseline for bench/startup.py: a bare PySide6 fullscreen window with labels.

Prints "bare ready" once the window is shown and the event loop has turned,
the same moment ``kiosk run --exit-when-ready`` reports.
"""

import sys

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow, QVBoxLayout, QWidget

app = QApplication(sys.argv[:1])
window = QMainWindow()
body = QWidget()
column = QVBoxLayout(body)
for text in ("自助缴费", "Self-service", "08:00–20:00"):
    column.addWidget(QLabel(text))
window.setCentralWidget(body)
window.setGeometry(app.primaryScreen().geometry())
window.showFullScreen()


def ready() -> None:
    print("bare ready", flush=True)
    app.quit()


QTimer.singleShot(0, ready)
sys.exit(app.exec())

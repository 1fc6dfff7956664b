"""Static assets installed as the ``kiosk.assets`` package (translations, styles)."""

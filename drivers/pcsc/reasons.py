"""The reasons the card reader driver gives, on its status and on :class:`~drivers.pcsc.events.CardError`.

Its own module because the worker loop (``reader``), the handling of the
card in it (``card_lifecycle``), the card session (``card_session``) and the
technician CLI (``diag``) all name them, and consumers compare against them.

=================== ============== ==========================================
reason              state          when
=================== ============== ==========================================
PCSC_SERVICE_DOWN   offline        pcscd not running or lost
NO_READER           offline        no reader (or not the configured one)
READER_UNPLUGGED    offline        the reader in use left the reader list
CARD_MUTE           hardware_error the card in the reader does not answer;
                                   clears when it is taken out
CARD_UNKNOWN        online         a card without this application (event +
                                   status while it stays in the reader)
CARD_ERROR          online         the card refused a command (event + status)
CARD_PULLED         online         taken out during an exchange (event only)
=================== ============== ==========================================

``NO_CARD`` answers an exchange asked for with no card in; ``DRIVER_STOPPED``
one the driver could not finish; ``NOT_STARTED`` is the status before
``start()`` and after ``stop()``.
"""

PCSC_SERVICE_DOWN = "PCSC_SERVICE_DOWN"
NO_READER = "NO_READER"
READER_UNPLUGGED = "READER_UNPLUGGED"
CARD_MUTE = "CARD_MUTE"
CARD_UNKNOWN = "CARD_UNKNOWN"
CARD_ERROR = "CARD_ERROR"
CARD_PULLED = "CARD_PULLED"
NO_CARD = "NO_CARD"
DRIVER_STOPPED = "DRIVER_STOPPED"
NOT_STARTED = "NOT_STARTED"

"""The billing system, as the kiosk sees it: contract types, client, simulator.

The contract is docs/api.md.  Import from the module that holds what you need
(``kiosk.backend.models``, ``.errors``, ``.client``, ``.simulator``): this
package file imports nothing, so a screen that needs only the error types does
not pull ``requests`` (and ~60 ms of start-up) in with them.
"""

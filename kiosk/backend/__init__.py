"""The billing system, as the kiosk talks to it: the client and the simulator.

The contract is docs/api.md; its types and errors are in ``contract/``.
Import from the module that holds what you need (``kiosk.backend.client``,
``.simulator``): this package file imports nothing, so nothing pulls
``requests`` (and ~60 ms of start-up) in by accident.
"""

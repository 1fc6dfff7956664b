"""The billing system's contract as the kiosk holds it (docs/api.md), below everything that uses it.

``models`` (the types that cross the wire, range-checked), ``errors`` (one
``BackendError`` family with the customer's reason and the technician's
detail), ``masking`` (personal data as screens, slips and logs may show it)
and ``account_number`` (the utilities' number rules).  Pure Python, no I/O:
the journal, the core, the client and the simulator all import it; it
imports none of them.  This file imports nothing, so a caller that needs only
the error types pulls nothing else in.
"""

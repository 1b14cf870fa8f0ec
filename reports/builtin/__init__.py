"""Gather's own reports, registered in :mod:`reports.catalog` when imported: sign-ups per
event and option (``events``), people (``people``), SMS (``sms``) and the ledger audit
(``audit``)."""

from reports.builtin import audit, people, signups, sms

__all__ = ["audit", "people", "signups", "sms"]

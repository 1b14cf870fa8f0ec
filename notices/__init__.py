"""Notices owed to members, sent once by whichever channel's sender claims them.

:mod:`storage.notices` holds what is owed; :mod:`notices.sender` is the one pass every
channel runs (claim, work out, send, settle or retry), :mod:`notices.outcome` what a channel
says became of a send, and :mod:`notices.actor` the actor that runs a pass every second. The
channels: :mod:`sms.notifier` (texts) and :mod:`mail.notices` (e-mails).
"""

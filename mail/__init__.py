"""The mail role: the daily digest to staff and notices to members by e-mail."""

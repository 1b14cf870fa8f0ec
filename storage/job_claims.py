"""Claims on the runs of scheduled jobs: one node of the whole cluster does each run.

A job run (the digest of one period, a night's reports) is claimed with a lightweight
transaction that expires: the node whose claim applied does the run; the others leave it.
When the run fails in a way worth trying again the claimer releases its claim; when the
claimer dies mid-run the claim expires after its TTL and another node takes the run over.
So a run is done at least once, and at most once while its claimer lives (docs/mail.md).

Example::

    if store.job_claims.claim("digest", period_key, node="hub", ttl_s=900):
        send_the_digest()
"""

from __future__ import annotations

from storage import times, validate
from storage.session import Database

_KEY = 200


class JobClaims:
    """Claim and release job runs."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def claim(self, job: str, period: str, node: str, ttl_s: int) -> bool:
        """Whether ``node`` now holds the run ``period`` of ``job`` (for ``ttl_s`` seconds);
        False when another node holds it. A claim of ``node``'s own still in force (its actor
        crashed mid-run and was restarted) is held: the run goes on at once."""
        rows = self._db.execute(
            "INSERT INTO job_claims (job, period, claimed_by, claimed_at) VALUES (?, ?, ?, ?) "
            "IF NOT EXISTS USING TTL ?",
            (
                validate.text("job", job, max_len=64),
                validate.text("period", period, max_len=_KEY),
                validate.text("node", node, max_len=48),
                times.now(),
                validate.integer("ttl_s", ttl_s, 1, 7 * 86_400),
            ),
            op="signup",
        )
        return bool(rows) and (rows[0]["[applied]"] or rows[0].get("claimed_by") == node)

    def holder(self, job: str, period: str) -> str | None:
        """The node that holds the run, or None."""
        rows = self._db.execute(
            "SELECT claimed_by FROM job_claims WHERE job = ? AND period = ?",
            (validate.text("job", job, max_len=64), validate.text("period", period, max_len=_KEY)),
            op="signup",
        )
        return rows[0]["claimed_by"] if rows else None

    def release(self, job: str, period: str, node: str) -> None:
        """Give the run up (when ``node`` holds it), so that the next try may claim it."""
        self._db.execute(
            "DELETE FROM job_claims WHERE job = ? AND period = ? IF claimed_by = ?",
            (
                validate.text("job", job, max_len=64),
                validate.text("period", period, max_len=_KEY),
                validate.text("node", node, max_len=48),
            ),
            op="signup",
        )

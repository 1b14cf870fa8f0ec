"""Everything a Gather node needs from storage, built once per process from cluster.yaml."""

from __future__ import annotations

from pathlib import Path

from config.cluster import ClusterConfig
from storage.admin_sessions import AdminSessions
from storage.admins import AdminUsers
from storage.announcements import Announcements
from storage.archive import Archive
from storage.assets import Assets
from storage.digests import DigestLog
from storage.events import Events
from storage.failed_attempts import FailedAttempts
from storage.job_claims import JobClaims
from storage.kiosks import Kiosks
from storage.notices import Notices
from storage.registrations import Registrations
from storage.report_runs import ReportRuns
from storage.session import Database
from storage.sms_messages import SmsMessages
from storage.sms_optouts import SmsOptOuts
from storage.sms_senders import SmsSenders
from storage.watermarks import JobWatermarks


class Store:
    """The process's :class:`Database` and every repository on it.

    ``node`` is this Gather node's name (recorded on registrations and messages); archives go
    to ``archive_folder`` (default: the data folder's ``var/archive``). Raises
    :class:`~storage.errors.CassandraUnavailable` when Cassandra cannot be reached.
    """

    def __init__(
        self,
        config: ClusterConfig,
        node: str,
        keyspace: str | None = None,
        archive_folder: Path | None = None,
    ) -> None:
        self.db = Database(config, keyspace or config.cassandra.keyspace)
        self.archive = Archive(archive_folder) if archive_folder else Archive.of(config)
        self.registrations = Registrations(self.db, node, config.site.phone_region)
        self.events = Events(self.db, self.registrations, self.archive)
        self.assets = Assets(self.db, self.archive)
        self.kiosks = Kiosks(self.db)
        self.sms_messages = SmsMessages(self.db, node)
        self.sms_optouts = SmsOptOuts(self.db, config.site.phone_region)
        self.sms_senders = SmsSenders(self.db)
        self.notices = Notices(self.db)
        self.watermarks = JobWatermarks(self.db)
        self.job_claims = JobClaims(self.db)
        self.digests = DigestLog(self.db)
        self.report_runs = ReportRuns(self.db)
        self.announcements = Announcements(self.db)
        self.admins = AdminUsers(self.db)
        self.admin_sessions = AdminSessions(self.db, self.admins)
        self.failed_attempts = FailedAttempts(self.db)

    def close(self) -> None:
        """Disconnect from Cassandra."""
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

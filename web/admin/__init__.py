"""The management UI: events and options, registrations, assets, kiosks, the cluster, SMS,
mail and reports.

Every page needs a signed-in admin (:class:`~web.base.AdminHandler`); every form carries the
XSRF token and is read through :mod:`web.admin.forms`. A change to an asset or a kiosk is
broadcast over the node link (:mod:`node.notices`) so that every node refreshes its cache.
One module per group of pages; :mod:`web.app` routes to the handlers re-exported here.
"""

from web.admin.assets import AssetAdmin, AssetsAdmin
from web.admin.cluster import ClusterAdmin
from web.admin.events import (
    EventAdmin,
    EventCancelAdmin,
    EventDeleteAdmin,
    EventOpenAdmin,
    EventsAdmin,
    OptionsAdmin,
)
from web.admin.kiosks import KioskDeleteAdmin, KiosksAdmin
from web.admin.mail import MailPageAdmin, MailPreviewAdmin, MailPreviewHtmlAdmin, MailSendAdmin
from web.admin.registrations import RegistrationActionAdmin, RegistrationsAdmin, RegistrationsCsv
from web.admin.reports import ReportCsvAdmin, ReportListAdmin, ReportRunAdmin, ReportStartAdmin
from web.admin.sms import (
    NoticesAdmin,
    SmsAttentionAdmin,
    SmsHandledAdmin,
    SmsLogAdmin,
    SmsNumberAdmin,
    SmsOptOutsAdmin,
)

__all__ = [
    "AssetAdmin",
    "AssetsAdmin",
    "ClusterAdmin",
    "EventAdmin",
    "EventCancelAdmin",
    "EventDeleteAdmin",
    "EventOpenAdmin",
    "EventsAdmin",
    "KioskDeleteAdmin",
    "KiosksAdmin",
    "MailPageAdmin",
    "MailPreviewAdmin",
    "MailPreviewHtmlAdmin",
    "MailSendAdmin",
    "NoticesAdmin",
    "OptionsAdmin",
    "RegistrationActionAdmin",
    "RegistrationsAdmin",
    "RegistrationsCsv",
    "ReportCsvAdmin",
    "ReportListAdmin",
    "ReportRunAdmin",
    "ReportStartAdmin",
    "SmsAttentionAdmin",
    "SmsHandledAdmin",
    "SmsLogAdmin",
    "SmsNumberAdmin",
    "SmsOptOutsAdmin",
]

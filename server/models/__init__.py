"""All tables, importable from one place (Alembic and the sync engine need them all)."""

from server.models.api_key import ApiKey as ApiKey
from server.models.assisted import AssistedApplication, AssistedStatus
from server.models.audit import AuditLog
from server.models.base import SyncRecord, new_id, utcnow
from server.models.conflict import Conflict
from server.models.demand import Demand, DemandEvent, DemandStatus
from server.models.gateway import GatewayDelivery, GatewayOptIn
from server.models.handover import Handover, HandoverStatus
from server.models.household import Household, HouseholdKind, HouseholdStatus, Resident, ResidentTag, Sex, Tag
from server.models.ledger_import import ImportStatus, LedgerImport
from server.models.notice import Notice
from server.models.org import Community, Department, Grid, Role, User, UserGrid
from server.models.push import PushAttempt, PushDelivery, PushNotification, PushSubscription
from server.models.service_item import MaterialForm, ServiceCategory, ServiceItem, ServiceItemRevision
from server.models.state import (
    APP_VERSION,
    AppRelease,
    Blob,
    BlobHolder,
    BlobRef,
    MutationOutcome,
    Preference,
    RateLimit,
    SyncClient,
    Tombstone,
    UserSession,
    VersionCounter,
)
from server.models.topic import (
    Meeting,
    MeetingStatus,
    Opinion,
    Topic,
    TopicEvent,
    TopicStatus,
)
from server.models.travel_card import CardStatus, TravelCard, TravelCardEvent
from server.models.visit import Visit, VisitOutcome, VisitPurpose
from server.models.visit_rule import VisitRule, VisitRulePriority, VisitRuleSubject

SYNC_TYPES: dict[str, type[SyncRecord]] = {
    cls.sync_type: cls
    for cls in (
        Community,
        Grid,
        Department,
        Tag,
        VisitRule,
        ServiceItem,
        Household,
        Resident,
        Visit,
        TravelCard,
        TravelCardEvent,
        AssistedApplication,
        Demand,
        DemandEvent,
        Conflict,
        Notice,
        Topic,
        Opinion,
        Meeting,
    )
}

__all__ = [
    "APP_VERSION",
    "SYNC_TYPES",
    "AppRelease",
    "AssistedApplication",
    "AssistedStatus",
    "AuditLog",
    "Blob",
    "BlobHolder",
    "BlobRef",
    "CardStatus",
    "Community",
    "Conflict",
    "Demand",
    "DemandEvent",
    "DemandStatus",
    "Department",
    "GatewayDelivery",
    "GatewayOptIn",
    "Grid",
    "Handover",
    "HandoverStatus",
    "Household",
    "HouseholdKind",
    "HouseholdStatus",
    "ImportStatus",
    "LedgerImport",
    "MaterialForm",
    "Meeting",
    "MeetingStatus",
    "MutationOutcome",
    "Notice",
    "Opinion",
    "Preference",
    "PushAttempt",
    "PushDelivery",
    "PushNotification",
    "PushSubscription",
    "RateLimit",
    "Resident",
    "ResidentTag",
    "Role",
    "ServiceCategory",
    "ServiceItem",
    "ServiceItemRevision",
    "Sex",
    "SyncClient",
    "SyncRecord",
    "Tag",
    "Tombstone",
    "Topic",
    "TopicEvent",
    "TopicStatus",
    "TravelCard",
    "TravelCardEvent",
    "User",
    "UserGrid",
    "UserSession",
    "VersionCounter",
    "Visit",
    "VisitOutcome",
    "VisitPurpose",
    "VisitRule",
    "VisitRulePriority",
    "VisitRuleSubject",
    "new_id",
    "utcnow",
]

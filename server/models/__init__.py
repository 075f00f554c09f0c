"""All tables, importable from one place (Alembic and the sync engine need them all)."""

from server.models.api_key import ApiKey as ApiKey
from server.models.audit import AuditLog
from server.models.base import SyncRecord, new_id, utcnow
from server.models.conflict import Conflict
from server.models.demand import Demand, DemandEvent, DemandStatus
from server.models.handover import Handover, HandoverStatus
from server.models.household import Household, HouseholdKind, HouseholdStatus, Resident, ResidentTag, Sex, Tag
from server.models.ledger_import import ImportStatus, LedgerImport
from server.models.org import Community, Department, Grid, Role, User, UserGrid
from server.models.push import PushAttempt, PushDelivery, PushNotification, PushSubscription
from server.models.state import (
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
        Household,
        Resident,
        Visit,
        TravelCard,
        TravelCardEvent,
        Demand,
        DemandEvent,
        Conflict,
    )
}

__all__ = [
    "SYNC_TYPES",
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
    "Grid",
    "Handover",
    "HandoverStatus",
    "Household",
    "HouseholdKind",
    "HouseholdStatus",
    "ImportStatus",
    "LedgerImport",
    "MutationOutcome",
    "Preference",
    "PushAttempt",
    "PushDelivery",
    "PushNotification",
    "PushSubscription",
    "RateLimit",
    "Resident",
    "ResidentTag",
    "Role",
    "Sex",
    "SyncClient",
    "SyncRecord",
    "Tag",
    "Tombstone",
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

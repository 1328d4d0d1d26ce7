"""Bundling: the reminders and escalations one sweep queued for one person on one channel become one message.

Exactly-once stays where the sweep puts it: one outbox row per (occurrence, rule, due date, recipient,
channel), unique by `dedupe_key`. On PostgreSQL the sweep's one statement inserts the bundles and then the
rows already attached (tracker/jobs/sweep.py, `_insert_bundled_postgres`, with `bundle_groups` and
`eligible` from here). On SQLite, right after the sweep's INSERT, in the same transaction, `run_bundle`
1. picks the groups (recipient, channel) of the rows this sweep queued that are to be bundled: at least
   BUNDLE_MIN_ITEMS items, or any escalation to a person holding a role in a unit above the commune
   level (see `upper_admin_units`);
2. inserts one BUNDLE row per group, keyed bundle:<recipient>:<channel>:<sweep time>, so a rerun of the
   same sweep adds nothing (ON CONFLICT DO NOTHING);
3. marks the group's rows as carried by the bundle just inserted (status "digested", digest_id = the
   bundle), with a conditional UPDATE: only rows still pending, unclaimed and carried by no other
   bundle move, so each item is carried by exactly one bundle;
4. deletes the bundles of this run that ended up carrying nothing (a concurrent run took the rows).
Everything is set-based and nothing commits here: a failure at any point rolls the sweep back with it,
and the rerun produces the same rows. The dispatcher sends a bundle like a digest (its items are read
fresh, and those done meanwhile are dropped at render time; an empty bundle is skipped).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from tracker.extensions import db
from tracker.models import (
    Channel,
    DeliveryStatus,
    MessageTemplate,
    Notification,
    NotificationKind,
    OrgUnit,
    Person,
    RoleAssignment,
    UnitKind,
)
from tracker.sqlutil import insert_ignoring_conflicts

log = logging.getLogger("tracker.jobs")

_CHUNK = 5000
_ITEM_KINDS = (NotificationKind.REMINDER.value, NotificationKind.ESCALATION.value)


@dataclass(frozen=True, slots=True)
class BundleSettings:
    enabled: bool = True
    #: A person with at least this many items on a channel in one sweep gets them as one message.
    min_items: int = 3
    #: Every escalation to a person above the commune level goes as a bundle, whatever the count.
    escalations_above_commune: bool = True
    channels: tuple[Channel, ...] = (Channel.EMAIL, Channel.ZALO, Channel.IN_APP)
    #: A ZNS template for bundles exists (ZALO_TEMPLATE_IDS["bundle"]). Without one, a bundle reaches only
    #: the OA's followers (a text message to their Zalo id): people known by phone alone keep their single
    #: ZNS messages, so a deployment with ZNS templates for reminders only loses nothing.
    zalo_bundle_template: bool = False

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> BundleSettings:
        channels = config.get("BUNDLE_CHANNELS")
        if isinstance(channels, str):  # from the environment: "email,zalo"
            channels = [c.strip() for c in channels.split(",") if c.strip()]
        return cls(
            enabled=bool(config.get("BUNDLE_ENABLED", True)),
            min_items=max(1, int(config.get("BUNDLE_MIN_ITEMS", 3))),
            escalations_above_commune=bool(config.get("BUNDLE_ESCALATIONS_ABOVE_COMMUNE", True)),
            channels=tuple(Channel(c) for c in channels) if channels is not None else cls.channels,
            zalo_bundle_template=bool((config.get("ZALO_TEMPLATE_IDS") or {}).get(NotificationKind.BUNDLE.value)),
        )


@dataclass
class BundleResult:
    bundles: int = 0
    items: int = 0
    by_channel: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"bundles": self.bundles, "bundled_items": self.items, "bundles_by_channel": dict(self.by_channel)}


def bundle_key(stamp: str, source: Any = None) -> Any:
    """SQL for a bundle's dedupe key from an item row's recipient and channel, for one sweep `stamp`."""
    n = source if source is not None else Notification.__table__
    as_text = sa.String()
    return (sa.literal("bundle:") + sa.cast(n.c.recipient_id, as_text) + sa.literal(":")
            + sa.cast(n.c.channel, as_text) + sa.literal(":" + stamp))


def _stamp(now: datetime) -> str:
    return now.strftime("%Y%m%dT%H%M%S.%fZ")


def upper_admin_units() -> Any:
    """Administrative units above the commune level: every administrative unit that contains a commune.

    The tree has any depth (a district level or none, ministries, provinces), so no depth or name is
    assumed: the commune level is the unit kind COMMUNE (xã, phường, đặc khu), and "above" is read from
    the tree by climbing from each commune through the nearest administrative unit of each parent.
    """
    unit, parent = OrgUnit.__table__.alias("commune_unit"), OrgUnit.__table__.alias("parent_unit")
    upper = (
        sa.select(parent.c.admin_unit_id.label("unit_id"))
        .select_from(unit.join(parent, parent.c.id == unit.c.parent_id))
        .where(unit.c.kind == UnitKind.COMMUNE.value, unit.c.is_archived.is_(sa.false()),
               parent.c.admin_unit_id.is_not(None))
        .cte("upper_units", recursive=True)
    )
    here, above = OrgUnit.__table__.alias("upper_unit"), OrgUnit.__table__.alias("above_unit")
    # UNION (not UNION ALL) drops repeats, so the climb ends at the root.
    return upper.union(
        sa.select(above.c.admin_unit_id)
        .select_from(upper.join(here, here.c.id == upper.c.unit_id).join(above, above.c.id == here.c.parent_id))
        .where(above.c.admin_unit_id.is_not(None))
    )


def _candidates(now: datetime) -> list[sa.ColumnElement[bool]]:
    """The rows this sweep queued that may go into a bundle: waiting, untouched, carried by nothing."""
    n = Notification.__table__
    return [
        n.c.created_at == sa.literal(now, Notification.created_at.type),
        n.c.digest_id.is_(None),
        n.c.attempts == 0,
        n.c.claimed_by.is_(None),
    ]


def _zalo_bundle_template(settings: BundleSettings) -> bool:
    """Whether bundles have a ZNS template: in the configuration, or an admin's override in the database."""
    if settings.zalo_bundle_template:
        return True
    return db.session.scalar(
        sa.select(MessageTemplate.id).where(MessageTemplate.kind == NotificationKind.BUNDLE,
                                            MessageTemplate.channel == Channel.ZALO,
                                            MessageTemplate.zalo_template_id.is_not(None)).limit(1)
    ) is not None


def eligible(source: Any, settings: BundleSettings) -> list[sa.ColumnElement[bool]]:
    """Which of `source`'s rows (the outbox, or the rows a sweep is about to insert) may be bundled."""
    where = [
        source.c.status == DeliveryStatus.PENDING.value,
        source.c.kind.in_(_ITEM_KINDS),
        source.c.channel.in_([c.value for c in settings.channels]),
    ]
    if Channel.ZALO in settings.channels and not _zalo_bundle_template(settings):
        people = Person.__table__
        follower = sa.select(people.c.id).where(people.c.zalo_user_id.is_not(None), people.c.zalo_user_id != "")
        where.append(sa.or_(source.c.channel != Channel.ZALO.value, source.c.recipient_id.in_(follower)))
    return where


def bundle_groups(source: Any, where: list[sa.ColumnElement[bool]], now: datetime,
                  settings: BundleSettings) -> sa.Select[Any]:
    """One bundle row per (recipient, channel) of `source`'s rows that is to be bundled (see the module doc)."""
    ra, unit = RoleAssignment.__table__, OrgUnit.__table__
    wanted = sa.func.count() >= settings.min_items
    if settings.escalations_above_commune:
        upper_units = upper_admin_units()
        upper_recipient = (
            sa.select(ra.c.person_id)
            .select_from(ra.join(unit, unit.c.id == ra.c.unit_id))
            .where(unit.c.admin_unit_id.in_(sa.select(upper_units.c.unit_id)))
        )
        is_upper_escalation = sa.and_(source.c.kind == NotificationKind.ESCALATION.value,
                                      source.c.recipient_id.in_(upper_recipient))
        wanted = sa.or_(wanted, sa.func.max(sa.case((is_upper_escalation, 1), else_=0)) == 1)
    return (
        sa.select(
            bundle_key(_stamp(now), source).label("dedupe_key"),
            sa.literal(NotificationKind.BUNDLE.value).label("kind"),
            source.c.channel,
            source.c.recipient_id,
            sa.func.max(source.c.escalation_level).label("escalation_level"),
            sa.literal(DeliveryStatus.PENDING.value).label("status"),
            sa.literal(0).label("attempts"),
            # The sweep queued e-mail and Zalo for the working window, in-app for now: the bundle follows.
            sa.func.min(source.c.next_attempt_at).label("next_attempt_at"),
            sa.literal(now, Notification.created_at.type).label("created_at"),
        )
        .where(*where)
        .group_by(source.c.recipient_id, source.c.channel)
        .having(wanted)
        # One insertion order for every run: two concurrent runs wait on each other, never deadlock.
        .order_by(source.c.recipient_id, source.c.channel)
    )


BUNDLE_COLUMNS = ("dedupe_key", "kind", "channel", "recipient_id", "escalation_level", "status", "attempts",
                  "next_attempt_at", "created_at")


def run_bundle(now: datetime, settings: BundleSettings) -> BundleResult:
    """Bundle the rows the sweep at `now` queued (in the caller's transaction, right after the sweep)."""
    result = BundleResult()
    if not settings.enabled or not settings.channels:
        return result
    n = Notification.__table__
    where = [*_candidates(now), *eligible(n, settings)]
    groups = bundle_groups(n, where, now, settings)
    insert = insert_ignoring_conflicts(db.session, n, ["dedupe_key"]).from_select(BUNDLE_COLUMNS, groups)  # type: ignore[arg-type]
    # Only bundles inserted by this run take rows: nobody can have claimed them yet (not committed).
    new_ids = list(db.session.scalars(insert.returning(n.c.id)))
    if not new_ids:
        return result
    carrier = n.alias("bundle")
    for start in range(0, len(new_ids), _CHUNK):
        chunk = new_ids[start:start + _CHUNK]
        # UPDATE ... FROM the new bundles (PostgreSQL, SQLite 3.33+), fetched first by id (MATERIALIZED): the
        # planner, misled by statistics taken before the sweep grew the table, would otherwise look each
        # item's bundle up through the (recipient, channel) index and visit the whole group for every item.
        ours = sa.select(carrier.c.id, carrier.c.recipient_id, carrier.c.channel).where(carrier.c.id.in_(chunk)) \
            .cte("new_bundle").prefix_with("MATERIALIZED")
        # Counted from RETURNING: drivers report no row count for an UPDATE led by a WITH clause.
        attached = db.session.execute(
            sa.update(n).where(*where, n.c.recipient_id == ours.c.recipient_id, n.c.channel == ours.c.channel)
            .values(status=DeliveryStatus.DIGESTED.value, digest_id=ours.c.id).returning(n.c.id)
        ).all()
        result.items += len(attached)
    item = n.alias("item")
    for start in range(0, len(new_ids), _CHUNK):
        chunk = new_ids[start:start + _CHUNK]
        # A concurrent run may have carried a group's rows first: its bundle here would be empty.
        db.session.execute(sa.delete(n).where(n.c.id.in_(chunk), ~sa.exists().where(item.c.digest_id == n.c.id)))
        for channel, count in db.session.execute(
            sa.select(n.c.channel, sa.func.count()).where(n.c.id.in_(chunk)).group_by(n.c.channel)
        ):
            result.by_channel[str(channel)] = result.by_channel.get(str(channel), 0) + int(count)
    result.bundles = sum(result.by_channel.values())
    log.info("bundle %s: %d bundles carrying %d reminders", now.isoformat(), result.bundles, result.items)
    return result

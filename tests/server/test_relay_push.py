"""0024 relay_push: a venue hub forwards a kiosk's mutations as that kiosk, on the server."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from tests.support.pg import admission, mutation

pytestmark = pytest.mark.postgres


def _checkin(org, device: str, ticket: str) -> dict:
    return admission(org.event_id, device, ticket)


def _relay(sdb, claims, device: str, mutations: list[dict]) -> list[dict]:
    import json

    with sdb.as_claims(claims) as conn:
        result = conn.execute(
            "SELECT public.showdesk_relay_push(%s, %s::jsonb) AS r",
            (device, json.dumps(mutations)),
        ).fetchone()["r"]
    return result["results"]


@pytest.fixture
def org(supabase_db):
    org = supabase_db.create_org("Maison Relay")
    org.tickets = supabase_db.create_tickets(org, 3)
    org.hub = supabase_db.create_device(org, "Organizer laptop")
    org.door = supabase_db.create_device(org, "North door")
    return org


def test_an_organizer_device_relays_a_door_checkin_as_the_door(supabase_db, org):
    hub = supabase_db.claims(org, "organizer", org.hub)
    m = _checkin(org, org.door, org.tickets[0])
    [result] = _relay(supabase_db, hub, org.door, [m])
    assert result["status"] == "applied"
    row = supabase_db.execute("select device_id from checkins")[0]
    assert str(row["device_id"]) == org.door
    assert str(supabase_db.scalar("select device_id from sync_mutations")) == org.door
    # the door's own direct push of the same mutation is a duplicate, and so is a replay
    [direct] = supabase_db.push(supabase_db.claims(org, "door", org.door), org.door, [m])
    assert direct["status"] == "duplicate"
    [again] = _relay(supabase_db, hub, org.door, [m])
    assert again["status"] == "duplicate"
    assert supabase_db.scalar("select count(*) from checkins") == 1


def test_the_relayed_door_keeps_a_doors_rights(supabase_db, org):
    backstage = supabase_db.create_backstage(org)
    hub = supabase_db.claims(org, "organizer", org.hub)
    edit = mutation(
        "runway_appearances", "update", backstage["appearances"][0], {"order_key": "a9"}
    )
    [result] = _relay(supabase_db, hub, org.door, [edit])
    assert result["status"] == "rejected"
    # the same edit relayed for a producer device goes through
    producer = supabase_db.create_device(org, "Tablet")
    supabase_db.execute(
        "insert into device_bindings (auth_user_id, device_id, staff_role) values (%s, %s, 'producer')",
        (producer, producer),
    )
    [ok] = _relay(supabase_db, hub, producer, [edit | {"mutation_id": str(uuid.uuid4())}])
    assert ok["status"] == "applied"


@pytest.mark.parametrize("caller_role", ["door", "producer"])
def test_only_organizer_or_admin_devices_relay(supabase_db, org, caller_role):
    caller = supabase_db.claims(org, caller_role, org.door)
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="organizer"):
        _relay(supabase_db, caller, org.door, [_checkin(org, org.door, org.tickets[0])])


def test_no_relay_for_another_organizations_or_a_revoked_device(supabase_db, org):
    other = supabase_db.create_org("Other House")
    theirs = supabase_db.create_device(other, "Their door")
    hub = supabase_db.claims(org, "organizer", org.hub)
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="does not have"):
        _relay(supabase_db, hub, theirs, [_checkin(org, theirs, org.tickets[0])])
    supabase_db.execute("update devices set revoked_at = now() where id = %s", (org.door,))
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="removed"):
        _relay(supabase_db, hub, org.door, [_checkin(org, org.door, org.tickets[0])])
    assert supabase_db.scalar("select count(*) from checkins") == 0


def test_the_relay_identity_does_not_outlive_the_batch(supabase_db, org):
    """After relaying as a door, the same transaction is the organizer again."""
    hub = supabase_db.claims(org, "organizer", org.hub)
    import json

    with supabase_db.as_claims(hub) as conn:
        conn.execute(
            "SELECT public.showdesk_relay_push(%s, %s::jsonb)",
            (org.door, json.dumps([_checkin(org, org.door, org.tickets[0])])),
        )
        me = conn.execute("select * from showdesk_private.whoami()").fetchone()
    assert me["staff_role"] == "organizer" and str(me["device_id"]) == org.hub

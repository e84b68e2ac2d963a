"""Who a request comes from, decided by the server (migrations/supabase/0017).

- The device is the one bound to the authenticated user at registration, never a claim.
- A revoked device is refused everything, in words, with what the client needs to act.
- Idempotency records (and the rows their results carry) are read only by their sender and by
  organizers/admins of the same organization.
- The show/segment helpers answer only about rows the caller may read.
"""

from __future__ import annotations

import json
import uuid

import psycopg
import pytest

from tests.support.gateway import Gateway
from tests.support.pg import OrgFixture, SupabaseDB, mutation

pytestmark = pytest.mark.postgres


@pytest.fixture
def org(supabase_db: SupabaseDB) -> OrgFixture:
    org = supabase_db.create_org("Alpha")
    supabase_db.create_tickets(org, 2)
    return org


def _register(db: SupabaseDB, claims: dict, name: str = "Kiosk", gate: str = "North") -> str:
    with db.as_claims(claims) as conn:
        return conn.execute(
            "SELECT showdesk_register_device(%s, %s) AS r", (name, gate)
        ).fetchone()["r"]["device_id"]


def _readme_claims(db: SupabaseDB, org: OrgFixture, role: str = "door") -> dict:
    """A kiosk account set up as the README says: organization and role, no device id."""
    return db.claims(org, role, sub=str(uuid.uuid4()))


def _scan(org: OrgFixture, device: str, ticket: str | None = None) -> dict:
    return mutation(
        "checkins",
        "insert",
        str(uuid.uuid4()),
        {
            "event_id": org.event_id,
            "ticket_id": ticket or str(uuid.uuid4()),
            "device_id": device,
            "kind": "scan",
            "verdict": "admitted",
            "scanned_at": "2026-11-30T19:00:00.000000Z",
        },
    )


def test_an_account_pushes_only_as_the_device_bound_to_it(supabase_db, org):
    kiosk = _readme_claims(supabase_db, org)
    other = supabase_db.create_device(org, "Kiosk South", "South")  # of the same organization
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="no registered device"):
        supabase_db.push(kiosk, other, [_scan(org, other)])
    mine = _register(supabase_db, kiosk)
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="its own registered device"):
        supabase_db.push(kiosk, other, [_scan(org, other)])
    [result] = supabase_db.push(kiosk, mine, [_scan(org, mine)])
    assert result["status"] == "applied"
    # registering again renames the same device, it does not make a second one
    assert _register(supabase_db, kiosk, "Kiosk N2") == mine
    assert (
        supabase_db.scalar("SELECT count(*) FROM devices WHERE organization_id = %s", (org.id,))
        == 2
    )


def test_a_claimed_device_id_is_not_identity(supabase_db, org):
    """A token naming a device (app_metadata.device_id) that is bound to another account gets
    nothing from that device."""
    kiosk = _readme_claims(supabase_db, org)
    mine = _register(supabase_db, kiosk)
    thief = supabase_db.claims(org, "door", mine, sub=str(uuid.uuid4()))
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="no registered device"):
        supabase_db.push(thief, mine, [_scan(org, mine)])
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="cannot be registered"):
        _register(supabase_db, thief)


def test_revocation_refuses_pull_push_reads_and_registering_again(supabase_db, org):
    kiosk = _readme_claims(supabase_db, org)
    device = _register(supabase_db, kiosk)
    supabase_db.pull(kiosk, org.event_id)
    supabase_db.execute(
        "UPDATE devices SET revoked_at = '2026-12-01 21:30:00+00', recovery_key = %s WHERE id = %s",
        ("A" * 43 + "=", device),
    )
    attempts = {
        "pull": lambda: supabase_db.pull(kiosk, org.event_id),
        "push": lambda: supabase_db.push(kiosk, device, [_scan(org, device)]),
        "read": lambda: supabase_db.execute_as(kiosk, "SELECT count(*) FROM showdesk.tickets"),
        "register": lambda: _register(supabase_db, kiosk, "Kiosk again"),
    }
    for what, attempt in attempts.items():
        with pytest.raises(psycopg.errors.InsufficientPrivilege) as refused:
            attempt()
        diag = refused.value.diag
        assert (
            diag.message_primary == "This kiosk was removed from Alpha on 2026-12-01 21:30 UTC."
        ), what
        assert diag.message_hint == "showdesk:device-revoked", what
        assert json.loads(diag.message_detail) == {
            "organization": "Alpha",
            "revoked_at": "2026-12-01T21:30:00Z",
            "recovery_key": "A" * 43 + "=",
        }, what
    # the scan was not stored
    assert supabase_db.scalar("SELECT count(*) FROM checkins WHERE device_id = %s", (device,)) == 0


def test_revocation_over_http_with_the_readme_set_up(gateway: Gateway, supabase_db, org):
    user = gateway.create_user("door@alpha.test", organization_id=org.id, staff_role="door")
    token = gateway.access_token(user)
    status, body = gateway.rpc(
        "showdesk_register_device", {"p_name": "Kiosk", "p_gate": "North"}, token
    )
    assert status == 200
    device = body["device_id"]
    supabase_db.execute("UPDATE devices SET revoked_at = now() WHERE id = %s", (device,))
    for name, params in [
        ("showdesk_sync_pull", {"p_event_id": org.event_id}),
        ("showdesk_sync_push", {"p_device_id": device, "p_mutations": []}),
        ("showdesk_register_device", {"p_name": "Kiosk", "p_gate": "North"}),
    ]:
        status, body = gateway.rpc(name, params, token)
        assert status == 403, name
        assert body["message"].startswith("This kiosk was removed from Alpha on "), name
        assert body["hint"] == "showdesk:device-revoked", name


def test_idempotency_records_are_read_by_their_sender_only(supabase_db, org):
    backstage = supabase_db.create_backstage(org)
    supabase_db.execute(
        "UPDATE call_times SET notes = 'Allergic to latex; car at 18:10' WHERE id = %s",
        (backstage["call_time"],),
    )
    producer = _readme_claims(supabase_db, org, "producer")
    producer_device = _register(supabase_db, producer, "Backstage tablet", "")
    door = _readme_claims(supabase_db, org, "door")
    door_device = _register(supabase_db, door)
    organizer = _readme_claims(supabase_db, org, "organizer")
    _register(supabase_db, organizer, "Organizer laptop", "")

    stale = mutation(
        "call_times", "update", backstage["call_time"], {"location": "Hair"}, base_version=1
    )
    [result] = supabase_db.push(producer, producer_device, [stale])
    assert result["status"] in {"applied", "conflict"}

    def records(claims: dict) -> list[dict]:
        return supabase_db.execute_as(
            claims, "SELECT mutation_id::text, result FROM sync_mutations"
        )

    assert [r["mutation_id"] for r in records(producer)] == [stale["mutation_id"]]
    assert records(door) == []
    assert [r["mutation_id"] for r in records(organizer)] == [stale["mutation_id"]]
    # the door replays the producer's mutation id: no record comes back, nothing is stored
    replay = dict(_scan(org, door_device), mutation_id=stale["mutation_id"])
    [answer] = supabase_db.push(door, door_device, [replay])
    assert answer["status"] == "rejected"
    assert "Allergic" not in json.dumps(answer) and answer.get("original_status") is None
    assert supabase_db.scalar("SELECT count(*) FROM checkins") == 0


def test_show_and_segment_helpers_answer_only_about_readable_rows(supabase_db, org):
    beta = supabase_db.create_org("Beta")
    theirs = supabase_db.create_backstage(beta)
    ours = supabase_db.create_backstage(org)
    organizer = _readme_claims(supabase_db, org, "organizer")
    door = _readme_claims(supabase_db, org, "door")
    sql = (
        "SELECT showdesk_private.show_event_id(%s)::text AS show,"
        " showdesk_private.segment_event_id(%s)::text AS segment"
    )
    [row] = supabase_db.execute_as(organizer, sql, (theirs["show"], theirs["segment"]))
    assert row == {"show": None, "segment": None}
    [row] = supabase_db.execute_as(organizer, sql, (ours["show"], ours["segment"]))
    assert row == {"show": org.event_id, "segment": org.event_id}
    # a door kiosk may not read the lineup at all
    [row] = supabase_db.execute_as(door, sql, (ours["show"], ours["segment"]))
    assert row == {"show": None, "segment": None}

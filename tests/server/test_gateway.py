"""The PostgREST/GoTrue-compatible test gateway, driven over real HTTP (httpx, supabase-py)."""

from __future__ import annotations

import time
import uuid

import httpx
import jwt
import pytest

from tests.support.gateway import Gateway, postgrest_status
from tests.support.pg import OrgFixture, SupabaseDB, mutation

pytestmark = pytest.mark.postgres


@pytest.fixture
def org(supabase_db: SupabaseDB) -> OrgFixture:
    org = supabase_db.create_org("Alpha")
    supabase_db.create_device(org, "Kiosk North", "North")
    supabase_db.create_tickets(org, 2)
    return org


def test_status_table_follows_postgrest():
    assert postgrest_status("42501", "anon") == 401
    assert postgrest_status("42501", "authenticated") == 403
    assert postgrest_status("23505", "authenticated") == 409
    assert postgrest_status("40001", "authenticated") == 500
    assert postgrest_status("08006", "authenticated") == 503
    assert postgrest_status("P0001", "authenticated") == 400
    assert postgrest_status("22023", "authenticated") == 400
    assert postgrest_status("42883", "authenticated") == 404


def test_supabase_py_signs_in_and_calls_pull_and_push(gateway: Gateway, org):
    from supabase import create_client

    device = org.devices[0]
    gateway.create_user("north@alpha.test", "s3cret-pass", organization_id=org.id, device_id=device)
    client = create_client(gateway.url, gateway.anon_key)
    session = client.auth.sign_in_with_password(
        {"email": "north@alpha.test", "password": "s3cret-pass"}
    ).session
    assert session.user.app_metadata["device_id"] == device
    page = (
        client.rpc(
            "showdesk_sync_pull", {"p_event_id": org.event_id, "p_cursor": None, "p_limit": 100}
        )
        .execute()
        .data
    )
    assert page["reset"] is False and any(c["table"] == "tickets" for c in page["changes"])
    ticket = next(c["id"] for c in page["changes"] if c["table"] == "tickets")
    scan = mutation(
        "checkins",
        "insert",
        str(uuid.uuid4()),
        {
            "event_id": org.event_id,
            "ticket_id": ticket,
            "verdict": "admitted",
            "scanned_at": "2026-11-22T19:00:00Z",
        },
    )
    pushed = (
        client.rpc("showdesk_sync_push", {"p_device_id": device, "p_mutations": [scan]})
        .execute()
        .data
    )
    assert [r["status"] for r in pushed["results"]] == ["applied"]
    again = (
        client.rpc("showdesk_sync_push", {"p_device_id": device, "p_mutations": [scan]})
        .execute()
        .data
    )
    assert [r["status"] for r in again["results"]] == ["duplicate"]
    # refresh gives a new working access token
    refreshed = client.auth.refresh_session()
    assert refreshed.session.access_token != session.access_token
    assert (
        client.rpc("showdesk_sync_pull", {"p_event_id": org.event_id, "p_cursor": page["cursor"]})
        .execute()
        .data["changes"]
    )


def test_wrong_password_is_a_clear_auth_error(gateway: Gateway, org):
    from supabase import create_client
    from supabase_auth.errors import AuthApiError

    gateway.create_user("door@alpha.test", "right", organization_id=org.id)
    client = create_client(gateway.url, gateway.anon_key)
    with pytest.raises(AuthApiError) as caught:
        client.auth.sign_in_with_password({"email": "door@alpha.test", "password": "wrong"})
    assert caught.value.code == "invalid_credentials" and caught.value.status == 400


def _post(
    gateway: Gateway, fn: str, body: dict, token: str | None, apikey: str | None = "anon"
) -> httpx.Response:
    headers = {}
    if apikey:
        headers["apikey"] = gateway.anon_key if apikey == "anon" else apikey
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.post(f"{gateway.url}/rest/v1/rpc/{fn}", json=body, headers=headers, timeout=30)


def test_an_expired_jwt_gets_401_pgrst301(gateway: Gateway, org):
    user = gateway.create_user("late@alpha.test", organization_id=org.id, device_id=org.devices[0])
    expired = gateway.access_token(user, expires_in=-60)
    response = _post(
        gateway,
        "showdesk_sync_pull",
        {"p_event_id": org.event_id, "p_cursor": None, "p_limit": 10},
        expired,
    )
    assert response.status_code == 401
    assert response.json() == {
        "code": "PGRST301",
        "details": None,
        "hint": None,
        "message": "JWT expired",
    }
    assert "invalid_token" in response.headers["WWW-Authenticate"]


def test_a_forged_jwt_gets_401(gateway: Gateway, org):
    claims = {"sub": str(uuid.uuid4()), "role": "service_role", "exp": int(time.time()) + 60}
    forged = jwt.encode(claims, "not-the-secret-" * 3, algorithm="HS256")
    response = _post(gateway, "showdesk_sync_pull", {"p_event_id": org.event_id}, forged)
    assert response.status_code == 401 and response.json()["code"] == "PGRST301"


def test_missing_apikey_is_refused(gateway: Gateway, org):
    response = _post(gateway, "showdesk_sync_pull", {"p_event_id": org.event_id}, None, apikey=None)
    assert response.status_code == 401 and "API key" in response.json()["message"]


def test_anon_key_alone_reads_nothing(gateway: Gateway, org):
    response = _post(
        gateway,
        "showdesk_sync_pull",
        {"p_event_id": org.event_id, "p_cursor": None, "p_limit": 10},
        None,
    )
    assert response.status_code == 401
    assert response.json()["code"] == "42501"


def test_another_organizations_device_gets_403_with_words(gateway: Gateway, supabase_db, org):
    beta = supabase_db.create_org("Beta")
    supabase_db.create_device(beta)
    user = gateway.create_user("beta@beta.test", organization_id=beta.id, device_id=beta.devices[0])
    response = _post(
        gateway, "showdesk_sync_pull", {"p_event_id": org.event_id}, gateway.access_token(user)
    )
    assert response.status_code == 403
    assert (
        response.json()["code"] == "42501"
        and "may not sync that event" in response.json()["message"]
    )
    status, body = gateway.rpc(
        "showdesk_sync_push",
        {"p_device_id": org.devices[0], "p_mutations": []},
        gateway.access_token(user),
    )
    assert status == 403 and "only push as its own registered device" in body["message"]


def test_unknown_function_and_bad_arguments(gateway: Gateway, org):
    user = gateway.create_user("x@alpha.test", organization_id=org.id, device_id=org.devices[0])
    token = gateway.access_token(user)
    response = _post(gateway, "drop_everything", {}, token)
    assert response.status_code == 404 and response.json()["code"] == "PGRST202"
    response = _post(
        gateway, "showdesk_sync_pull", {"p_event_id": org.event_id, "p_bogus": 1}, token
    )
    assert response.status_code == 404
    response = _post(gateway, "showdesk_sync_pull", {"p_event_id": "not-a-uuid"}, token)
    assert response.status_code == 400 and response.json()["code"] == "22P02"
    response = _post(
        gateway,
        "showdesk_sync_push",
        {"p_device_id": org.devices[0], "p_mutations": {"a": 1}},
        token,
    )
    assert response.status_code == 400 and "JSON array" in response.json()["message"]


def test_register_device_over_http(gateway: Gateway, supabase_db, org):
    new_device = str(uuid.uuid4())
    user = gateway.create_user("new@alpha.test", organization_id=org.id, device_id=new_device)
    status, body = gateway.rpc(
        "showdesk_register_device",
        {"p_name": "Kiosk West", "p_gate": "West"},
        gateway.access_token(user),
    )
    assert status == 200 and body["device_id"] == new_device
    assert supabase_db.scalar("SELECT gate FROM devices WHERE id = %s", (new_device,)) == "West"


def test_simulated_outage(gateway: Gateway, org):
    user = gateway.create_user("o@alpha.test", organization_id=org.id, device_id=org.devices[0])
    gateway.forced_status = 503
    status, _ = gateway.rpc(
        "showdesk_sync_pull", {"p_event_id": org.event_id}, gateway.access_token(user)
    )
    assert status == 503
    gateway.forced_status = None
    status, _ = gateway.rpc(
        "showdesk_sync_pull", {"p_event_id": org.event_id}, gateway.access_token(user)
    )
    assert status == 200


def test_a_push_into_another_organizations_event_is_rejected_over_http(
    gateway: Gateway, supabase_db, org
):
    beta = supabase_db.create_org("Beta")
    supabase_db.create_device(beta)
    user = gateway.create_user("beta@beta.test", organization_id=beta.id, device_id=beta.devices[0])
    ticket = str(
        supabase_db.scalar("SELECT id FROM tickets WHERE event_id = %s LIMIT 1", (org.event_id,))
    )
    intrusion = [
        mutation(
            "checkins",
            "insert",
            str(uuid.uuid4()),
            {"event_id": org.event_id, "verdict": "admitted"},
        ),
        mutation("tickets", "update", ticket, {"status": "cancelled"}, 1),
    ]
    status, body = gateway.rpc(
        "showdesk_sync_push",
        {"p_device_id": beta.devices[0], "p_mutations": intrusion},
        gateway.access_token(user),
    )
    assert status == 200
    assert [r["status"] for r in body["results"]] == ["rejected", "rejected"]
    assert supabase_db.scalar("SELECT count(*) FROM checkins") == 0
    assert supabase_db.scalar("SELECT status FROM tickets WHERE id = %s", (ticket,)) == "valid"

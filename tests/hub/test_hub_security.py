"""The venue hub on a hostile network: joining, pinned TLS, per-kiosk logins, the server's
organization and role rules, revocation. Real hub (PostgreSQL with TLS), real sockets."""

from __future__ import annotations

import json
import time
import uuid

import psycopg
import pytest

from app.sync.backends import SyncError
from app.sync.hub.join import HubBackend, hub_dsn, join_hub
from app.sync.hub.server import Hub, HubProblem, parse_join
from app.sync.localpg import free_port
from tests.hub.conftest import hub_folder
from tests.support.pg import admission, mutation
from tests.support.pg_mitm import PgMitm

pytestmark = pytest.mark.postgres


def _checkin(venue, device: str, ticket: str) -> dict:
    return admission(venue.event_id, device, ticket)


# --- joining ------------------------------------------------------------------------------------


def test_a_join_code_is_single_use(venue):
    device = venue.sdb.create_device(venue.org, "North door")
    venue.relay.run_once()
    code = venue.hub.create_join_code("door", ["127.0.0.1"])
    ticket = parse_join(code.payload)
    first = join_hub(ticket, device, "North door", venue.folder / "a.pem")
    assert first.role == "door" and first.login.startswith("kiosk_")
    other = venue.sdb.create_device(venue.org, "South door")
    venue.relay.run_once()
    with pytest.raises(HubProblem, match="already used, has expired"):
        join_hub(ticket, other, "South door", venue.folder / "b.pem")


def test_a_typed_code_with_the_hub_address_joins(venue):
    device = venue.sdb.create_device(venue.org, "North door")
    venue.relay.run_once()
    code = venue.hub.create_join_code("producer", ["127.0.0.1"])
    typed = code.typed.lower().replace("-", " ")  # as a person might type it
    credential = join_hub(
        parse_join(typed, f"127.0.0.1:{venue.hub.port}"), device, "Tablet", venue.folder / "t.pem"
    )
    assert credential.role == "producer"
    HubBackend(credential).pull(venue.event_id, "", 10)


def test_an_expired_or_mistyped_code_is_refused(venue):
    device = venue.sdb.create_device(venue.org, "North door")
    venue.relay.run_once()
    expired = venue.hub.create_join_code("door", ["127.0.0.1"], minutes=0)
    with pytest.raises(HubProblem, match="expired"):
        join_hub(parse_join(expired.payload), device, "N", venue.folder / "a.pem")
    good = venue.hub.create_join_code("door", ["127.0.0.1"])
    wrong = parse_join(good.payload)
    wrong = type(wrong)(wrong.addresses, wrong.port, wrong.pin, wrong.code[:-1] + "0")
    if wrong.code == good.code:
        wrong = type(wrong)(wrong.addresses, wrong.port, wrong.pin, wrong.code[:-1] + "1")
    with pytest.raises(HubProblem):
        join_hub(wrong, device, "N", venue.folder / "b.pem")
    with pytest.raises(HubProblem, match="typing|like ABCD"):
        parse_join("ABCD-EFGH", "127.0.0.1")


def test_only_devices_of_the_hubs_organization_join(venue):
    stranger_org = venue.sdb.create_org("Other House")
    stranger = venue.sdb.create_device(stranger_org, "Their door")
    venue.relay.run_once()
    code = venue.hub.create_join_code("door", ["127.0.0.1"])
    with pytest.raises(HubProblem, match="does not know this kiosk"):
        join_hub(parse_join(code.payload), stranger, "Their door", venue.folder / "a.pem")
    with pytest.raises(HubProblem, match="does not know this kiosk"):
        join_hub(parse_join(code.payload), str(uuid.uuid4()), "Ghost", venue.folder / "b.pem")


# --- TLS ----------------------------------------------------------------------------------------


def test_an_unencrypted_connection_is_refused(venue):
    _device, credential = venue.join("North door")
    with pytest.raises(psycopg.OperationalError, match="no encryption|pg_hba"):
        psycopg.connect(
            host="127.0.0.1",
            port=venue.hub.port,
            dbname="showdesk",
            user=credential.login,
            password=credential.password,
            sslmode="disable",
            connect_timeout=3,
        )


def test_a_swapped_hub_certificate_is_refused(venue):
    _device, credential = venue.join("North door")
    backend = HubBackend(credential)
    backend.pull(venue.event_id, "", 10)
    backend.close()
    port = venue.hub.port
    old_code = venue.hub.create_join_code("door", ["127.0.0.1"])
    venue.hub.stop()
    impostor_root = hub_folder()
    impostor = Hub(impostor_root / "hub", port, listen="127.0.0.1").start()
    try:
        assert impostor.fingerprint != credential.certificate and impostor.fingerprint
        with pytest.raises(SyncError) as refused:
            HubBackend(credential).pull(venue.event_id, "", 10)
        assert refused.value.code == "hub-certificate"
        assert "not the one this kiosk joined" in str(refused.value)
        with pytest.raises(HubProblem, match="different certificate"):
            join_hub(parse_join(old_code.payload), _device, "N", venue.folder / "again.pem")
    finally:
        impostor.stop()
        venue.hub.start()


def test_a_man_in_the_middle_is_refused_but_would_work_unpinned(venue, tmp_path):
    _device, credential = venue.join("North door")
    mitm = PgMitm("127.0.0.1", venue.hub.port, tmp_path)
    try:
        # an unpinned client goes through the proxy: the attack is real
        with psycopg.connect(
            host="127.0.0.1",
            port=mitm.port,
            dbname="showdesk",
            user=credential.login,
            password=credential.password,
            sslmode="require",
            # SCRAM's channel binding would notice the proxy: a client without it does not
            channel_binding="disable",
            connect_timeout=3,
        ) as conn:
            assert conn.execute("select 1").fetchone() == (1,)
        assert mitm.relayed_bytes > 0
        time.sleep(0.5)  # the closed session's last bytes (its Terminate message) go through
        seen = mitm.relayed_bytes
        via_mitm = type(credential)(
            ("127.0.0.1",),
            mitm.port,
            credential.login,
            credential.password,
            credential.certificate,
            credential.event_id,
            credential.role,
        )
        with pytest.raises(SyncError) as refused:
            HubBackend(via_mitm).pull(venue.event_id, "", 10)
        assert refused.value.code == "hub-certificate"
        assert mitm.relayed_bytes == seen  # not one byte of the kiosk's went through
        # and a join through it is refused before the code is sent
        code = venue.hub.create_join_code("door", ["127.0.0.1"])
        ticket = parse_join(code.payload)
        ticket = type(ticket)(("127.0.0.1",), mitm.port, ticket.pin, ticket.code)
        with pytest.raises(HubProblem, match="different certificate"):
            join_hub(ticket, _device, "N", tmp_path / "x.pem")
    finally:
        mitm.close()


# --- identity and rules ---------------------------------------------------------------------------


def test_a_door_cannot_push_lineup_edits_through_the_hub(venue):
    backstage = venue.sdb.create_backstage(venue.org)
    venue.relay.run_once()
    device, credential = venue.join("North door")
    backend = HubBackend(credential)
    look = backstage["appearances"][0]
    [result] = backend.push(
        device, [mutation("runway_appearances", "update", look, {"order_key": "a9"})]
    )
    assert result.status == "rejected"
    [ok] = backend.push(device, [_checkin(venue, device, venue.tickets[0])])
    assert ok.status == "applied"
    # and a door may not push as another device
    other, _ = venue.join("South door")
    with pytest.raises(SyncError, match="own registered device"):
        backend.push(other, [_checkin(venue, other, venue.tickets[1])])


def test_claims_and_cache_set_by_a_hostile_kiosk_are_ignored(venue):
    """A kiosk has a real SQL session on the hub: it can set any custom setting. Forged JWT
    claims and a forged whoami cache must not make a door an admin of anything."""
    backstage = venue.sdb.create_backstage(venue.org)
    venue.relay.run_once()
    device, credential = venue.join("North door")
    admin_claims = venue.sdb.claims(venue.org, staff_role="admin", device_id=device)
    forged_key = None
    with psycopg.connect(
        hub_dsn(
            "127.0.0.1",
            venue.hub.port,
            credential.login,
            credential.password,
            credential.certificate,
        )
    ) as conn:
        conn.execute("SET ROLE authenticated")
        conn.execute(
            "select set_config('request.jwt.claims', %s, false)", (json.dumps(admin_claims),)
        )
        forged_key = conn.execute("select md5(current_setting('request.jwt.claims'))").fetchone()[0]
        conn.execute(
            "select set_config('showdesk.whoami', %s, false)",
            (f"{forged_key}|{venue.org.id}|admin|{device}",),
        )
        assert conn.execute("select staff_role from showdesk_private.whoami()").fetchone() == (
            "door",
        )
        assert conn.execute("select count(*) from showdesk.runway_appearances").fetchone() == (0,)
        pushed = conn.execute(
            "select public.showdesk_sync_push(%s::uuid, %s::jsonb)",
            (
                device,
                json.dumps(
                    [
                        mutation(
                            "runway_appearances",
                            "update",
                            backstage["appearances"][0],
                            {"order_key": "a9"},
                        )
                    ]
                ),
            ),
        ).fetchone()[0]
        assert pushed["results"][0]["status"] == "rejected"
        conn.commit()
        for statement in (
            "SET ROLE postgres",
            "SET ROLE service_role",
            "SET SESSION AUTHORIZATION postgres",
            "select * from showdesk_hub.kiosks",
            "select showdesk_hub.revoke_device(gen_random_uuid())",
            "select showdesk_hub.redeem_join(gen_random_uuid(), 'x', 'y')",
        ):
            with pytest.raises(psycopg.Error):
                conn.execute(statement)
            conn.rollback()
            conn.execute("SET ROLE authenticated")
        # Row Level Security: a door's update of the event touches nothing
        assert conn.execute("update showdesk.events set name = 'pwned'").rowcount == 0
        conn.commit()
    with venue.hub.connect() as hub:
        assert hub.execute(
            "select count(*) from showdesk.events where name = 'pwned'"
        ).fetchone() == (0,)
    assert venue.sdb.scalar("select count(*) from sync_mutations") == 0


def test_a_revoked_kiosk_is_refused_at_its_next_request(venue):
    device, credential = venue.join("North door")
    backend = HubBackend(credential)
    backend.pull(venue.event_id, "", 10)  # connected, one open session
    assert venue.hub.revoke(device) == 1
    with pytest.raises(SyncError) as refused:
        backend.push(device, [_checkin(venue, device, venue.tickets[0])])
    assert refused.value.code == "hub-revoked" and refused.value.transient
    assert "no longer accepts this kiosk" in str(refused.value)
    assert [k["revoked_at"] is not None for k in venue.hub.kiosks()] == [True]
    # joining again with a new code is how it comes back
    code = venue.hub.create_join_code("door", ["127.0.0.1"])
    again = join_hub(parse_join(code.payload), device, "North door", venue.folder / "n.pem")
    HubBackend(again).pull(venue.event_id, "", 10)


def test_a_device_revoked_by_the_organization_is_refused_by_the_hub(venue):
    device, credential = venue.join("North door")
    venue.sdb.execute("update devices set revoked_at = now() where id = %s", (device,))
    venue.relay.run_once()
    with pytest.raises(SyncError, match="removed"):
        HubBackend(credential).pull(venue.event_id, "", 10)


def test_the_hub_port_and_join_roles_do_not_accept_the_superuser(venue):
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(
            host="127.0.0.1",
            port=venue.hub.port,
            dbname="showdesk",
            user="postgres",
            password="",
            sslmode="require",
            connect_timeout=3,
        )
    assert free_port() != venue.hub.port


def test_an_address_that_is_not_a_hub_is_said_in_words(tmp_path):
    import socket
    import threading

    nothing = free_port()
    ticket = parse_join(f"ABCD-EFGH-JKMN-{'0' * 8}", f"127.0.0.1:{nothing}")
    with pytest.raises(HubProblem, match="nothing answers on that port"):
        join_hub(ticket, str(uuid.uuid4()), "N", tmp_path / "a.pem")
    # a web server, say, where the hub should be
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)

    def answer() -> None:
        conn, _ = listener.accept()
        conn.recv(8)
        conn.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n")
        conn.close()

    threading.Thread(target=answer, daemon=True).start()
    other = parse_join(f"ABCD-EFGH-JKMN-{'0' * 8}", f"127.0.0.1:{listener.getsockname()[1]}")
    with pytest.raises(HubProblem, match="it is not a venue hub"):
        join_hub(other, str(uuid.uuid4()), "N", tmp_path / "b.pem")
    listener.close()

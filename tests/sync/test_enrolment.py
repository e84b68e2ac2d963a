"""Enrolling a kiosk end to end (app/sync/enrolment.py, migrations/supabase/0021): an organizer
creates the enrolment, the kiosk reads the QR text and exchanges it for a credential of its
own, then syncs with that credential — through the PostgREST/GoTrue gateway (anonymous
sign-in, refresh-token rotation) and through the direct ``postgres`` backend."""

from __future__ import annotations

import uuid

import pytest

from app.store.checkin_service import CheckinService
from app.store.db import open_database, set_meta
from app.sync.backends import KioskSupabaseBackend, PostgresBackend, SupabaseBackend, SyncError
from app.sync.engine import SyncEngine
from app.sync.enrolment import (
    EnrolmentProblem,
    EnrolmentServer,
    create_enrolment,
    enrol,
    format_code,
    parse_enrolment,
    postgres_claims,
    qr_payload,
    revoke_enrolment,
    server_of_dsn,
)

pytestmark = pytest.mark.postgres

PASSWORD = "correct horse battery staple"


def _organizer_over_https(world, gateway) -> SupabaseBackend:
    user = gateway.create_user(
        f"boss-{uuid.uuid4().hex[:6]}@example.org",
        PASSWORD,
        organization_id=world.org.id,
        staff_role="organizer",
    )
    return SupabaseBackend(gateway.url, gateway.anon_key, user.email, PASSWORD, timeout=10)


def _organizer_direct(world) -> PostgresBackend:
    claims = world.sdb.claims(world.org, "organizer", sub=str(uuid.uuid4()))
    return PostgresBackend(world.sdb.dsn, "authenticated", claims, timeout=5)


def _sync_and_scan(world, tmp_path, backend, enrolled) -> None:
    """A replica synced with the new credential admits a ticket, and the check-in lands."""
    db = open_database(tmp_path / f"{enrolled.device_id}.sqlite")
    try:
        with db.session() as session:
            set_meta(session, "device_id", enrolled.device_id)
            set_meta(session, "event_id", enrolled.event_id)
        engine = SyncEngine(db, backend, enrolled.event_id, enrolled.device_id)
        report = engine.sync_once()
        assert report.pull.upserted >= 12
        door = CheckinService(db, enrolled.event_id, enrolled.device_id, gate=enrolled.gate)
        code = world.sdb.scalar(
            "SELECT qr_code_data FROM tickets WHERE id = %s", (world.tickets[0],)
        )
        assert door.scan(code).verdict == "admitted"
        assert engine.sync_once().push.applied == 1
        [row] = world.server_checkins()
        assert str(row["device_id"]) == enrolled.device_id
        assert str(row["ticket_id"]) == world.tickets[0]
    finally:
        backend.close()
        db.close()


def test_enrol_through_the_gateway_then_sync_with_the_new_credential(world, gateway, tmp_path):
    organizer = _organizer_over_https(world, gateway)
    server = EnrolmentServer("supabase", gateway.url, gateway.anon_key)
    invitation = create_enrolment(
        organizer,
        server,
        event_id=world.event_id,
        role="door",
        device_name="Door 7",
        gate="West",
    )
    organizer.close()
    assert invitation.qr.startswith("SDE1:") and gateway.url in invitation.qr
    assert PASSWORD not in invitation.qr and "password" not in invitation.qr.lower()

    enrolled = enrol(invitation.qr, backend="supabase")
    assert enrolled.backend == "supabase" and enrolled.server_url == gateway.url
    assert enrolled.anon_key == gateway.anon_key
    assert (enrolled.organization_id, enrolled.event_id) == (world.org.id, world.event_id)
    assert (enrolled.role, enrolled.gate, enrolled.device_name) == ("door", "West", "Door 7")
    assert enrolled.organization_name == "Maison Sync" and enrolled.replaced is False
    assert enrolled.credential.kind == "supabase-refresh-token"
    assert enrolled.credential.secret not in repr(enrolled)  # never in a log line
    assert any(path == "/auth/v1/signup" for _m, path, _s in gateway.requests)
    anonymous = [u for u in gateway.users.values() if u.id == enrolled.credential.user_id]
    assert (
        anonymous
        and anonymous[0].is_anonymous
        and "organization_id" not in (anonymous[0].app_metadata)
    )

    stored: list[str] = []
    backend = KioskSupabaseBackend(
        enrolled.server_url,
        enrolled.anon_key,
        enrolled.credential.secret,
        on_refresh_token=stored.append,
        timeout=10,
    )
    _sync_and_scan(world, tmp_path, backend, enrolled)
    assert stored and stored[-1] != enrolled.credential.secret  # rotated, and handed over

    # the code is spent: a second kiosk gets the sentence, not a device
    with pytest.raises(EnrolmentProblem) as info:
        enrol(invitation.qr, backend="supabase")
    assert info.value.kind == "used"
    assert str(info.value).startswith("This enrolment code was already used (")


def test_a_rotated_credential_keeps_working_until_the_new_one_is_used(world, gateway):
    organizer = _organizer_direct(world)
    server = EnrolmentServer("supabase", gateway.url, gateway.anon_key)
    invitation = create_enrolment(
        organizer, server, event_id=world.event_id, role="door", device_name="Door R"
    )
    organizer.close()
    enrolled = enrol(invitation.qr, backend="supabase")
    first = enrolled.credential.secret

    def pull_with(token: str, stored: list[str]) -> None:
        backend = KioskSupabaseBackend(
            gateway.url, gateway.anon_key, token, on_refresh_token=stored.append, timeout=10
        )
        try:
            assert backend.pull(world.event_id, "", 50).changes
        finally:
            backend.close()

    rotated: list[str] = []
    pull_with(first, rotated)  # signs in with the old token: the server rotates it
    [second] = rotated
    # the kiosk died before storing ``second``: the old token still works, and brings it back
    again: list[str] = []
    pull_with(first, again)
    assert again == [second]
    # once the new token is used, the old one is refused (reuse of a spent token)
    third: list[str] = []
    pull_with(second, third)
    assert len(third) == 1 and third[0] not in (first, second)
    backend = KioskSupabaseBackend(gateway.url, gateway.anon_key, first, timeout=10)
    with pytest.raises(SyncError) as info:
        backend.pull(world.event_id, "", 50)
    assert info.value.code == "credential-refused"
    assert "enrol it again" in str(info.value)
    backend.close()


def test_enrol_through_the_postgres_backend_then_sync(world, tmp_path):
    organizer = _organizer_direct(world)
    server = server_of_dsn(world.sdb.dsn)
    assert server.url.startswith("postgres://127.0.0.1:") and "user" not in server.url
    invitation = create_enrolment(
        organizer, server, event_id=world.event_id, role="door", device_name="Door P", gate="East"
    )
    enrolled = enrol(invitation.qr, backend="postgres", dsn=world.sdb.dsn)
    assert enrolled.credential.kind == "postgres-auth-user"
    assert (enrolled.role, enrolled.gate, enrolled.event_id) == ("door", "East", world.event_id)
    backend = PostgresBackend(
        world.sdb.dsn, "authenticated", postgres_claims(enrolled.credential.secret), timeout=5
    )
    _sync_and_scan(world, tmp_path, backend, enrolled)

    # the typed code, the other way in, is refused the second time with its own sentence
    with pytest.raises(EnrolmentProblem) as info:
        enrol(invitation.code, backend="postgres", dsn=world.sdb.dsn)
    assert info.value.kind == "used"

    # withdrawn and expired codes each get theirs
    withdrawn = create_enrolment(
        organizer, server, event_id=world.event_id, role="door", device_name="Door W"
    )
    assert revoke_enrolment(organizer, withdrawn.enrolment_id)
    with pytest.raises(EnrolmentProblem) as info:
        enrol(withdrawn.qr, backend="postgres", dsn=world.sdb.dsn)
    assert info.value.kind == "revoked" and "withdrawn" in str(info.value)
    late = create_enrolment(
        organizer, server, event_id=world.event_id, role="door", device_name="Door L"
    )
    world.sdb.execute(
        "UPDATE enrolments SET expires_at = now() - interval '1 minute' WHERE id = %s",
        (late.enrolment_id,),
    )
    with pytest.raises(EnrolmentProblem) as info:
        enrol(late.qr, backend="postgres", dsn=world.sdb.dsn)
    assert info.value.kind == "expired" and "expired at" in str(info.value)
    # a door account cannot create one: the server's sentence comes through
    door = PostgresBackend(
        world.sdb.dsn, "authenticated", world.sdb.claims(world.org, "door", sub=str(uuid.uuid4()))
    )
    with pytest.raises(EnrolmentProblem) as info:
        create_enrolment(door, server, event_id=world.event_id, role="door", device_name="X")
    assert info.value.kind == "forbidden"
    door.close()
    organizer.close()


def test_a_never_issued_code_is_unknown_over_https(world, gateway):
    qr = qr_payload(
        format_code("0" * 26), EnrolmentServer("supabase", gateway.url, gateway.anon_key)
    )
    with pytest.raises(EnrolmentProblem) as info:
        enrol(qr, backend="supabase")
    assert info.value.kind == "unknown"
    assert str(info.value) == (
        "This enrolment code is not valid: check it, or ask the organizer for a new one."
    )


def test_a_project_without_anonymous_sign_ins_is_told_what_to_turn_on(world, gateway):
    organizer = _organizer_direct(world)
    invitation = create_enrolment(
        organizer,
        EnrolmentServer("supabase", gateway.url, gateway.anon_key),
        event_id=world.event_id,
        role="door",
        device_name="Door A",
    )
    organizer.close()
    gateway.anonymous_sign_ins = False
    with pytest.raises(EnrolmentProblem) as info:
        enrol(invitation.qr, backend="supabase")
    assert info.value.kind == "refused" and "Allow anonymous sign-ins" in str(info.value)
    # nothing was spent: with the setting on, the same code works
    gateway.anonymous_sign_ins = True
    assert enrol(invitation.qr, backend="supabase").device_name == "Door A"


def test_the_server_unreachable_is_said_so(world):
    qr = qr_payload(
        format_code("1" * 26), EnrolmentServer("supabase", "http://127.0.0.1:9", "k" * 40)
    )
    with pytest.raises(EnrolmentProblem) as info:
        enrol(qr, backend="supabase")
    assert info.value.kind == "unreachable"
    assert str(info.value).startswith("Cannot reach the server")


# --- hostile payloads (no server needed) ------------------------------------------------------

CODE = format_code("7Q2M0D4KRS9TVWXYZ0123456AB")


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("SDE1:" + "A" * 900, "too-long"),
        ("x" * 801, "too-long"),
        ("https://evil.example/enrol", "not-enrolment"),
        ('{"v":1,"url":"https://x","password":"p"}', "not-enrolment"),
        ("SDE2:" + CODE + ":https://a.example", "version"),
        (
            "SDE1:" + CODE[:-1] + ("0" if CODE[-1] != "0" else "1") + ":https://a.example",
            "bad-code",
        ),
        ("SDE1:" + CODE[:-5] + ":https://a.example", "bad-code"),
        ("SDE1:" + CODE + "U:https://a.example", "bad-code"),
        (CODE.replace("-", "")[:-2], "bad-code"),
        ("SDE1:" + CODE, "bad-server"),
        ("SDE1:" + CODE + ":", "bad-server"),
        ("SDE1:" + CODE + ":https://user:pw@a.example", "bad-server"),
        ("SDE1:" + CODE + ":http://a.example", "bad-server"),
        ("SDE1:" + CODE + ":postgres://u:p@db.example/showdesk", "bad-server"),
        ("SDE1:" + CODE + ":postgres://db.example/showdesk?sslmode=disable", "bad-server"),
        ("SDE1:" + CODE + ":javascript:alert(1)", "bad-server"),
        ("SDE1:" + CODE + ":file:///etc/passwd", "bad-server"),
        ("SDE1:" + CODE + ":https://a.exa mple", "bad-server"),
        ("SDE1:" + CODE + ":https://a.ex\nample", "bad-server"),
        ("SDE1:" + CODE + ":https://a.example\x00", "bad-server"),
        ("SDE1:" + CODE + ":https://a.example?apikey=x&redirect=y", "bad-server"),
        ("SDE1:" + CODE + ":https://a.example#frag", "bad-server"),
        ("SDE1:" + CODE + ":https://a.example:99999", "bad-server"),
    ],
)
def test_hostile_payloads_get_a_sentence(text, kind):
    with pytest.raises(EnrolmentProblem) as info:
        parse_enrolment(text)
    assert info.value.kind == kind
    message = str(info.value)
    assert message.endswith(".") and len(message) < 300
    assert "Traceback" not in message


def test_good_payloads_read_back():
    ticket = parse_enrolment(
        f"  sde1:{CODE.lower()}:https://ABC.supabase.co/?apikey=sb_publishable_abcdefghijklmnop  "
    )
    assert ticket.typed == CODE
    assert ticket.server == EnrolmentServer(
        "supabase", "https://abc.supabase.co", "sb_publishable_abcdefghijklmnop"
    )
    # I, L and O typed for 1, 1 and 0; spaces instead of dashes
    typed = CODE.replace("1", "l").replace("0", "O").replace("-", " ")
    assert parse_enrolment(typed).code == CODE.replace("-", "")
    local = parse_enrolment(f"SDE1:{CODE}:http://127.0.0.1:54321")
    assert local.server.url == "http://127.0.0.1:54321"
    db = parse_enrolment(f"SDE1:{CODE}:postgres://db.example/showdesk")
    assert db.server == EnrolmentServer("postgres", "postgres://db.example:5432/showdesk")
    # what qr_payload writes, parse_enrolment reads
    for server in (ticket.server, db.server):
        assert parse_enrolment(qr_payload(CODE, server)).server == server


def test_a_code_for_another_server_is_refused_before_anything_is_sent(gateway):
    qr = f"SDE1:{CODE}:https://elsewhere.example"
    with pytest.raises(EnrolmentProblem) as info:
        enrol(qr, backend="supabase", url=gateway.url, anon_key=gateway.anon_key)
    assert info.value.kind == "other-server"
    assert "elsewhere.example" in str(info.value)
    with pytest.raises(EnrolmentProblem) as info:
        enrol(
            f"SDE1:{CODE}:postgres://db.example/showdesk",
            backend="postgres",
            dsn="host=127.0.0.1 port=5 dbname=showdesk user=kiosk password=secret",
        )
    assert info.value.kind == "other-server" and "secret" not in str(info.value)
    with pytest.raises(EnrolmentProblem) as info:
        enrol(f"SDE1:{CODE}:postgres://db.example/showdesk", backend="supabase")
    assert info.value.kind == "other-server"
    assert gateway.requests == []

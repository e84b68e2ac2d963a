"""The organizer's figures from a demo replica with a known check-in log (see conftest.py)."""

from __future__ import annotations

import csv
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.store.arrivals import load_report, organizer_report, report_csv_rows, write_report_csv
from app.store.checkin_service import event_counters
from app.store.models import Ticket


def _expected(ctx) -> int:
    with ctx.db.session() as s:
        return s.scalar(
            select(func.count())
            .select_from(Ticket)
            .where(Ticket.event_id == ctx.event_id, Ticket.status.in_(("valid", "transferred")))
        )


def test_arrivals_per_five_minutes_by_tier(known) -> None:
    report = load_report(known.ctx.db, known.ctx.event_id, "tier", known.clock)
    assert report.buckets[0] == known.t0
    assert report.buckets[-1] == known.now  # a live event: the axis runs up to now
    assert len(report.buckets) == 13
    assert report.groups == ["general", "premium", "vip", "press", "comp"]
    assert report.labels["vip"] == "VIP" and report.labels["general"] == "General"
    zero = [0] * 13

    def at(**cells: int) -> list[int]:
        out = list(zero)
        for key, value in cells.items():
            out[int(key[1:])] = value
        return out

    assert report.arrivals == {
        "general": at(b0=2, b1=1),
        "premium": at(b1=1, b2=1),
        "vip": at(b2=1, b5=1),
        "press": at(b0=1),
        "comp": at(b9=1),  # the undone admission at 22 is no arrival; the one at 45 is
    }
    assert report.arrived_total == 9
    assert report.arrived == {"general": 3, "premium": 2, "vip": 2, "press": 1, "comp": 1}
    assert report.arrived_so_far() == [3, 5, 7, 7, 7, 8, 8, 8, 8, 9, 9, 9, 9]
    assert report.expected_total == _expected(known.ctx)
    # the tiers keep their own colours from the ticket types
    assert report.colours["vip"] == "#C9A227" and report.colours["press"] == "#10B981"


def test_entries_exits_and_people_inside(known) -> None:
    report = load_report(known.ctx.db, known.ctx.event_id, "tier", known.clock)
    assert report.entries == [3, 2, 3, 0, 0, 1, 1, 0, 1, 1, 0, 0, 0]
    assert report.exits == [0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0]
    assert report.inside == [3, 5, 7, 7, 6, 7, 8, 7, 8, 9, 9, 9, 9]
    assert (report.entries_total, report.exits_total, report.inside_now) == (12, 2, 9)


def test_gates_and_double_entries(known) -> None:
    report = load_report(known.ctx.db, known.ctx.event_id, "tier", known.clock)
    gates = {g.gate: g for g in report.gates}
    assert [g.gate for g in report.gates] == [
        "North door",
        "South door",
        "Press desk",
        "VIP entrance",
    ]
    north, south, vip, press = (
        gates["North door"],
        gates["South door"],
        gates["VIP entrance"],
        gates["Press desk"],
    )
    assert (north.scans, north.admitted, north.exits, north.refused, north.double_entries) == (
        8,
        6,
        1,
        0,
        1,
    )
    assert (south.scans, south.admitted, south.refused, south.double_entries) == (4, 3, 1, 1)
    assert (vip.scans, vip.admitted, vip.exits, vip.refused, vip.already_inside) == (5, 2, 1, 2, 1)
    assert (press.scans, press.admitted) == (1, 1)
    assert north.peak_per_minute == pytest.approx(2 / 5)
    assert report.already_inside_total == 1

    doubles = {d.ticket_id: d for d in report.double_entries}
    assert set(doubles) == {known.tickets["P2"], known.tickets["V2"]}
    p2, v2 = doubles[known.tickets["P2"]], doubles[known.tickets["V2"]]
    assert (p2.first.gate, p2.first.device, p2.second.gate, p2.second.device) == (
        "North door",
        "Kiosk 1",
        "South door",
        "Kiosk 2",
    )
    assert p2.second.at - p2.first.at == timedelta(minutes=1)
    assert not p2.flagged and p2.ticket_number == known.numbers["P2"] and p2.guest
    assert v2.flagged and (v2.first.gate, v2.second.gate) == ("VIP entrance", "North door")


def test_stacked_by_ticket_type(known) -> None:
    report = load_report(known.ctx.db, known.ctx.event_id, "ticket_type", known.clock)
    assert report.groups[:2] == ["General Admission", "Premium Seating"]
    assert report.arrived["General Admission"] == 3
    assert report.arrived["Guest List (Comp)"] == 1
    assert sum(report.arrivals_total()) == 9


def test_agrees_with_the_door_counters_on_the_demo_log(demo_ctx) -> None:
    """The demo's own random check-ins: the organizer and the door count the same."""
    report = load_report(demo_ctx.db, demo_ctx.event_id)
    with demo_ctx.db.session() as s:
        counters = event_counters(s, demo_ctx.event_id)
    assert report.arrived_total == counters.admitted > 0
    assert report.inside_now == counters.inside
    assert report.expected_total == counters.expected
    per_tier = {t.tier: (t.admitted, t.expected) for t in counters.per_tier}
    assert {g: (report.arrived[g], report.expected[g]) for g in report.groups} == per_tier
    assert len({g.gate for g in report.gates if g.scans}) >= 3


def test_no_checkins_gives_an_empty_time_axis(demo_ctx) -> None:
    from sqlalchemy import delete

    from app.store.models import Checkin

    with demo_ctx.db.session() as s:
        s.execute(delete(Checkin))
        report = organizer_report(s, demo_ctx.event_id)
    assert report.buckets == [] and report.arrived_total == 0 and report.inside_now == 0
    assert report.expected_total > 0
    assert all(g.scans == 0 for g in report.gates) and report.gates
    assert report_csv_rows(report)  # still exports


def test_csv_holds_every_chart(known, tmp_path) -> None:
    report = load_report(known.ctx.db, known.ctx.event_id, "tier", known.clock)
    path = write_report_csv(report, tmp_path / "arrivals.csv")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # Excel reads the accents
    rows = list(csv.reader(path.open(encoding="utf-8-sig")))
    assert rows[0] == ["Event", "Maison Aurèle — Spring/Summer 27 Show"]
    facts = {r[0]: r[1] for r in rows[:6]}
    assert facts["Arrived"] == "9" and facts["Inside now"] == "9"
    assert facts["Double entries"] == "2"

    def section(title: str) -> list[list[str]]:
        start = rows.index([title]) + 1
        end = rows.index([], start) if [] in rows[start:] else len(rows)
        return rows[start:end]

    series = section("Arrivals per 5 minutes by tier")
    assert series[0] == [
        "Time (Europe/Paris)",
        "General",
        "Premium",
        "VIP",
        "Press",
        "Comp",
        "Arrivals",
        "Arrived so far",
        "Expected",
        "Entries",
        "Exits",
        "Inside",
    ]
    assert len(series) == 1 + 13
    first = dict(zip(series[0], series[1], strict=True))
    assert first["General"] == "2" and first["Press"] == "1" and first["Arrivals"] == "3"
    assert first["Time (Europe/Paris)"] == report.local(known.t0).strftime("%Y-%m-%d %H:%M")
    assert [r[-1] for r in series[1:]] == [str(v) for v in report.inside]
    assert {r[-4] for r in series[1:]} == {str(report.expected_total)}

    gates = section("Gates")
    assert gates[0][0] == "Gate" and len(gates) == 1 + 4
    north = dict(zip(gates[0], gates[1], strict=True))
    assert (
        north["Gate"] == "North door"
        and north["Admitted"] == "6"
        and north["Double entries"] == "1"
    )

    doubles = section("Double entries")
    assert len(doubles) == 1 + 2
    by_ticket = {r[0]: dict(zip(doubles[0], r, strict=True)) for r in doubles[1:]}
    p2 = by_ticket[known.numbers["P2"]]
    assert (p2["First gate"], p2["Gate"], p2["First kiosk"], p2["Kiosk"]) == (
        "North door",
        "South door",
        "Kiosk 1",
        "Kiosk 2",
    )
    assert by_ticket[known.numbers["V2"]]["Flagged by sync"] == "yes"
    assert section("Tiers")[1:] == [
        [report.labels[g], str(report.arrived[g]), str(report.expected[g])] for g in report.groups
    ]


def test_order_and_buckets_follow_corrected_time(known) -> None:
    """Kiosk 1's clock ran 3 minutes fast: its North scan of P2 (device time minute 12) was
    really at minute 9, before South's at 13; its corrected time decides which admission came
    first and which 5-minute bucket the arrival falls in, as the server decides."""
    from sqlalchemy import update

    from app.store.models import Checkin

    p2 = known.tickets["P2"]
    north_device = known.devices["North door"]
    with known.ctx.db.session() as s:
        s.execute(
            update(Checkin)
            .where(Checkin.ticket_id == p2, Checkin.device_id == north_device)
            .values(corrected_at=known.t0 + timedelta(minutes=9), corrected_uncertainty_s=0.2)
        )
        s.execute(  # South's clock was right: corrected = device time
            update(Checkin)
            .where(Checkin.ticket_id == p2, Checkin.device_id != north_device)
            .values(corrected_at=known.t0 + timedelta(minutes=13), corrected_uncertainty_s=0.2)
        )
        s.commit()
    report = load_report(known.ctx.db, known.ctx.event_id, "tier", known.clock)
    doubles = {d.ticket_id: d for d in report.double_entries}
    first, second = doubles[p2].first, doubles[p2].second
    assert (first.gate, second.gate) == ("North door", "South door")
    assert second.at - first.at == timedelta(minutes=4)
    # The arrival moved from the 10–15 bucket to the 5–10 one.
    assert report.entries[1:3] == [3, 2]

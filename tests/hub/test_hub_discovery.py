"""Discovery is a convenience: a kiosk hears the hub by mDNS when the network allows it, and
joins just the same with the typed address when multicast is blocked (for real: an iptables
rule drops mDNS while the test runs)."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from app.sync.hub.discovery import Advertisement, browse
from app.sync.hub.join import HubBackend, join_hub
from app.sync.hub.server import parse_join

pytestmark = pytest.mark.postgres
LOOPBACK = ["127.0.0.1"]
DROP_MDNS = ["OUTPUT", "-p", "udp", "--dport", "5353", "-j", "DROP"]


def test_a_kiosk_hears_the_hub_and_what_it_says(venue):
    ad = Advertisement(
        "Venue test hub",
        venue.hub.port,
        LOOPBACK,
        venue.event_id,
        venue.hub.fingerprint,
        interfaces=LOOPBACK,
    )
    try:
        assert ad.problem is None
        found = browse(2.0, interfaces=LOOPBACK)
    finally:
        ad.close()
    [hub] = [h for h in found.hubs if h.port == venue.hub.port]
    assert hub.name == "Venue test hub" and hub.addresses == ("127.0.0.1",)
    assert hub.event_id == venue.event_id and hub.fingerprint_tail == venue.hub.fingerprint[-8:]


def test_with_multicast_blocked_the_typed_address_still_joins(venue):
    iptables = shutil.which("iptables")
    if iptables is None:
        pytest.skip("iptables is not installed (.ci/run installs it)")
    added = subprocess.run([iptables, "-A", *DROP_MDNS], capture_output=True, text=True)
    if added.returncode != 0:
        pytest.skip(f"cannot block multicast here: {added.stderr.strip()}")
    ad = None
    try:
        ad = Advertisement(
            "Blocked hub",
            venue.hub.port,
            LOOPBACK,
            venue.event_id,
            venue.hub.fingerprint,
            interfaces=LOOPBACK,
        )
        found = browse(2.0, interfaces=LOOPBACK)
        assert [h for h in found.hubs if h.port == venue.hub.port] == []
        assert found.problem
        device = venue.sdb.create_device(venue.org, "North door")
        venue.relay.run_once()
        code = venue.hub.create_join_code("door", LOOPBACK)
        credential = join_hub(
            parse_join(code.typed, f"127.0.0.1:{venue.hub.port}"),
            device,
            "North door",
            venue.folder / "north.pem",
        )
        HubBackend(credential).pull(venue.event_id, "", 10)
    finally:
        if ad is not None:
            ad.close()
        subprocess.run([iptables, "-D", *DROP_MDNS], capture_output=True)

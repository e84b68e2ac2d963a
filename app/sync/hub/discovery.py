"""Finding the venue hub by mDNS/DNS-SD (``_showdesk._tcp``): a convenience, never a need.

The hub advertises its port, event and certificate fingerprint; a kiosk's join screen lists
what it hears to fill in the address. Venue Wi-Fi often isolates clients or drops multicast,
so nothing depends on it: the join QR and the typed address always work, and a browse that
hears nothing (or cannot use multicast at all) answers an empty list with the reason. Trust
never comes from here: the fingerprint a kiosk pins is the one in the QR or the typed code.
"""

from __future__ import annotations

import logging
import socket
import time
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

SERVICE = "_showdesk._tcp.local."


@dataclass(frozen=True)
class FoundHub:
    name: str
    addresses: tuple[str, ...]
    port: int
    event_id: str | None
    fingerprint_tail: str | None


@dataclass
class BrowseResult:
    hubs: list[FoundHub] = field(default_factory=list)
    problem: str | None = None  # why nothing could be heard (no multicast, no network)


class Advertisement:
    """The hub's announcement; ``close()`` withdraws it. Fails quietly (logged) where
    multicast is unavailable: the hub works the same without it."""

    def __init__(
        self,
        name: str,
        port: int,
        addresses: list[str],
        event_id: str,
        fingerprint: str,
        interfaces: Any = None,
    ) -> None:
        self._zeroconf: Any = None
        self._info: Any = None
        self.problem: str | None = None
        try:
            from zeroconf import IPVersion, ServiceInfo, Zeroconf

            self._zeroconf = Zeroconf(
                interfaces=interfaces or _all_interfaces(), ip_version=IPVersion.V4Only
            )
            self._info = ServiceInfo(
                SERVICE,
                f"{_label(name)}.{SERVICE}",
                addresses=[socket.inet_aton(a) for a in addresses],
                port=port,
                properties={"v": "1", "event": event_id, "fp": fingerprint[-8:]},
            )
            self._zeroconf.register_service(self._info)
        except Exception as exc:  # noqa: BLE001 - no multicast here: the QR and the address remain
            self.problem = f"not announced on this network ({type(exc).__name__}: {exc})"
            log.info("hub discovery: %s", self.problem)
            self.close()

    def close(self) -> None:
        zeroconf, self._zeroconf = self._zeroconf, None
        if zeroconf is None:
            return
        try:
            if self._info is not None:
                zeroconf.unregister_service(self._info)
        except Exception:  # noqa: BLE001 - withdrawing from a network that is gone
            pass
        zeroconf.close()


def browse(seconds: float = 2.0, interfaces: Any = None) -> BrowseResult:
    """The hubs heard within ``seconds``."""
    try:
        from zeroconf import IPVersion, ServiceBrowser, Zeroconf
    except ImportError as exc:
        return BrowseResult(problem=f"discovery is not available ({exc})")
    names: list[str] = []

    class Listener:
        def add_service(self, _zc: Any, _type: str, name: str) -> None:
            names.append(name)

        def update_service(self, _zc: Any, _type: str, name: str) -> None:
            pass

        def remove_service(self, _zc: Any, _type: str, name: str) -> None:
            pass

    try:
        zeroconf = Zeroconf(interfaces=interfaces or _all_interfaces(), ip_version=IPVersion.V4Only)
    except Exception as exc:  # noqa: BLE001 - no multicast on this network
        return BrowseResult(problem=f"this network does not allow discovery ({exc})")
    try:
        ServiceBrowser(zeroconf, SERVICE, Listener())  # type: ignore[arg-type]  # duck-typed
        time.sleep(seconds)
        hubs = []
        for name in dict.fromkeys(names):
            info = zeroconf.get_service_info(SERVICE, name, timeout=1000)
            if info is None or not info.port:
                continue
            props = {
                k.decode(errors="replace"): (v or b"").decode(errors="replace")
                for k, v in (info.properties or {}).items()
            }
            hubs.append(
                FoundHub(
                    name=name.removesuffix(f".{SERVICE}"),
                    addresses=tuple(info.parsed_addresses()),
                    port=int(info.port),
                    event_id=props.get("event") or None,
                    fingerprint_tail=props.get("fp") or None,
                )
            )
        problem = None if hubs else "no venue hub answered on this network"
        return BrowseResult(hubs, problem)
    finally:
        zeroconf.close()


def _all_interfaces() -> Any:
    from zeroconf import InterfaceChoice

    return InterfaceChoice.All


def _label(name: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in " -_" else "-" for c in name).strip()
    return (cleaned or "Showdesk hub")[:60]

"""How each verdict looks and sounds: colour, icon, sound and headline words.

Never colour alone: every verdict also has its own icon shape and its own words, and the sound
differs by family (go / look / stop).
"""

from __future__ import annotations

from dataclasses import dataclass

from app.domain.verdicts import HEADLINES, SOUNDS, Verdict, headline_for


@dataclass(frozen=True)
class VerdictStyle:
    headline: str
    background: str  # panel colour
    foreground: str  # text colour with enough contrast on ``background``
    icon: str  # shape drawn by VerdictIcon: check, exit, repeat, clock, cross, stop, question...
    sound: str  # ok, warning, refusal (sounds.SOUND_NAMES)


GREEN, BLUE, AMBER, ORANGE, RED, PURPLE, GREY = (
    "#0b7a34",
    "#0b4f9c",
    "#f2b100",
    "#e06a00",
    "#b3001b",
    "#5c1a8c",
    "#4a4f57",
)

# Colour, text colour and icon per verdict; the words and the sound come from the domain's
# vocabulary (app.domain.verdicts), so the window, the CLI and the logs say the same thing.
_LOOKS: dict[Verdict, tuple[str, str, str]] = {
    Verdict.ADMITTED: (GREEN, "#ffffff", "check"),
    Verdict.EXIT_RECORDED: (BLUE, "#ffffff", "exit"),
    Verdict.ALREADY_ADMITTED: (AMBER, "#111111", "repeat"),
    Verdict.NOT_YET_VALID: (ORANGE, "#111111", "clock"),
    Verdict.EXPIRED: (ORANGE, "#111111", "hourglass"),
    Verdict.WRONG_GATE_OR_TIER: (ORANGE, "#111111", "arrow"),
    Verdict.CANCELLED: (RED, "#ffffff", "cross"),
    Verdict.REFUNDED: (RED, "#ffffff", "cross"),
    Verdict.REVOKED: (RED, "#ffffff", "ban"),
    Verdict.WRONG_EVENT: (RED, "#ffffff", "bang"),
    Verdict.UNKNOWN: (RED, "#ffffff", "question"),
    Verdict.FORGED: (PURPLE, "#ffffff", "stop"),
    Verdict.UNREADABLE: (GREY, "#ffffff", "question"),
    Verdict.OFFLINE_HOLD: (ORANGE, "#111111", "stop"),
}

STYLES: dict[str, VerdictStyle] = {
    verdict.value: VerdictStyle(HEADLINES[verdict], background, foreground, icon, SOUNDS[verdict])
    for verdict, (background, foreground, icon) in _LOOKS.items()
}

# Messages that are not verdicts. A failure (a scan that could not be stored, a database that
# cannot be written) is red with a stop sign: a neutral grey "?" would read as "try again".
FAILURE = VerdictStyle("NOT RECORDED", RED, "#ffffff", "stop", "refusal")
MESSAGES: dict[str, VerdictStyle] = {"failure": FAILURE}

READY = VerdictStyle("Ready — show your ticket", "#1d232b", "#f2f2f2", "qr", "")
WORKING = VerdictStyle("Checking…", "#1d232b", "#f2f2f2", "qr", "")


def style_for(verdict: str) -> VerdictStyle:
    """The style of a verdict value or a message kind ("failure"); anything else falls back
    to a grey "look at this"."""
    key = str(verdict)
    found = STYLES.get(key) or MESSAGES.get(key)
    if found is not None:
        return found
    return VerdictStyle(headline_for(key), GREY, "#ffffff", "bang", "warning")


def sound_for(verdict: str, notes: str | None) -> str:
    """Admitted with an attention note gets the attention chime instead of the plain OK."""
    style = style_for(verdict)
    if style.sound == "ok" and notes:
        return "attention"
    return style.sound


# --- colours as text on the door's dark lists (the last scans) ------------------------------

LIST_BACKGROUND = "#1f252d"  # door.qss: #doorTab QListWidget
LIST_CONTRAST = 6.0  # well clear of WCAG AA (4.5:1) for 20 px text


def _rgb(colour: str) -> tuple[int, int, int]:
    h = colour.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def luminance(colour: str) -> float:
    """WCAG relative luminance of "#rrggbb"."""

    def channel(v: int) -> float:
        c = v / 255.0
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(v) for v in _rgb(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    la, lb = luminance(a), luminance(b)
    return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)


def list_colour(verdict: str, background: str = LIST_BACKGROUND) -> str:
    """The verdict's own hue as text on a dark list, mixed with white until it reads at AA
    and beyond (6:1) on ``background``: purple, red and grey are too dark as they are."""
    base = _rgb(style_for(verdict).background)
    for step in range(0, 21):
        t = step / 20
        mixed = "#{:02x}{:02x}{:02x}".format(*(round(c + (255 - c) * t) for c in base))
        if contrast(mixed, background) >= LIST_CONTRAST:
            return mixed
    return "#ffffff"

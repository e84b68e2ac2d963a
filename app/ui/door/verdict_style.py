"""How each verdict looks and sounds: colour, icon, sound and headline words.

Never colour alone: every verdict also has its own icon shape and its own words, and the sound
differs by family (go / look / stop).
"""

from __future__ import annotations

from dataclasses import dataclass


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

STYLES: dict[str, VerdictStyle] = {
    "admitted": VerdictStyle("ADMITTED", GREEN, "#ffffff", "check", "ok"),
    "exit_recorded": VerdictStyle("EXIT RECORDED", BLUE, "#ffffff", "exit", "ok"),
    "already_admitted": VerdictStyle("ALREADY ADMITTED", AMBER, "#111111", "repeat", "warning"),
    "not_yet_valid": VerdictStyle("NOT YET VALID", ORANGE, "#111111", "clock", "warning"),
    "expired": VerdictStyle("EXPIRED", ORANGE, "#111111", "hourglass", "warning"),
    "wrong_gate_or_tier": VerdictStyle("WRONG GATE OR TIER", ORANGE, "#111111", "arrow", "warning"),
    "cancelled": VerdictStyle("CANCELLED", RED, "#ffffff", "cross", "refusal"),
    "refunded": VerdictStyle("REFUNDED", RED, "#ffffff", "cross", "refusal"),
    "revoked": VerdictStyle("REVOKED", RED, "#ffffff", "ban", "refusal"),
    "wrong_event": VerdictStyle("WRONG EVENT", RED, "#ffffff", "bang", "refusal"),
    "unknown": VerdictStyle("UNKNOWN TICKET", RED, "#ffffff", "question", "refusal"),
    "forged": VerdictStyle("FORGED", PURPLE, "#ffffff", "stop", "refusal"),
    "unreadable": VerdictStyle("UNREADABLE", GREY, "#ffffff", "question", "warning"),
}

READY = VerdictStyle("Ready — show your ticket", "#1d232b", "#f2f2f2", "qr", "")
WORKING = VerdictStyle("Checking…", "#1d232b", "#f2f2f2", "qr", "")


def style_for(verdict: str) -> VerdictStyle:
    """The style of a verdict value (unknown values fall back to a grey "look at this")."""
    return STYLES.get(
        str(verdict), VerdictStyle(str(verdict).upper(), GREY, "#ffffff", "bang", "warning")
    )


def sound_for(verdict: str, notes: str | None) -> str:
    """Admitted with an attention note gets the attention chime instead of the plain OK."""
    style = style_for(verdict)
    if style.sound == "ok" and notes:
        return "attention"
    return style.sound

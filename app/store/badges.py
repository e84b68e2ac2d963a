"""Talent and crew badges: a card with name, role, department and a QR of the badge code.

Scanning the badge's QR at the backstage door marks the person arrived (call-time board,
"Talent arrival" mode). Badges are drawn with Pillow and ``qrcode``; the badge sheet is a
multi-page A4 PDF (eight badges a page) ready to print and cut.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import qrcode
from PIL import Image, ImageDraw, ImageFont
from qrcode.constants import ERROR_CORRECT_M
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.calltimes import DEPARTMENTS, department_key, department_label
from app.store.db import Database
from app.store.models import Event, Person

BADGE_SIZE = (600, 900)  # pixels at 300 dpi: a 2 x 3 inch card
DEPARTMENT_COLOURS = {
    "models": (176, 0, 32),
    "hair": (106, 27, 154),
    "makeup": (194, 24, 91),
    "dressers": (21, 101, 192),
    "crew": (46, 46, 46),
}
_FONT_PATHS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "DejaVuSans-Bold.ttf",
)


class BadgeProblem(Exception):
    """A badge that cannot be made. ``str()`` is a sentence for the organizer."""


@dataclass(frozen=True)
class BadgeInfo:
    name: str
    role: str
    department: str
    badge_code: str
    event_name: str = ""


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    for path in _FONT_PATHS:
        try:
            return ImageFont.truetype(path, size)
        except OSError:
            continue
    return ImageFont.load_default(size=size)


def qr_image(text: str, px: int) -> Image.Image:
    """The QR code of ``text`` as a ``px`` square (quiet zone included), black on white."""
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=4, box_size=10)
    qr.add_data(text)
    qr.make(fit=True)
    img = qr.make_image(fill_color="black", back_color="white").get_image().convert("RGB")
    return img.resize((px, px), Image.Resampling.NEAREST)


def _fit(draw: ImageDraw.ImageDraw, text: str, width: int, size: int):
    """The largest font (down from ``size``) that fits ``text`` in ``width``; text cut if needed."""
    while size > 14:
        font = _font(size)
        if draw.textlength(text, font=font) <= width:
            return text, font
        size -= 2
    font = _font(size)
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text + "…", font


def render_badge(info: BadgeInfo) -> Image.Image:
    """One badge as an RGB image of BADGE_SIZE."""
    if not info.badge_code:
        raise BadgeProblem(f"{info.name} has no badge code yet, so no badge can be printed.")
    w, h = BADGE_SIZE
    img = Image.new("RGB", BADGE_SIZE, "white")
    draw = ImageDraw.Draw(img)
    dept = department_key(info.department)
    colour = DEPARTMENT_COLOURS[dept]
    draw.rectangle([0, 0, w, 120], fill=colour)
    label, font = _fit(draw, department_label(dept).upper(), w - 60, 64)
    draw.text((w // 2, 60), label, fill="white", font=font, anchor="mm")
    qr_px = 420
    img.paste(qr_image(info.badge_code, qr_px), ((w - qr_px) // 2, 150))
    name, font = _fit(draw, info.name, w - 40, 54)
    draw.text((w // 2, 625), name, fill="black", font=font, anchor="mm")
    role, font = _fit(draw, info.role, w - 40, 36)
    draw.text((w // 2, 690), role, fill=(60, 60, 60), font=font, anchor="mm")
    if info.event_name:
        event, font = _fit(draw, info.event_name, w - 40, 26)
        draw.text((w // 2, 770), event, fill=(90, 90, 90), font=font, anchor="mm")
    code, font = _fit(draw, info.badge_code, w - 40, 22)
    draw.text((w // 2, 850), code, fill=(120, 120, 120), font=font, anchor="mm")
    draw.rectangle([0, 0, w - 1, h - 1], outline=colour, width=6)
    return img


def _info(person: Person, event_name: str) -> BadgeInfo:
    return BadgeInfo(
        person.full_name, person.role or "", person.department, person.badge_code or "", event_name
    )


def person_badge(session: Session, person_id: str) -> Image.Image:
    """The badge of one person on the call sheet."""
    person = session.get(Person, person_id)
    if person is None:
        raise BadgeProblem("This person is no longer on this device.")
    event = session.get(Event, person.event_id)
    return render_badge(_info(person, event.name if event else ""))


def badge_png(session: Session, person_id: str, path: str | Path) -> Path:
    """Write one person's badge as PNG."""
    image = person_badge(session, person_id)
    path = Path(path)
    try:
        image.save(path, "PNG", dpi=(300, 300))
    except OSError as exc:
        raise BadgeProblem(f"Cannot write {path}: {exc.strerror or exc}.") from exc
    return path


def badge_sheet_pdf(db: Database, event_id: str, path: str | Path) -> tuple[Path, int]:
    """All talent and crew with a badge code, eight to an A4 page. Returns (path, badges)."""
    return write_badge_sheet(badge_infos(db, event_id), path)


def badge_infos(db: Database, event_id: str) -> list[BadgeInfo]:
    """What the badge sheet prints: everyone with a badge code, by department then name."""
    with db.session() as session:
        event = session.get(Event, event_id)
        people = list(
            session.scalars(
                select(Person).where(Person.event_id == event_id, Person.badge_code.is_not(None))
            )
        )
        rank = {d: i for i, d in enumerate(DEPARTMENTS)}
        people.sort(key=lambda p: (rank[department_key(p.department)], p.full_name.casefold()))
        return [_info(p, event.name if event else "") for p in people]


def write_badge_sheet(infos: list[BadgeInfo], path: str | Path) -> tuple[Path, int]:
    """Draw ``infos`` eight to an A4 page into a PDF (no database). Returns (path, badges)."""
    if not infos:
        raise BadgeProblem("No one on this event has a badge code yet.")
    page_w, page_h = 2480, 3508  # A4 at 300 dpi
    cols, rows = 4, 2
    bw, bh = BADGE_SIZE
    gap_x = (page_w - cols * bw) // (cols + 1)
    gap_y = (page_h - rows * bh) // (rows + 1)
    pages: list[Image.Image] = []
    for start in range(0, len(infos), cols * rows):
        page = Image.new("RGB", (page_w, page_h), "white")
        for i, info in enumerate(infos[start : start + cols * rows]):
            r, c = divmod(i, cols)
            page.paste(render_badge(info), (gap_x + c * (bw + gap_x), gap_y + r * (bh + gap_y)))
        pages.append(page)
    path = Path(path)
    try:
        pages[0].save(path, "PDF", resolution=300.0, save_all=True, append_images=pages[1:])
    except OSError as exc:
        raise BadgeProblem(f"Cannot write {path}: {exc.strerror or exc}.") from exc
    return path, len(infos)

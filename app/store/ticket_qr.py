"""Rendering a ticket's QR code: PNG (with ticket number and name under it) or SVG."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

import qrcode
import qrcode.image.svg
from PIL import Image, ImageDraw, ImageFont
from qrcode.util import MODE_ALPHA_NUM, QRData
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.store.models import Attendee, Ticket


class TicketNotFound(LookupError):
    """No ticket with that number or id. ``str()`` says so in plain words."""


@dataclass(frozen=True)
class TicketCode:
    ticket_id: str
    ticket_number: str
    name: str | None
    qr_text: str


def find_ticket_code(session: Session, ticket: str) -> TicketCode:
    """The ticket whose number, id or exact QR text is ``ticket``."""
    key = (ticket or "").strip()
    query = select(
        Ticket.id,
        Ticket.ticket_number,
        Ticket.qr_code_data,
        Attendee.first_name,
        Attendee.last_name,
    ).outerjoin(Attendee, Attendee.id == Ticket.attendee_id)
    row = session.execute(
        query.where(
            or_(Ticket.ticket_number == key, Ticket.id == key, Ticket.qr_code_data == key)
        ).limit(1)
    ).first()
    if row is None and key:  # ticket numbers are printed upper-case; people type them lower
        row = session.execute(query.where(Ticket.ticket_number == key.upper()).limit(1)).first()
    if row is None:
        raise TicketNotFound(f"No ticket with number or id {key[:60]!r}.")
    name = " ".join(p for p in (row[3], row[4]) if p) or None
    return TicketCode(ticket_id=row[0], ticket_number=row[1], name=name, qr_text=row[2])


_ALPHANUMERIC = re.compile(r"^[0-9A-Z $%*+\-./:]+$")


def _qr(text: str, box_size: int, border: int) -> qrcode.QRCode:
    code = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=box_size, border=border
    )
    if _ALPHANUMERIC.match(text):
        # Signed tokens use only these characters: one alphanumeric segment (5.5 bits a
        # character) rather than whatever segmentation qrcode's optimiser would pick.
        code.add_data(QRData(text, mode=MODE_ALPHA_NUM), optimize=0)
    else:
        code.add_data(text)
    code.make(fit=True)
    return code


def qr_version(text: str) -> int:
    """The QR version (size: 17 + 4 x version modules a side) a ticket's code is printed at."""
    return _qr(text, 1, 0).version


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    for name in ("DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "Arial.ttf"):
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    return ImageFont.load_default()


def render_qr_png(text: str, caption: list[str] | tuple[str, ...] = (), box_size: int = 8) -> bytes:
    """A PNG of the QR code for ``text``, with optional caption lines under it."""
    image = _qr(text, box_size, 4).make_image(fill_color="black", back_color="white")
    qr_img: Image.Image = image.get_image().convert("RGB")
    lines = [line for line in caption if line]
    if lines:
        font = _font(max(14, box_size * 2 + 2))
        line_h = int(font.size * 1.35) if hasattr(font, "size") else 18
        canvas = Image.new("RGB", (qr_img.width, qr_img.height + line_h * len(lines) + 12), "white")
        canvas.paste(qr_img, (0, 0))
        draw = ImageDraw.Draw(canvas)
        y = qr_img.height - box_size  # inside the lower quiet zone, clear of the modules
        for line in lines:
            width = draw.textlength(line, font=font)
            draw.text(((canvas.width - width) / 2, y), line, fill="black", font=font)
            y += line_h
        qr_img = canvas
    out = io.BytesIO()
    qr_img.save(out, format="PNG")
    return out.getvalue()


def render_qr_svg(text: str, box_size: int = 10) -> bytes:
    """An SVG of the QR code for ``text``: one path of modules on a white background (so it
    scans on any ticket design), which `showdesk decode` reads back."""
    image = _qr(text, box_size, 4).make_image(image_factory=qrcode.image.svg.SvgPathFillImage)
    out = io.BytesIO()
    image.save(out)
    return out.getvalue()


def render_ticket_png(ticket: TicketCode | str, session: Session | None = None) -> bytes:
    """PNG of a ticket's code with its number and holder under it.

    ``ticket`` is a TicketCode, or a ticket number/id looked up in ``session``, or (without a
    session) the QR text itself.
    """
    if isinstance(ticket, str):
        if session is not None:
            ticket = find_ticket_code(session, ticket)
        else:
            return render_qr_png(ticket)
    return render_qr_png(ticket.qr_text, [ticket.ticket_number, ticket.name or ""])

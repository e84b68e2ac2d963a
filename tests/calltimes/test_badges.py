"""Badges: the rendered QR reads back as the badge code, also through a camera; badge sheet."""

from __future__ import annotations

import pytest
from pypdf import PdfReader

from app.scan.decoders import build_chain
from app.store.badges import BadgeInfo, BadgeProblem, badge_png, badge_sheet_pdf, render_badge

from .camera import badge_camera_frame, pil_to_bgr


def test_badge_qr_reads_back_flat_and_through_a_camera():
    info = BadgeInfo("Zoë Ørsted-Müller", "Model", "models", "BADGE-ZOE-0042", "Paris Winter Show")
    img = render_badge(info)
    assert img.size == (600, 900)
    decoder = build_chain("auto")
    assert [d.text for d in decoder.decode(pil_to_bgr(img))] == ["BADGE-ZOE-0042"]
    frame = badge_camera_frame(img)
    assert frame.shape == (720, 1280, 3)
    assert "BADGE-ZOE-0042" in [d.text for d in decoder.decode(frame)]


def test_badge_png_and_sheet(db, backstage, tmp_path):
    with db.session() as s:
        path = badge_png(s, backstage.people["Ana Silva"], tmp_path / "ana.png")
    assert path.read_bytes().startswith(b"\x89PNG")
    sheet, count = badge_sheet_pdf(db, backstage.event_id, tmp_path / "badges.pdf")
    assert count == 7
    assert len(PdfReader(str(sheet)).pages) == 1  # eight to a page


def test_badge_without_code_is_a_sentence():
    with pytest.raises(BadgeProblem, match="has no badge code"):
        render_badge(BadgeInfo("No Code", "Dresser", "dressers", ""))

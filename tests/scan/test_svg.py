"""SVG codes: what `showdesk ticket-qr --out x.svg` writes (and other generators' SVGs) is
drawn and decoded back; an SVG drawn with things a QR code never uses is refused in words."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
import qrcode
import qrcode.image.svg
import zxingcpp

from app.cli import main
from app.domain.tokens import generate_keypair, issue_token
from app.scan.decoders import build_chain, decode_image_file
from app.scan.sources import read_image
from app.scan.svg import SvgUnsupported, rasterize_svg
from app.scan.synth import code_matrix
from app.store.ticket_qr import render_qr_svg

PRIVATE, _ = generate_keypair()
IDS = {
    "ticket_id": "6f1c1c51-2f0b-4d0e-9a55-0d7a3b1f3c11",
    "event_id": "0b7f6a2e-8a51-4e0c-bd5c-8c1f7f1e2a22",
    "ticket_type_id": "9e3b5c7d-1a2b-4c3d-8e9f-0a1b2c3d4e33",
}
PAYLOADS = [
    issue_token(PRIVATE, **IDS),
    issue_token(PRIVATE, **IDS, version=1),
    "FW26-000123",
    "Zoë Ñandú — 票",
]


def _read(svg: bytes) -> list[str]:
    return [d.text for d in build_chain("auto").decode(rasterize_svg(svg))]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_ticket_qr_svg_round_trips(payload):
    svg = render_qr_svg(payload)
    assert b"<path" in svg and b'fill="white"' in svg  # one path, on its own white ground
    assert _read(svg) == [payload]


@pytest.mark.parametrize(
    "factory",
    [
        qrcode.image.svg.SvgImage,  # one <rect> per module, lengths in mm, no viewBox
        qrcode.image.svg.SvgFragmentImage,
        qrcode.image.svg.SvgFillImage,
        qrcode.image.svg.SvgPathImage,  # transparent ground
    ],
)
def test_qrcode_svg_flavours_are_read(factory):
    image = qrcode.make("SD2.HELLO-SVG", image_factory=factory, box_size=10)
    out = io.BytesIO()
    image.save(out)
    assert _read(out.getvalue()) == ["SD2.HELLO-SVG"]


def test_zxing_cpp_svg_is_read():
    code = zxingcpp.create_barcode("ZXING-SVG-1", zxingcpp.BarcodeFormat.QRCode)
    assert _read(code.to_svg().encode()) == ["ZXING-SVG-1"]


def _handmade_svg(text: str) -> bytes:
    """Relative path commands, a transform on a group, a style fill and a dark-blue ink."""
    modules = code_matrix(text, border=0)
    parts = []
    for y, row in enumerate(modules):
        for x, dark in enumerate(row):
            if dark:
                parts.append(f"M{x} {y}h1v1h-1z")
    side = modules.shape[0]
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="60mm" height="60mm" '
        f'viewBox="0 0 {side + 8} {side + 8}"><title>ticket</title>'
        f'<rect width="100%" height="100%" style="fill:#fff"/>'
        f'<g transform="translate(4,4) scale(1)" fill="#102060">'
        f'<path d="{" ".join(parts)}"/></g></svg>'
    ).encode()


def test_relative_paths_groups_transforms_and_colours():
    assert _read(_handmade_svg("HANDMADE-42")) == ["HANDMADE-42"]


@pytest.mark.parametrize(
    ("svg", "what"),
    [
        (
            b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><circle r="3"/></svg>',
            "circle",
        ),
        (
            b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 9 9"><path d="M0 0C1 1 2 2 3 3z"/></svg>',
            "curved",
        ),
        (
            b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 9 9"><text>hi</text></svg>',
            "text",
        ),
        (
            b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 9 9"><g transform="rotate(9)"><rect width="1" height="1"/></g></svg>',
            "rotate",
        ),
        (b"<svg xmlns='http://www.w3.org/2000/svg'><rect width='1' height='1'/></svg>", "size"),
        (b"not xml at all", "XML"),
        (b"<html><body/></html>", "not SVG"),
    ],
)
def test_svgs_it_cannot_draw_are_refused_by_name(svg, what):
    with pytest.raises(SvgUnsupported, match=what):
        rasterize_svg(svg)


def test_decode_command_reads_an_svg_and_explains_one_it_cannot(tmp_path, capsys):
    good, bad = tmp_path / "ticket.svg", tmp_path / "fancy.svg"
    good.write_bytes(render_qr_svg(PAYLOADS[0]))
    bad.write_bytes(
        b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 9 9"><circle r="3"/></svg>'
    )
    assert main(["decode", "--json", str(good), str(bad)]) == 1
    files = json.loads(capsys.readouterr().out)["files"]
    assert files[0]["kind"] == "svg" and [c["text"] for c in files[0]["codes"]] == [PAYLOADS[0]]
    assert "circle" in files[1]["error"] and "PNG" in files[1]["error"]
    assert main(["decode", str(good)]) == 0
    assert PAYLOADS[0] in capsys.readouterr().out


def test_image_readers_take_svg_too(tmp_path):
    path = tmp_path / "code.svg"
    path.write_bytes(render_qr_svg("FW26-000777"))
    image = read_image(path)
    assert isinstance(image, np.ndarray) and image.ndim == 3
    assert decode_image_file(path) == "FW26-000777"
    broken = tmp_path / "broken.svg"
    broken.write_bytes(b"<svg")
    assert read_image(broken) is None

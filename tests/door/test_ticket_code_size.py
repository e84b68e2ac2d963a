"""Smaller ticket codes: version-2 tokens go in one QR alphanumeric segment and need a smaller
QR version than version-1 ones, at the same error correction (M) and signature."""

from __future__ import annotations

from datetime import UTC, datetime

import qrcode
from qrcode.util import MODE_8BIT_BYTE, MODE_ALPHA_NUM

from app.domain.tokens import generate_keypair, issue_token
from app.scan.decoders import build_chain
from app.scan.synth import render_code
from app.store.ticket_qr import _qr, qr_version

PRIVATE, _ = generate_keypair()
IDS = {
    "ticket_id": "6f1c1c51-2f0b-4d0e-9a55-0d7a3b1f3c11",
    "event_id": "0b7f6a2e-8a51-4e0c-bd5c-8c1f7f1e2a22",
    "ticket_type_id": "9e3b5c7d-1a2b-4c3d-8e9f-0a1b2c3d4e33",
}
START = datetime(2026, 11, 21, 18, 0, tzinfo=UTC)


def test_tokens_are_one_alphanumeric_segment():
    for version in (1, 2):
        code = _qr(issue_token(PRIVATE, **IDS, version=version), 1, 0)
        assert [d.mode for d in code.data_list] == [MODE_ALPHA_NUM]
    assert [d.mode for d in _qr("Zoë's ticket", 1, 0).data_list] == [MODE_8BIT_BYTE]


def test_version_2_tokens_need_a_smaller_qr_version():
    cases = [{}, {"valid_until": START}, {"valid_from": START}, {"serial": 2**32 - 1}]
    for times in cases:
        new = issue_token(PRIVATE, **IDS, **times)
        old = issue_token(PRIVATE, **IDS, **times, version=1)
        assert (qr_version(new), qr_version(old)) == (7, 8), times
    both = {"valid_from": START, "valid_until": START}
    assert qr_version(issue_token(PRIVATE, **IDS, **both)) == 8  # a full window: 8 either way
    # Today's (version-1) text in byte mode, as the issue feared, would need version 10.
    byte_mode = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M)
    old = issue_token(PRIVATE, **IDS, version=1)
    byte_mode.add_data(qrcode.util.QRData(old, mode=MODE_8BIT_BYTE))
    byte_mode.make(fit=True)
    assert byte_mode.version == 10


def test_both_formats_read_back_from_a_rendered_code():
    for version in (1, 2):
        token = issue_token(PRIVATE, **IDS, version=version)
        assert [d.text for d in build_chain("auto").decode(render_code(token, 240))] == [token]

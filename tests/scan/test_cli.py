import json
from pathlib import Path

import cv2
import pytest

from app.cli import main
from app.scan.synth import render_code, write_video


@pytest.fixture
def files(tmp_path: Path, steady_frame_of) -> dict[str, Path]:
    out = {
        "ticket": tmp_path / "ticket.jpg",
        "blank": tmp_path / "blank.png",
        "binary": tmp_path / "binary.png",
        "broken": tmp_path / "broken.png",
        "video": tmp_path / "door.avi",
        "text": tmp_path / "notes.txt",
    }
    cv2.imwrite(str(out["ticket"]), steady_frame_of("FW26-000123", 1))
    cv2.imwrite(str(out["blank"]), steady_frame_of(None, 2))
    cv2.imwrite(str(out["binary"]), render_code(b"\xff\x00\x1b[2Jhi\x80", 300))
    out["broken"].write_bytes(b"not a png at all")
    out["text"].write_text("hello")
    frames = [steady_frame_of(None, 3)] * 2 + [steady_frame_of("VIDEO-CODE", 4)] * 3
    write_video(frames, out["video"], fps=30)
    return out


def test_decode_json_reports_every_file_and_fails_only_for_unreadable(files, capsys):
    args = ["decode", "--json"] + [
        str(files[k]) for k in ("ticket", "broken", "blank", "video", "binary", "text")
    ]
    assert main(args) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] is False
    by_name = {Path(f["file"]).name: f for f in out["files"]}
    ticket = by_name["ticket.jpg"]
    assert [c["text"] for c in ticket["codes"]] == ["FW26-000123"]
    assert ticket["codes"][0]["frame"] == 0 and ticket["codes"][0]["decoder"].startswith(
        "auto:zxing"
    )
    assert ticket["ms_mean"] > 0 and ticket["error"] is None
    assert "not an image" in by_name["broken.png"]["error"]
    assert "not an image or video" in by_name["notes.txt"]["error"]
    assert by_name["blank.png"]["codes"] == [] and by_name["blank.png"]["error"] is None
    video = by_name["door.avi"]
    assert video["kind"] == "video" and video["frames"] == 5
    assert [(c["text"], c["frame"], c["frames_seen"]) for c in video["codes"]] == [
        ("VIDEO-CODE", 2, 3)
    ]
    binary = by_name["binary.png"]["codes"][0]
    assert binary["exact_text"] is False and binary["raw_hex"] == "ff001b5b324a686980"


def test_decode_table_is_readable_and_escapes_control_chars(files, capsys):
    assert (
        main(["decode", str(files["ticket"]), str(files["binary"]), "--decoders", "zbar,zxing"])
        == 0
    )
    text = capsys.readouterr().out
    assert "FW26-000123" in text and "frame 0, zbar+zxing:zbar" in text
    assert "\x1b" not in text and "\\x1b[2Jhi" in text and "not UTF-8" in text


def test_decode_missing_file_and_bad_decoder(tmp_path, capsys):
    assert main(["decode", str(tmp_path / "nope.png")]) == 1
    assert "File not found" in capsys.readouterr().out
    assert main(["decode", str(tmp_path / "nope.png"), "--decoders", "magic", "--json"]) == 1
    assert "Unknown decoder 'magic'" in json.loads(capsys.readouterr().out)["error"]


def test_bench_scan_json_small_run(capsys):
    args = ["bench", "scan", "--frames", "5", "--seed", "5", "--loop-scenes", "3"]
    assert main([*args, "--extra-frames", "4", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    labels = [r["label"] for r in out["real_world"]]
    assert labels == ["inverted (light on dark)", "mirrored"]
    assert all(r["wrong"] == 0 and r["false_positives"] == 0 for r in out["real_world"])
    assert {c["payload"] for c in out["charsets"]} >= {"Shift_JIS", "GB2312, ECI 29"}
    tickets = out["ticket_codes"]
    assert tickets["sizes"]["1"]["qr_version"] == 8 and tickets["sizes"]["2"]["qr_version"] == 7
    assert tickets["sizes"]["2"]["module_mm"] > tickets["sizes"]["1"]["module_mm"]
    assert [r["codes"] for r in tickets["results"]] == [4, 4]
    assert out["frames"] == 5 and out["code_frames"] + out["empty_frames"] == 5
    labels = [r["label"] for r in out["results"]]
    assert labels[0] == "zbar (baseline)" and "auto" in labels
    for r in out["results"]:
        assert r["wrong"] == 0 and r["false_positives"] == 0
        assert r["p95_ms"] >= r["p50_ms"] > 0
    loop = out["loop"]
    assert loop["wrong"] == 0 and 1 <= loop["read"] <= loop["guests"] <= 3
    assert loop["latency_p95_ms"] > 0


def test_bench_scan_table(capsys):
    assert main(["bench", "scan", "--frames", "3", "--seed", "2", "--loop-scenes", "0"]) == 0
    text = capsys.readouterr().out
    assert "zbar (baseline)" in text and "auto" in text and "p95" in text
    assert "inverted (light on dark)" in text and "QR version 7" in text
    assert (
        main(["bench", "scan", "--frames", "3", "--loop-scenes", "0", "--extra-frames", "0"]) == 0
    )
    assert "inverted" not in capsys.readouterr().out

from pathlib import Path

import cv2
import numpy as np
import pytest

from app.scan.decoders import build_chain
from app.scan.sources import (
    CAMERA_LOST,
    NO_CAMERA,
    CameraSource,
    CameraUnavailable,
    ImageFolderSource,
    SourceUnavailable,
    SyntheticSource,
    VideoFileSource,
)
from app.scan.synth import write_video


@pytest.fixture(scope="module")
def clip(steady_frame_of) -> list[np.ndarray]:
    """Nothing in view, then a phone with code A, then code B."""
    return (
        [steady_frame_of(None, 1)] * 3
        + [steady_frame_of("CLIP-A", 2)] * 4
        + [steady_frame_of("CLIP-B", 3)] * 4
    )


def _read_all(source) -> list[np.ndarray]:
    frames = []
    while (frame := source.read()) is not None:
        frames.append(frame)
    source.close()
    return frames


@pytest.mark.parametrize("suffix", [".avi", ".mp4"])
def test_video_file_round_trip(tmp_path: Path, clip, suffix):
    path = write_video(clip, tmp_path / f"clip{suffix}", fps=30)
    source = VideoFileSource(path, realtime=False)
    assert source.fps == pytest.approx(30, abs=1)
    frames = _read_all(source)
    assert len(frames) == len(clip)
    assert frames[0].shape == clip[0].shape
    decoder = build_chain("auto")
    texts = [[d.text for d in decoder.decode(f)] for f in frames]
    assert texts[:3] == [[], [], []]
    assert texts[3:7] == [["CLIP-A"]] * 4
    assert texts[7:] == [["CLIP-B"]] * 4


def test_missing_or_broken_video_is_a_sentence(tmp_path: Path):
    with pytest.raises(SourceUnavailable, match="Video file not found"):
        VideoFileSource(tmp_path / "nope.mp4")
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"\x00" * 100)
    with pytest.raises(SourceUnavailable, match="Cannot play junk.mp4"):
        VideoFileSource(junk)


def test_image_folder_in_name_order_skipping_broken_files(tmp_path: Path, clip):
    cv2.imwrite(str(tmp_path / "b.png"), clip[4])
    cv2.imwrite(str(tmp_path / "a.jpg"), clip[0])
    cv2.imwrite(str(tmp_path / "c.png"), clip[8])
    (tmp_path / "broken.png").write_bytes(b"not a png")
    (tmp_path / "notes.txt").write_text("ignored")
    source = ImageFolderSource(tmp_path, fps=0)
    frames = _read_all(source)
    assert len(frames) == 3
    assert [p.name for p in source.skipped] == ["broken.png"]
    decoder = build_chain("auto")
    assert [[d.text for d in decoder.decode(f)] for f in frames] == [[], ["CLIP-A"], ["CLIP-B"]]


def test_image_folder_repeat_and_errors(tmp_path: Path, clip):
    with pytest.raises(SourceUnavailable, match="Folder not found"):
        ImageFolderSource(tmp_path / "nope")
    with pytest.raises(SourceUnavailable, match="No images in"):
        ImageFolderSource(tmp_path)
    cv2.imwrite(str(tmp_path / "one.png"), clip[0])
    source = ImageFolderSource(tmp_path, fps=0, repeat=True)
    assert all(source.read() is not None for _ in range(5))
    source.close()
    assert source.read() is None


def test_synthetic_source_hands_out_frames_then_ends(clip):
    source = SyntheticSource(clip, fps=0)
    assert not source.live
    assert len(_read_all(source)) == len(clip)
    assert source.read() is None


def test_missing_camera_is_a_sentence_for_door_staff():
    with pytest.raises(CameraUnavailable) as info:
        CameraSource(97)
    assert str(info.value) == NO_CAMERA
    assert "Plug in a camera" in str(info.value) and "name search" in str(info.value)


def test_camera_stream_that_stops_is_reported_lost(tmp_path: Path, clip):
    """A stream source (here a short video played as if it were a camera) that stops
    sending pictures is what an unplugged camera looks like to OpenCV."""
    path = write_video(clip[:3], tmp_path / "stream.avi", fps=30)
    camera = CameraSource(str(path))
    assert camera.live and camera.name.endswith("stream.avi")
    got = 0
    with pytest.raises(CameraUnavailable) as info:
        for _ in range(200):
            got += camera.read() is not None
    assert str(info.value) == CAMERA_LOST
    assert got == 2  # open() checks the first picture
    camera.reopen()  # plugged back in
    assert camera.read() is not None
    camera.close()

"""Where frames come from: a camera, a video file, a folder of images, or frames in memory.

Every source has ``read() -> frame | None``, ``close()``, ``name`` and ``live``. For a live
source (a camera) ``None`` means "no picture this instant"; for the others it means the end.
A camera that is missing or goes away raises `CameraUnavailable`, whose text is a sentence
door staff can act on.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".pgm", ".ppm", ".svg"}
VIDEO_SUFFIXES = {".mp4", ".avi", ".mov", ".mkv", ".m4v", ".webm", ".mpg", ".mpeg", ".wmv"}

NO_CAMERA = "No camera found. Plug in a camera, or use the USB scanner or name search."
CAMERA_LOST = (
    "The camera stopped working (unplugged?). Plug it back in — scanning resumes by itself. "
    "Meanwhile use the USB scanner or name search."
)


class SourceUnavailable(Exception):
    """A frame source cannot be opened or read; ``str()`` says so in plain words."""


class CameraUnavailable(SourceUnavailable):
    """No camera, or the camera went away. ``str()`` is a sentence for door staff."""


class FrameSource(Protocol):
    name: str
    live: bool

    def read(self) -> np.ndarray | None: ...

    def close(self) -> None: ...


@contextlib.contextmanager
def _quiet_opencv() -> Iterator[None]:
    """OpenCV prints backend warnings on stderr when a device is missing; we say it ourselves."""
    logging = getattr(getattr(cv2, "utils", None), "logging", None)
    if logging is None:
        yield
        return
    previous = logging.getLogLevel()
    logging.setLogLevel(logging.LOG_LEVEL_SILENT)
    try:
        yield
    finally:
        logging.setLogLevel(previous)


class _Pacer:
    """Hands frames out no faster than ``fps`` (like a camera would); fps <= 0 = no pacing."""

    def __init__(self, fps: float) -> None:
        self.period = 1.0 / fps if fps and fps > 0 else 0.0
        self._next = 0.0

    def wait(self) -> None:
        if not self.period:
            return
        now = time.monotonic()
        if self._next > now:
            time.sleep(self._next - now)
            now = self._next
        self._next = max(now, self._next) + self.period


class CameraSource:
    """A webcam by index (or a stream URL such as ``rtsp://…``), through OpenCV.
    Raises `CameraUnavailable` when there is none or when it stops sending pictures."""

    live = True
    FAILED_READS_BEFORE_LOST = 30  # about one second of a 30 fps camera sending nothing

    def __init__(self, index: int | str = 0, width: int = 1280, height: int = 720) -> None:
        self.index = index
        self.width, self.height = width, height
        self.name = f"camera {index}" if isinstance(index, int) else str(index)
        self._cap: cv2.VideoCapture | None = None
        self._failed = 0
        self.open()

    def open(self) -> None:
        self.close()
        with _quiet_opencv():
            cap = cv2.VideoCapture(self.index)
            ok = cap.isOpened()
            if ok:
                cap.set(cv2.CAP_PROP_FRAME_WIDTH, self.width)
                cap.set(cv2.CAP_PROP_FRAME_HEIGHT, self.height)
                cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # we want the newest picture, not a queue
                ok, _ = cap.read()
        if not ok:
            cap.release()
            raise CameraUnavailable(NO_CAMERA)
        self._cap = cap
        self._failed = 0

    reopen = open

    def read(self) -> np.ndarray | None:
        if self._cap is None:
            raise CameraUnavailable(CAMERA_LOST)
        with _quiet_opencv():
            ok, frame = self._cap.read()
        if ok and frame is not None:
            self._failed = 0
            return frame
        self._failed += 1
        if self._failed >= self.FAILED_READS_BEFORE_LOST or not self._cap.isOpened():
            self.close()
            raise CameraUnavailable(CAMERA_LOST)
        time.sleep(0.01)
        return None

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None


class VideoFileSource:
    """Frames of a video file; ``realtime`` paces them at the file's own frame rate."""

    live = False

    def __init__(self, path: str | Path, realtime: bool = True) -> None:
        self.path = Path(path)
        self.name = self.path.name
        if not self.path.is_file():
            raise SourceUnavailable(f"Video file not found: {self.path}")
        with _quiet_opencv():
            self._cap = cv2.VideoCapture(str(self.path))
        if not self._cap.isOpened():
            self._cap.release()
            raise SourceUnavailable(
                f"Cannot play {self.path.name}: not a video this computer can read."
            )
        fps = self._cap.get(cv2.CAP_PROP_FPS) or 30.0
        self.fps = fps if 0 < fps < 1000 else 30.0
        self._pacer = _Pacer(self.fps if realtime else 0)
        self.index = -1  # index of the last frame read

    def read(self) -> np.ndarray | None:
        if self._cap is None:
            return None
        ok, frame = self._cap.read()
        if not ok or frame is None:
            return None
        self._pacer.wait()
        self.index += 1
        return frame

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None


def read_image(path: str | Path) -> np.ndarray | None:
    """A BGR image from a file (any path, unicode included), or None if it is not an image.
    An SVG is drawn (see `app.scan.svg`: the QR code SVGs Showdesk and most generators write)."""
    if Path(path).suffix.lower() == ".svg":
        from app.scan.svg import SvgUnsupported, read_svg

        try:
            return read_svg(path)
        except (OSError, SvgUnsupported):
            return None
    try:
        data = np.fromfile(str(path), dtype=np.uint8)
    except OSError:
        return None
    if data.size == 0:
        return None
    return cv2.imdecode(data, cv2.IMREAD_COLOR)


class ImageFolderSource:
    """Image files of a folder in name order, as if a camera showed them at ``fps``.
    Files that are not images are skipped (their names are kept in ``skipped``)."""

    live = False

    def __init__(self, path: str | Path, fps: float = 30, repeat: bool = False) -> None:
        self.path = Path(path)
        self.name = self.path.name
        if not self.path.is_dir():
            raise SourceUnavailable(f"Folder not found: {self.path}")
        self.files = sorted(p for p in self.path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not self.files:
            raise SourceUnavailable(f"No images in {self.path}.")
        self.repeat = repeat
        self.skipped: list[Path] = []
        self._pos = 0
        self._pacer = _Pacer(fps)
        self.index = -1

    def read(self) -> np.ndarray | None:
        while self.files:
            if self._pos >= len(self.files):
                if not self.repeat:
                    return None
                self._pos = 0
            path = self.files[self._pos]
            self._pos += 1
            frame = read_image(path)
            if frame is None:
                self.skipped.append(path)
                self.files.remove(path)
                self._pos -= 1
                continue
            self._pacer.wait()
            self.index += 1
            return frame
        return None

    def close(self) -> None:
        self._pos = len(self.files)
        self.repeat = False


class SyntheticSource:
    """Frames held in memory (e.g. from `app.scan.synth.frame_set`), shown at ``fps``."""

    live = False

    def __init__(
        self,
        frames: Sequence[np.ndarray],
        fps: float = 30,
        repeat: bool = False,
        name: str = "synthetic",
    ) -> None:
        self.frames = list(frames)
        self.name = name
        self.repeat = repeat
        self._pos = 0
        self._pacer = _Pacer(fps)
        self._closed = False
        self.index = -1

    def read(self) -> np.ndarray | None:
        if self._closed or not self.frames:
            return None
        if self._pos >= len(self.frames):
            if not self.repeat:
                return None
            self._pos = 0
        frame = self.frames[self._pos]
        self._pos += 1
        self._pacer.wait()
        self.index += 1
        return frame

    def close(self) -> None:
        self._closed = True

"""The camera side of the door: preview widget and the bridge from app.scan's ScanLoop.

The ScanLoop runs on its own thread; its callbacks only emit Qt signals (queued to the UI
thread), and frames are shrunk and converted to QImage on the loop thread, one at a time:
a new frame is dropped while the previous one has not been painted yet.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from app.ui.qt import (
    QColor,
    QFont,
    QImage,
    QObject,
    QPainter,
    QPen,
    QRectF,
    QSizePolicy,
    Qt,
    QTimer,
    QWidget,
    Signal,
)
from app.ui.tasks import run_task

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)

PREVIEW_WIDTH = 640
NO_CAMERA = "No camera found — use the USB scanner or search by name"
NO_DECODER = "QR decoding is not available on this kiosk — use the USB scanner or search by name"
CAMERA_LOST = (
    "The camera stopped sending pictures — check its cable; the USB scanner and search still work"
)
CAMERA_OFF = "Camera turned off in settings — use the USB scanner or search by name"


def frame_to_qimage(frame_bgr: np.ndarray, width: int = PREVIEW_WIDTH) -> QImage:
    """A shrunken RGB copy of a BGR frame, safe to hand to another thread."""
    import cv2
    import numpy as np

    h, w = frame_bgr.shape[:2]
    if w > width:
        frame_bgr = cv2.resize(
            frame_bgr, (width, max(1, int(h * width / w))), interpolation=cv2.INTER_AREA
        )
    if frame_bgr.ndim == 2:
        frame_bgr = cv2.cvtColor(frame_bgr, cv2.COLOR_GRAY2BGR)
    rgb = np.ascontiguousarray(cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2RGB))
    h, w = rgb.shape[:2]
    return QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


class CameraPreview(QWidget):
    """The live picture with a framing guide; a banner explains when there is no picture."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("cameraPreview")
        self.image: QImage | None = None
        self.banner = ""
        self.setMinimumSize(320, 200)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAccessibleName("camera preview")

    def set_image(self, image: QImage) -> None:
        self.image = image
        self.update()

    def set_banner(self, text: str) -> None:
        self.banner = text
        self.setAccessibleDescription(text)
        self.update()

    def paintEvent(self, _event) -> None:  # noqa: N802
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.fillRect(self.rect(), QColor("#0d1014"))
        area = QRectF(self.rect())
        if self.image is not None and not self.image.isNull():
            scale = min(area.width() / self.image.width(), area.height() / self.image.height())
            w, h = self.image.width() * scale, self.image.height() * scale
            target = QRectF(
                area.x() + (area.width() - w) / 2, area.y() + (area.height() - h) / 2, w, h
            )
            p.drawImage(target, self.image)
        self._draw_guide(p, area)
        if self.banner:
            self._draw_banner(p, area)
        p.end()

    def _draw_guide(self, p: QPainter, area: QRectF) -> None:
        side = min(area.width(), area.height()) * 0.62
        box = QRectF(area.center().x() - side / 2, area.center().y() - side / 2, side, side)
        arm = side * 0.18
        p.setPen(
            QPen(
                QColor(255, 255, 255, 220),
                max(4.0, side * 0.025),
                Qt.PenStyle.SolidLine,
                Qt.PenCapStyle.RoundCap,
            )
        )
        for cx, cy, dx, dy in (
            (box.left(), box.top(), 1, 1),
            (box.right(), box.top(), -1, 1),
            (box.left(), box.bottom(), 1, -1),
            (box.right(), box.bottom(), -1, -1),
        ):
            p.drawLine(int(cx), int(cy), int(cx + dx * arm), int(cy))
            p.drawLine(int(cx), int(cy), int(cx), int(cy + dy * arm))

    def _draw_banner(self, p: QPainter, area: QRectF) -> None:
        font = QFont(self.font())
        font.setBold(True)
        font.setPixelSize(max(16, int(area.height() * 0.055)))
        p.setFont(font)
        band = QRectF(
            area.x() + 12,
            area.bottom() - area.height() * 0.34,
            area.width() - 24,
            area.height() * 0.3,
        )
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor("#f2b100"))
        p.drawRoundedRect(band, 10, 10)
        p.setPen(QColor("#111111"))
        p.drawText(
            band.adjusted(14, 6, -14, -6),
            int(Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap),
            self.banner,
        )


class CameraFeed(QObject):
    """Starts app.scan's ScanLoop off the UI thread and turns its callbacks into signals.

    ``source_factory()`` returns a FrameSource (may raise CameraUnavailable);
    ``decoder_factory()`` returns a Decoder (may raise DecoderUnavailable).
    """

    frame_ready = Signal(object)  # QImage
    code_read = Signal(str, float)  # text, perf_counter() when the loop handed it over
    problem = Signal(str)  # a banner sentence
    running = Signal(str)  # source name
    recovered = Signal()  # the camera came back after being lost
    code_gone = Signal()  # the code that was in view has left it (the guest moved on)

    STALL_SECONDS = 3.0

    def __init__(
        self,
        source_factory: Callable[[], Any],
        decoder_factory: Callable[[], Any],
        debounce_seconds: float,
    ) -> None:
        super().__init__()
        self.source_factory = source_factory
        self.decoder_factory = decoder_factory
        self.debounce_seconds = debounce_seconds
        self.loop: Any = None
        self.source: Any = None
        self.frames_seen = 0
        self._frame_pending = threading.Event()
        self._last_frame_at = 0.0
        self._stopped = False
        self._watchdog = QTimer(self)
        self._watchdog.setInterval(1000)
        self._watchdog.timeout.connect(self._check_stall)
        self.frame_ready.connect(self._frame_painted)

    def start(self) -> None:
        self._stopped = False
        run_task(self._build, self._start_loop, self._build_failed)

    def _build(self) -> tuple[Any, Any]:
        from app.scan.decoders import build_chain  # noqa: F401  (fail early if app.scan's decoders are broken)

        decoder = self.decoder_factory()
        source = self.source_factory()
        return source, decoder

    def _build_failed(self, exc: BaseException) -> None:
        name = type(exc).__name__
        log.info("camera not started: %s: %s", name, exc)
        if name == "DecoderUnavailable":
            self.problem.emit(f"{NO_DECODER} ({exc})")
        elif name == "CameraUnavailable":
            self.problem.emit(NO_CAMERA)
        else:
            self.problem.emit(f"{NO_CAMERA} ({exc})")

    def _start_loop(self, parts: tuple[Any, Any]) -> None:
        from app.scan.loop import ScanLoop

        source, decoder = parts
        if self._stopped:
            source.close()
            return
        self.source = source
        self.loop = ScanLoop(
            source,
            decoder,
            on_code=self._on_code,
            on_frame=self._on_frame,
            on_error=self._on_error,
            debounce_seconds=self.debounce_seconds,
            on_recovered=self.recovered.emit,
            on_view_empty=self.code_gone.emit,
        )
        self._last_frame_at = time.monotonic()
        self.loop.start()
        self._watchdog.start()
        self.running.emit(getattr(source, "name", "camera"))

    # --- called on the ScanLoop's thread: only signals from here ---------------------------
    def _on_code(self, text: str) -> None:
        self.code_read.emit(text, time.perf_counter())

    def _on_frame(self, frame: np.ndarray) -> None:
        self._last_frame_at = time.monotonic()
        self.frames_seen += 1
        if self._frame_pending.is_set():
            return  # the UI has not painted the last one yet: drop this frame
        self._frame_pending.set()
        self.frame_ready.emit(frame_to_qimage(frame))

    def _on_error(self, message: str) -> None:
        self.problem.emit(message or CAMERA_LOST)

    # --- UI thread ------------------------------------------------------------------------
    def _frame_painted(self, _image: QImage) -> None:
        self._frame_pending.clear()

    def _check_stall(self) -> None:
        if self.loop is not None and time.monotonic() - self._last_frame_at > self.STALL_SECONDS:
            self.problem.emit(CAMERA_LOST)

    def stop(self) -> None:
        self._stopped = True
        self._watchdog.stop()
        loop, self.loop = self.loop, None
        if loop is not None:
            loop.stop()

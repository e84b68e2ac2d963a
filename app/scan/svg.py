"""Drawing a QR code's SVG into pixels, so `showdesk decode` reads the SVGs Showdesk writes.

A QR code's SVG is filled rectangles and straight-edged paths: what ``qrcode`` writes (the
``ticket-qr`` command, rects or one path of squares), what zxing-cpp/zint write, and what most
generators write. That subset is drawn here with OpenCV's polygon fill, no SVG library: rects,
polygons, and paths of M/L/H/V/Z commands (absolute or relative), filled in document order
with their ``fill`` (inherited from groups; light colours paint background, any other colour
paints a module), under ``translate``/``scale``/``matrix`` transforms. An SVG using anything
else that draws (curves, circles, text, embedded images, ``use``) raises `SvgUnsupported`
naming it, and the caller asks for a PNG instead.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import cv2
import numpy as np

MAX_BYTES = 20 * 1024 * 1024  # a QR code's SVG is kilobytes; refuse to parse a huge file
MAX_SHAPES = 200_000
TARGET_PX = 1000  # the longer side of the drawing; a version-40 module is still ~5 px
MARGIN = 0.08  # white added around the drawing, in case the SVG has no quiet zone

_UNITS = {"": 1.0, "px": 1.0, "mm": 96 / 25.4, "cm": 96 / 2.54, "in": 96.0, "pt": 4 / 3, "pc": 16.0}
_LENGTH = re.compile(
    r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(px|mm|cm|in|pt|pc|%)?\s*$"
)
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_PATH_TOKEN = re.compile(r"[MmLlHhVvZzCcSsQqTtAa]|[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_TRANSFORM = re.compile(r"(matrix|translate|scale)\s*\(([^)]*)\)")
_DRAWING = {"circle", "ellipse", "line", "polyline", "text", "image", "use", "foreignObject"}


class SvgUnsupported(ValueError):
    """The SVG draws with something this module does not draw; ``str()`` says what."""


def _tag(element: ET.Element) -> str:
    return element.tag.rsplit("}", 1)[-1]


def _length(value: str | None, relative_to: float = 0.0, default: float = 0.0) -> float:
    if value is None:
        return default
    m = _LENGTH.match(value)
    if not m:
        raise SvgUnsupported(f"a length of {value!r}")
    number, unit = float(m.group(1)), m.group(2) or ""
    if unit == "%":
        return number / 100.0 * relative_to
    return number * _UNITS[unit]


def _fill(element: ET.Element, inherited: str) -> str:
    style = element.get("style") or ""
    for part in style.split(";"):
        key, _, value = part.partition(":")
        if key.strip() == "fill" and value.strip():
            return value.strip().lower()
    return (element.get("fill") or inherited).strip().lower()


def _is_light(colour: str) -> bool | None:
    """True for a light fill (paints background), False for a dark one, None for no fill."""
    if colour in ("none", "transparent"):
        return None
    named = {"white": 255, "black": 0}
    if colour in named:
        return named[colour] > 127
    if colour.startswith("#"):
        hexa = colour[1:]
        if len(hexa) in (3, 4):
            hexa = "".join(c * 2 for c in hexa[:3])
        try:
            r, g, b = (int(hexa[i : i + 2], 16) for i in (0, 2, 4))
        except ValueError:
            return False
        return 0.299 * r + 0.587 * g + 0.114 * b > 127
    if colour.startswith("rgb("):
        parts = _NUMBER.findall(colour)
        if len(parts) >= 3:
            r, g, b = (float(p) * (2.55 if "%" in colour else 1.0) for p in parts[:3])
            return 0.299 * r + 0.587 * g + 0.114 * b > 127
    return False  # any other colour: a module


def _transform(element: ET.Element, parent: np.ndarray) -> np.ndarray:
    text = element.get("transform")
    if not text:
        return parent
    out = parent
    for name, args in _TRANSFORM.findall(text):
        v = [float(x) for x in _NUMBER.findall(args)]
        if name == "matrix" and len(v) == 6:
            m = np.array([[v[0], v[2], v[4]], [v[1], v[3], v[5]], [0, 0, 1]])
        elif name == "translate" and v:
            m = np.array([[1, 0, v[0]], [0, 1, v[1] if len(v) > 1 else 0.0], [0, 0, 1]])
        elif name == "scale" and v:
            m = np.diag([v[0], v[1] if len(v) > 1 else v[0], 1.0])
        else:
            raise SvgUnsupported(f"the transform {name}({args})")
        out = out @ m
    leftover = _TRANSFORM.sub("", text).strip(" ,")
    if leftover:
        raise SvgUnsupported(f"the transform {leftover!r}")
    return out


def _path_polygons(d: str) -> list[np.ndarray]:
    tokens = _PATH_TOKEN.findall(d)
    polygons: list[list[tuple[float, float]]] = []
    current: list[tuple[float, float]] = []
    x = y = start_x = start_y = 0.0
    command = ""
    i = 0

    def number() -> float:
        nonlocal i
        if i >= len(tokens) or tokens[i].isalpha():
            raise SvgUnsupported("a path with a missing coordinate")
        i += 1
        return float(tokens[i - 1])

    while i < len(tokens):
        if tokens[i].isalpha():
            command = tokens[i]
            i += 1
            if command in "Zz":
                if current:
                    polygons.append(current)
                current = []
                x, y = start_x, start_y
                continue
        elif not command or command in "Zz":
            raise SvgUnsupported("a path with a number out of place")
        if command in "CcSsQqTtAa":
            raise SvgUnsupported("curved paths")
        rel = command.islower()
        c = command.upper()
        if c == "M":
            if current:
                polygons.append(current)
            nx, ny = number(), number()
            x, y = (x + nx, y + ny) if rel else (nx, ny)
            start_x, start_y = x, y
            current = [(x, y)]
            command = "l" if rel else "L"  # further pairs are line-tos
        elif c == "L":
            nx, ny = number(), number()
            x, y = (x + nx, y + ny) if rel else (nx, ny)
            current.append((x, y))
        elif c == "H":
            n = number()
            x = x + n if rel else n
            current.append((x, y))
        elif c == "V":
            n = number()
            y = y + n if rel else n
            current.append((x, y))
    if current:
        polygons.append(current)
    return [np.array(p, np.float64) for p in polygons if len(p) >= 3]


def rasterize_svg(data: bytes, target_px: int = TARGET_PX) -> np.ndarray:
    """A BGR picture of the SVG ``data`` (white background). Raises SvgUnsupported."""
    if len(data) > MAX_BYTES:
        raise SvgUnsupported("a file this large")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise SvgUnsupported(f"XML it cannot parse ({exc})") from None
    if _tag(root) != "svg":
        raise SvgUnsupported("a file that is not SVG")
    view = [float(v) for v in _NUMBER.findall(root.get("viewBox") or "")]
    width = _length(root.get("width"), default=view[2] if len(view) == 4 else 0.0)
    height = _length(root.get("height"), default=view[3] if len(view) == 4 else 0.0)
    if len(view) != 4:
        view = [0.0, 0.0, width, height]
    vx, vy, vw, vh = view
    if not (vw > 0 and vh > 0 and math.isfinite(vw * vh)):
        raise SvgUnsupported("no usable size (width/height or viewBox)")
    scale = target_px / max(vw, vh)
    margin = int(round(MARGIN * target_px))
    w, h = int(math.ceil(vw * scale)) + 2 * margin, int(math.ceil(vh * scale)) + 2 * margin
    canvas = np.full((h, w), 255, np.uint8)
    to_pixels = np.array(
        [[scale, 0, margin - vx * scale], [0, scale, margin - vy * scale], [0, 0, 1]]
    )
    shapes = 0

    def paint(polygons: list[np.ndarray], matrix: np.ndarray, light: bool) -> None:
        pts = []
        for poly in polygons:
            xy = np.c_[poly, np.ones(len(poly))] @ matrix.T
            pts.append(np.round(xy[:, :2] * 16).astype(np.int32))  # 4 bits of sub-pixel
        if pts:
            cv2.fillPoly(canvas, pts, 255 if light else 0, lineType=cv2.LINE_8, shift=4)

    def walk(element: ET.Element, matrix: np.ndarray, fill: str) -> None:
        nonlocal shapes
        for child in element:
            tag = _tag(child)
            if tag in ("title", "desc", "metadata", "defs", "style"):
                continue
            if tag in _DRAWING:
                raise SvgUnsupported(f"<{tag}> elements")
            m = _transform(child, matrix)
            child_fill = _fill(child, fill)
            if tag in ("g", "svg"):
                walk(child, m, child_fill)
                continue
            shapes += 1
            if shapes > MAX_SHAPES:
                raise SvgUnsupported("more shapes than any QR code has")
            light = _is_light(child_fill)
            if tag == "rect":
                x = _length(child.get("x"), vw)
                y = _length(child.get("y"), vh)
                rw, rh = _length(child.get("width"), vw), _length(child.get("height"), vh)
                polygons = [np.array([[x, y], [x + rw, y], [x + rw, y + rh], [x, y + rh]])]
            elif tag == "path":
                polygons = _path_polygons(child.get("d") or "")
            elif tag == "polygon":
                v = [float(n) for n in _NUMBER.findall(child.get("points") or "")]
                polygons = [np.array(v[: len(v) // 2 * 2]).reshape(-1, 2)] if len(v) >= 6 else []
            else:
                continue  # an element that draws nothing (e.g. from another namespace)
            if light is not None:
                paint(polygons, m, light)

    walk(root, to_pixels, _fill(root, "black"))
    if shapes == 0:
        raise SvgUnsupported("nothing to draw")
    return cv2.cvtColor(canvas, cv2.COLOR_GRAY2BGR)


def read_svg(path: str | Path) -> np.ndarray:
    """The picture of the SVG file at ``path``. Raises OSError or SvgUnsupported."""
    with open(path, "rb") as f:
        data = f.read(MAX_BYTES + 1)
    return rasterize_svg(data)

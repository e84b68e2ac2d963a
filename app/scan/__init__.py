"""Camera scanning: frame sources, QR decoders, the scan loop, wedge scanners (no Qt here)."""

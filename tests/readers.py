"""What a phone's camera or a PDF reader gets from what we draw, read with wheels from the lock (no system
program): QR codes decoded from a picture (zxing-cpp), a PDF's text and pages as pictures (pypdfium2)."""

from pathlib import Path

import pypdfium2
import zxingcpp
from PIL import Image


def qr_codes(picture: Path | Image.Image) -> list[str]:
    """The text of every QR code in the picture (a screenshot, a rendered page), top to bottom."""
    image = Image.open(picture) if isinstance(picture, Path) else picture
    found = zxingcpp.read_barcodes(image.convert("L"), formats=zxingcpp.BarcodeFormat.QRCode)
    return [code.text for code in sorted(found, key=lambda code: code.position.top_left.y)]


def pdf_pages_text(data: bytes) -> list[str]:
    """Each page's text, as a reader would copy it."""
    document = pypdfium2.PdfDocument(data)
    try:
        return [page.get_textpage().get_text_range() for page in document]
    finally:
        document.close()


def pdf_pages_pictures(data: bytes, dpi: int = 150) -> list[Image.Image]:
    """Each page drawn as a picture, as a screen or a printer would show it."""
    document = pypdfium2.PdfDocument(data)
    try:
        return [page.render(scale=dpi / 72).to_pil() for page in document]
    finally:
        document.close()

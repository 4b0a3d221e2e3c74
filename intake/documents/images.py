"""Photo headers: format, pixel size, capture time and camera; the only importer of Pillow."""

from __future__ import annotations

import io
import warnings
from struct import error as struct_error

from PIL import ExifTags, Image, UnidentifiedImageError

from intake.core.errors import ExtractionError
from intake.documents import Document

_MAKE = 0x010F
_MODEL = 0x0110
_DATETIME_ORIGINAL = 0x9003
_OFFSET_TIME_ORIGINAL = 0x9011
_FORMATS = {"mpo": "jpeg"}  # phones write multi-picture JPEGs; they are JPEG files


def read_image(payload: bytes) -> Document:
    """Read an image's header only: pixels are never decoded, so a decompression bomb is inert."""
    try:
        with warnings.catch_warnings():
            # Pillow warns when the header announces a huge image because decoding it would
            # exhaust memory; we never decode, so the size itself is what we want to record.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(payload))
    except Image.DecompressionBombError as exc:
        raise ExtractionError(f"implausible image size: {exc}") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise ExtractionError(f"unreadable image: {exc}") from None
    with image:
        fmt = (image.format or "image").lower()
        meta: dict[str, object] = {
            "format": _FORMATS.get(fmt, fmt),
            "width": image.width,
            "height": image.height,
        }
        try:
            exif = _exif(image)
        except (OSError, ValueError, SyntaxError, struct_error, KeyError, IndexError):
            exif = None  # a damaged EXIF block is common and costs only the metadata
    if exif is not None:
        taken_at = _taken_at(exif)
        if taken_at:
            meta["taken_at"] = taken_at
        camera = _camera(exif)
        if camera:
            meta["camera"] = camera
    return Document(format=_FORMATS.get(fmt, fmt), meta=meta)


def _exif(image: Image.Image) -> Image.Exif | None:
    raw = image.info.get("exif")
    if isinstance(raw, bytes):
        exif = Image.Exif()
        exif.load(raw)
        return exif
    if image.format == "TIFF":
        # TIFF keeps EXIF in its own tags, read with the header; other formats' getexif()
        # may decode the whole image (PNG looks for eXIf after the pixels), so is not called.
        return image.getexif()
    return None


def _text(value: object) -> str:
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    return str(value).replace("\x00", "").strip() if value is not None else ""


def _taken_at(exif: Image.Exif) -> str:
    """DateTimeOriginal as ISO 8601 ("2024:05:01 10:20:30" -> "2024-05-01T10:20:30")."""
    sub = exif.get_ifd(ExifTags.IFD.Exif)
    raw = _text(sub.get(_DATETIME_ORIGINAL))
    if len(raw) < 19 or raw.startswith("0000"):
        return ""
    date, _, time = raw[:19].partition(" ")
    stamp = f"{date.replace(':', '-')}T{time}"
    offset = _text(sub.get(_OFFSET_TIME_ORIGINAL))
    if len(offset) == 6 and offset[0] in "+-":
        stamp += offset
    return stamp


def _camera(exif: Image.Exif) -> str:
    make, model = _text(exif.get(_MAKE)), _text(exif.get(_MODEL))
    if make and model.lower().startswith(make.lower()):
        return model  # "Canon" + "Canon EOS R5"
    return f"{make} {model}".strip()

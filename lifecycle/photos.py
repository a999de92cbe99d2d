"""Agents' photos for the public roster (代办员公示): what an upload must be, and storing or removing it.

An upload is judged by its bytes, never by its name or the browser's declared type: a text file
renamed .jpg is refused. Only JPEG and PNG are kept (what every browser and printer shows), within
a size and pixel limit, and decoded in full once so a truncated or hostile file is refused here
rather than shown broken on a printed notice.
"""

from __future__ import annotations

import hashlib
import io

from PIL import Image, UnidentifiedImageError
from sqlalchemy.orm import object_session

from models import Agent, AgentPhoto

# A portrait for a printed notice needs far less; the whole request is capped at 2 MB (config.py).
MAX_PHOTO_BYTES = 1024 * 1024
# A roster photo is a passport-style portrait; the cap keeps a small file that decodes to a huge
# bitmap (a "decompression bomb") from tying up a server.
MAX_PHOTO_PIXELS = 4000 * 4000

# The file signatures of the accepted types, and the Pillow format each must decode as.
_SIGNATURES = {
    b"\x89PNG\r\n\x1a\n": ("image/png", "PNG"),
    b"\xff\xd8\xff": ("image/jpeg", "JPEG"),
}

WRONG_TYPE = "照片只接受 JPEG 或 PNG 图片(按文件内容识别，仅修改扩展名无效)"
DAMAGED = "照片文件已损坏或不是有效的 JPEG/PNG 图片，请重新选择"


class PhotoError(ValueError):
    """The upload is not a photo the roster accepts; the message says why, in Chinese."""


def photo_type(data: bytes) -> str:
    """The content type of an acceptable photo, or PhotoError with the reason it is refused."""
    if not data:
        raise PhotoError("照片文件为空，请重新选择")
    if len(data) > MAX_PHOTO_BYTES:
        raise PhotoError(f"照片不能超过 {MAX_PHOTO_BYTES // (1024 * 1024)} MB(所选文件 {len(data) / 1048576:.1f} MB)")
    found = next((kind for signature, kind in _SIGNATURES.items() if data.startswith(signature)), None)
    if found is None:
        raise PhotoError(WRONG_TYPE)
    content_type, pillow_format = found
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format != pillow_format:
                raise PhotoError(WRONG_TYPE)
            width, height = image.size
            if width * height > MAX_PHOTO_PIXELS:
                raise PhotoError(f"照片尺寸过大({width}×{height} 像素)，请缩小到 {MAX_PHOTO_PIXELS} 像素以内")
            image.load()  # decode every byte: a truncated or corrupt file fails here
    except PhotoError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise PhotoError(DAMAGED) from exc
    return content_type


def set_photo(agent: Agent, data: bytes) -> AgentPhoto:
    """Give `agent` this photo (checked first), replacing any it had; the change is audited at flush."""
    content_type = photo_type(data)
    digest = hashlib.sha256(data).hexdigest()
    photo = agent.photo
    if photo is None:
        # Assigned from the agent's side: SQLAlchemy 2 does not cascade a new row into the session along a backref.
        photo = AgentPhoto(content_type=content_type, size=len(data), sha256=digest, data=data)
        agent.photo = photo
    elif photo.sha256 != digest:
        photo.content_type, photo.size, photo.sha256, photo.data = content_type, len(data), digest, data
    return photo


def remove_photo(agent: Agent) -> bool:
    """Take the agent's photo off the roster; False if there was none."""
    photo = agent.photo
    if photo is None:
        return False
    agent.photo = None
    # Deleted explicitly, not left to delete-orphan: an orphan is found only inside the flush, after
    # the audit hook has listed what the session deletes, and would leave no audit row.
    object_session(agent).delete(photo)
    return True

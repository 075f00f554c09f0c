"""The server's VAPID key pair (RFC 8292): made on first start, kept in the data dir.

Browsers subscribe with the public key (`GET /push/vapid-public-key`) and push
services then accept only messages signed with its private half, so the key
must outlive restarts. Several processes may start at once: the key is written
to a file of its own and linked into place, which succeeds for exactly one of
them, and the others read the winner's key.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid

from server.files import private_file

KEY_FILE = "vapid_private_key.pem"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass(frozen=True)
class VapidKeys:
    private_key: ec.EllipticCurvePrivateKey

    @property
    def public_key(self) -> str:
        """The uncompressed P-256 point, base64url without padding (the browser's applicationServerKey)."""
        point = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return b64url(point)

    def vapid(self) -> Vapid:
        return Vapid(private_key=self.private_key)


def _create(path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    draft = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
        fh.flush()
        os.fsync(fh.fileno())
    try:
        os.link(draft, path)  # atomic, and refuses to replace a key another process made first
    except FileExistsError:
        pass
    finally:
        draft.unlink()


@cache
def _load(path: Path) -> VapidKeys:
    if not path.exists():
        _create(path)
    private_file(path)
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ValueError(f"{path} does not hold a P-256 private key")
    return VapidKeys(key)


@cache
def _from_text(pem: str) -> VapidKeys:
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ValueError("DOORSTEP_VAPID_PRIVATE_KEY does not hold a P-256 private key")
    return VapidKeys(key)


def load(data_dir: Path, pem: str | None = None) -> VapidKeys:
    """This deployment's key pair: the one configured (DOORSTEP_VAPID_PRIVATE_KEY, for several
    app servers that do not share a data dir), else the data dir's, made now if there is none."""
    if pem:
        return _from_text(pem)
    return _load((data_dir / KEY_FILE).resolve())

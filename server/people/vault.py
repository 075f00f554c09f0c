"""Personal data at rest: ID numbers encrypted (AES-GCM) and a keyed hash to find duplicates.

Both keys are derived from the deployment's secret key with HKDF; changing the
secret key makes stored ID numbers unreadable, which `docs/operations.md`
warns about.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


class UnreadableCipher(ValueError):
    """A stored ID number cannot be decrypted with this key."""


def _derive(secret: str, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"doorstep-pii", info=purpose).derive(
        secret.encode()
    )


class Vault:
    def __init__(self, secret_key: str) -> None:
        self._aead = AESGCM(_derive(secret_key, b"id-number-encryption"))
        self._hash_key = _derive(secret_key, b"id-number-hash")

    def encrypt(self, plaintext: str) -> str:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), b"id")
        return base64.urlsafe_b64encode(nonce + sealed).decode()

    def decrypt(self, token: str) -> str:
        try:
            raw = base64.urlsafe_b64decode(token.encode())
            return self._aead.decrypt(raw[:12], raw[12:], b"id").decode()
        except Exception as exc:  # InvalidTag, binascii.Error
            raise UnreadableCipher(str(exc)) from exc

    def keyed_hash(self, value: str) -> str:
        return hmac.new(self._hash_key, value.encode(), hashlib.sha256).hexdigest()

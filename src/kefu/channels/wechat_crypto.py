"""WeChat's message signatures and the WXBizMsgCrypt scheme (safe mode), on ``cryptography``.

* URL and plaintext signature: ``sha1("".join(sorted([token, timestamp, nonce])))``.
* Safe-mode signature: the same over ``[token, timestamp, nonce, encrypt]``.
* Encryption: AES-256-CBC with ``key = b64decode(EncodingAESKey + "=")`` and ``iv = key[:16]``;
  the plaintext is 16 random bytes + the message length (4 bytes, big-endian) + the message +
  the app id (the CorpID for WeCom), PKCS#7-padded to a multiple of 32 bytes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BLOCK = 32


class CryptoError(ValueError):
    """A signature that does not match, or a message that does not decrypt."""


def signature(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()  # noqa: S324 - WeChat's


def check_signature(expected: str, *parts: str) -> None:
    if not expected or not hmac.compare_digest(signature(*parts).encode(), expected.encode()):
        raise CryptoError("signature mismatch")


class MessageCrypt:
    def __init__(self, encoding_aes_key: str, app_id: str) -> None:
        try:
            key = base64.b64decode(encoding_aes_key + "=", validate=True)
        except binascii.Error as exc:
            raise CryptoError("EncodingAESKey is not base64") from exc
        if len(encoding_aes_key) != 43 or len(key) != 32:
            raise CryptoError("EncodingAESKey must be 43 characters")
        self.key, self.app_id = key, app_id.encode()

    def _cipher(self) -> Cipher[modes.CBC]:
        return Cipher(algorithms.AES(self.key), modes.CBC(self.key[:16]))

    def encrypt(self, message: bytes, *, nonce16: bytes | None = None) -> str:
        body = (nonce16 or os.urandom(16)) + struct.pack(">I", len(message)) + message + self.app_id
        pad = BLOCK - len(body) % BLOCK
        body += bytes([pad]) * pad
        enc = self._cipher().encryptor()
        return base64.b64encode(enc.update(body) + enc.finalize()).decode()

    def decrypt(self, encrypted: str) -> bytes:
        try:
            data = base64.b64decode(encrypted, validate=True)
        except binascii.Error as exc:
            raise CryptoError("not base64") from exc
        if not data or len(data) % 16:
            raise CryptoError("bad ciphertext length")
        dec = self._cipher().decryptor()
        plain = dec.update(data) + dec.finalize()
        pad = plain[-1]
        if not 1 <= pad <= BLOCK or plain[-pad:] != bytes([pad]) * pad:
            raise CryptoError("bad padding")
        plain = plain[16:-pad]
        if len(plain) < 4:
            raise CryptoError("truncated")
        (length,) = struct.unpack(">I", plain[:4])
        message, app_id = plain[4 : 4 + length], plain[4 + length :]
        if len(message) != length or not hmac.compare_digest(app_id, self.app_id):
            raise CryptoError("the message is for another app")
        return message

"""Minisign keys and signatures (py-minisign), compatible with the ``minisign`` tool.

Manifests are signed in minisign's prehashed form (Ed25519 over the BLAKE2b-512 hash of
the file, algorithm ``ED``), the form ``minisign -S`` writes by default. The legacy form
(``Ed``, ``minisign -S -l``) is refused on verify. A signature also signs its trusted
comment, so changing that comment breaks the signature too.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

import minisign

from aspire_desktop.core.errors import UserError
from aspire_desktop.core.feed.errors import SignatureError

_PREHASHED = b"ED"
_LEGACY = b"Ed"


class KeyFileError(UserError):
    """A key file given to the publisher's tool cannot be used."""

    exit_code = 2


@dataclass(frozen=True)
class Verified:
    key_id: str
    trusted_comment: str


def key_id_of(public_key: minisign.PublicKey) -> str:
    """The key id: 16 hexadecimal digits (minisign prints the same without leading zeros)."""
    raw = base64.b64decode(public_key.to_base64())
    return raw[2:10][::-1].hex().upper()


def normalise_key_id(text: str) -> str:
    """A key id as a person may write it (lower case, leading zeros left out)."""
    return text.strip().upper().zfill(16)


def public_key_base64(public_key: minisign.PublicKey) -> str:
    return str(public_key.to_base64().decode("ascii"))


def parse_public_key(text: str) -> minisign.PublicKey:
    """A public key from a ``.pub`` file's text (two lines) or its bare base64 line.

    Raises ValueError when it is not one.
    """
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    candidates = [line for line in lines if not line.startswith("untrusted comment:")]
    if len(candidates) != 1:
        raise ValueError("not a minisign public key")
    return minisign.PublicKey.from_base64(candidates[0])  # minisign.Error is a ValueError


def generate_key_pair(password: str | None) -> tuple[bytes, bytes, str]:
    """A new key pair as the bytes of a secret key file and a public key file, and its id.

    With a password the secret key is encrypted as minisign does (scrypt).
    """
    pair = minisign.KeyPair.generate()
    with pair.secret_key as secret:
        if password:
            secret.encrypt(password)
        secret_bytes = bytes(secret) + b"\n"
    key_id = key_id_of(pair.public_key)
    pair.public_key.untrusted_comment = f"minisign public key {key_id}"
    return secret_bytes, bytes(pair.public_key) + b"\n", key_id


def load_secret_key(data: bytes, password: str | None, where: str) -> minisign.SecretKey:
    try:
        secret = minisign.SecretKey.from_bytes(data)
    except minisign.Error:
        raise KeyFileError(f"{where} is not a minisign secret key.", "Check the path.") from None
    if secret.is_encrypted():
        if not password:
            raise KeyFileError(
                f"{where} is protected by a password.",
                "Give it in the ASPIRE_PACK_PASSWORD environment variable, or type it when asked.",
            )
        try:
            secret.decrypt(password)
        except minisign.Error:
            raise KeyFileError(f"The password for {where} is wrong.", "Try again.") from None
    return secret


def sign(secret: minisign.SecretKey, data: bytes, trusted_comment: str) -> bytes:
    """A prehashed minisign signature file's bytes for ``data``."""
    signature = secret.sign(data, prehash=True, trusted_comment=trusted_comment)
    return bytes(signature) + b"\n"


def signature_key_id(signature: bytes) -> str:
    lines = signature.splitlines()
    try:
        raw = base64.b64decode(lines[1], validate=True)
    except (IndexError, binascii.Error):
        raise _broken() from None
    if len(raw) != 74:
        raise _broken()
    return raw[2:10][::-1].hex().upper()


def _broken() -> SignatureError:
    return SignatureError(
        "The content feed's signature file is damaged, so the update cannot be trusted.",
        "Try again later; if it keeps happening, tell your IT team.",
    )


def verify(
    data: bytes, signature: bytes, keys: dict[str, minisign.PublicKey], revoked: frozenset[str]
) -> Verified:
    """Check ``signature`` over ``data`` with the trusted ``keys`` (by key id).

    Refuses the legacy signature form, a revoked key and a key that is not trusted.
    """
    key_id = signature_key_id(signature)
    try:
        parsed = minisign.Signature.from_bytes(signature)
    except minisign.Error:
        raise _broken() from None
    algorithm = base64.b64decode(signature.splitlines()[1])[:2]
    if algorithm == _LEGACY or not parsed.is_prehashed():
        raise SignatureError(
            "The content feed is signed in minisign's old (legacy) form, which ASPire "
            "Desktop does not accept.",
            "Tell the people who publish the feed: they need to sign it again without -l.",
        )
    if algorithm != _PREHASHED:  # pragma: no cover - from_bytes knows only the two forms
        raise _broken()
    if key_id in revoked:
        raise SignatureError(
            f"The content feed is signed with a key that has been withdrawn ({key_id}).",
            "Tell your IT team; the publishers will sign with their new key.",
        )
    key = keys.get(key_id)
    if key is None:
        raise SignatureError(
            f"The content feed is signed with a key this computer does not trust ({key_id}).",
            "Check the feed address. If your organisation publishes its own feed, your IT "
            "team can add its key in the settings.",
        )
    try:
        key.verify(data, parsed)
    except minisign.Error:
        raise SignatureError(
            "The content feed's signature does not match its contents: it may have been "
            "changed on the way or on the server.",
            "Try again later; if it keeps happening, tell your IT team.",
        ) from None
    return Verified(key_id, parsed.trusted_comment)

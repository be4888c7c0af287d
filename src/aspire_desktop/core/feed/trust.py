"""Which signing keys this app believes.

- The keys that ship with the app: every ``*.pub`` file in ``core/feed/keys/``.
- An extra key from the settings (an organisation that publishes its own feed).
- Keys learned by rotation: a manifest signed by a trusted key may name the publisher's
  next key; once that manifest has been applied, the next key is trusted too.
- Revoked key ids (from the settings, later from central policy) are never trusted, even
  when they ship with the app.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources

import minisign

from aspire_desktop.core.errors import UserError
from aspire_desktop.core.feed import signing


class TrustSettingError(UserError):
    """A signing key given in the settings is not a minisign public key."""


@dataclass(frozen=True)
class Trust:
    keys: dict[str, minisign.PublicKey]
    revoked: frozenset[str]

    def verify(self, data: bytes, signature: bytes) -> signing.Verified:
        return signing.verify(data, signature, self.keys, self.revoked)

    def key_ids(self) -> list[str]:
        return sorted(self.keys)


def shipped_keys() -> list[str]:
    """The text of every public key file that ships with the app."""
    folder = resources.files("aspire_desktop.core.feed") / "keys"
    return [
        entry.read_text(encoding="utf-8")
        for entry in sorted(folder.iterdir(), key=lambda e: e.name)
        if entry.name.endswith(".pub")
    ]


def build_trust(
    *,
    extra: Iterable[str] = (),
    learned: Iterable[str] = (),
    revoked: Iterable[str] = (),
    include_shipped: bool = True,
) -> Trust:
    """The trusted keys: shipped (unless told not to), extra and learned, minus revoked."""
    revoked_ids = frozenset(signing.normalise_key_id(r) for r in revoked if r.strip())
    texts = [*(shipped_keys() if include_shipped else []), *extra, *learned]
    keys: dict[str, minisign.PublicKey] = {}
    for text in texts:
        try:
            key = signing.parse_public_key(text)
        except ValueError:
            raise TrustSettingError(
                "A signing key in the settings is not a minisign public key.",
                "Ask your IT team to correct the feed's key in the settings.",
            ) from None
        key_id = signing.key_id_of(key)
        if key_id not in revoked_ids:
            keys[key_id] = key
    return Trust(keys, revoked_ids)

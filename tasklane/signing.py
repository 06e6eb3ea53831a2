"""Notification signatures: Taskhook's `X-Taskhook-Signature` and Standard Webhooks headers.

Key bytes: a `whsec_`-prefixed secret is base64 after the prefix (as Standard Webhooks
defines it); any other secret is used as its UTF-8 bytes. Both signatures use the same key.
- `X-Taskhook-Signature: v1=<hex HMAC-SHA256(key, raw body)>[,v1=<hex>...]`
- `webhook-signature: v1,<base64 HMAC-SHA256(key, "{webhook-id}.{webhook-timestamp}.{body}")>`
  space-separated, one per secret.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac


def key_bytes(secret: str) -> bytes:
    if secret.startswith("whsec_"):
        try:
            return base64.b64decode(secret.removeprefix("whsec_"), validate=True)
        except binascii.Error:
            pass
    return secret.encode()


def taskhook_signature(secrets: list[str], body: bytes) -> str:
    return ",".join(
        "v1=" + hmac.new(key_bytes(s), body, hashlib.sha256).hexdigest() for s in secrets
    )


def standard_webhooks_signature(
    secrets: list[str], message_id: str, timestamp: int, body: bytes
) -> str:
    signed = f"{message_id}.{timestamp}.".encode() + body
    return " ".join(
        "v1," + base64.b64encode(hmac.new(key_bytes(s), signed, hashlib.sha256).digest()).decode()
        for s in secrets
    )


def signed_headers(secrets: list[str], message_id: str, timestamp: int, body: bytes) -> dict:
    if not secrets:
        return {"webhook-id": message_id, "webhook-timestamp": str(timestamp)}
    return {
        "X-Taskhook-Signature": taskhook_signature(secrets, body),
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": standard_webhooks_signature(secrets, message_id, timestamp, body),
    }

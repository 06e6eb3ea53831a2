import base64
import hashlib
import hmac

from tasklane.signing import key_bytes, signed_headers


def test_whsec_secret_is_base64_and_plain_secret_is_utf8() -> None:
    assert key_bytes("whsec_" + base64.b64encode(b"k3y").decode()) == b"k3y"
    assert key_bytes("plain") == b"plain"


def test_headers_sign_body_and_id_timestamp_body() -> None:
    body = b'{"a":1}'
    headers = signed_headers(["s1", "s2"], "msg_1", 1700000000, body)
    expected_hex = [hmac.new(k, body, hashlib.sha256).hexdigest() for k in (b"s1", b"s2")]
    assert headers["X-Taskhook-Signature"] == ",".join(f"v1={h}" for h in expected_hex)
    signed = b"msg_1.1700000000." + body
    expected_b64 = [
        base64.b64encode(hmac.new(k, signed, hashlib.sha256).digest()).decode()
        for k in (b"s1", b"s2")
    ]
    assert headers["webhook-signature"] == " ".join(f"v1,{b}" for b in expected_b64)
    assert headers["webhook-id"] == "msg_1" and headers["webhook-timestamp"] == "1700000000"


def test_no_secret_means_no_signature_headers() -> None:
    headers = signed_headers([], "msg_1", 1, b"{}")
    assert "X-Taskhook-Signature" not in headers and "webhook-signature" not in headers

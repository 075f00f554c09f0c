"""A local push service for tests: it receives what the server sends and checks it like FCM would.

Each subscription it hands out (`subscribe()`) is a real one: a P-256 key pair
and a 16-byte auth secret, the private half kept here, so every message can be
decrypted (aes128gcm, RFC 8291). Each message's VAPID token (RFC 8292) is
checked: ES256 signature with the server's published key, `aud` this origin,
`exp` at most 24 hours ahead, `sub` as expected. What it found wrong is in
`Received.problems`. Answers can be scripted per subscription (`answer()`).
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Received:
    token: str
    headers: dict[str, str]
    body: bytes
    answered: int = 0
    claims: dict[str, Any] = field(default_factory=dict)
    payload: dict[str, Any] | None = None
    problems: list[str] = field(default_factory=list)


@dataclass
class Subscriber:
    private_key: ec.EllipticCurvePrivateKey
    auth: bytes
    answers: list[tuple[int, dict[str, str]]] = field(default_factory=list)


class PushService:
    def __init__(self, *, subject: str, delay: float = 0.0) -> None:
        self.subject = subject
        self.delay = delay
        self.vapid_key: str | None = None  # the server's published key, set by the test
        self.subscribers: dict[str, Subscriber] = {}
        self.received: list[Received] = []
        self.lock = threading.Lock()
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                status, extra = service._receive(self.path, dict(self.headers.items()), body)
                self.send_response(status)
                for name, value in extra.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # -- what a browser gets from pushManager.subscribe() ----------------------------------------

    def subscribe(self) -> dict[str, Any]:
        token = secrets.token_urlsafe(16)
        key = ec.generate_private_key(ec.SECP256R1())
        auth = secrets.token_bytes(16)
        self.subscribers[token] = Subscriber(key, auth)
        point = key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return {
            "endpoint": f"{self.origin}/wp/{token}",
            "expirationTime": None,
            "keys": {"p256dh": b64url(point), "auth": b64url(auth)},
        }

    def answer(self, subscription: dict[str, Any], *answers: tuple[int, dict[str, str]]) -> None:
        """The next answers to messages for this subscription (then 201)."""
        self.subscribers[self.token(subscription)].answers.extend(answers)

    @staticmethod
    def token(subscription: dict[str, Any]) -> str:
        return str(subscription["endpoint"]).rsplit("/", 1)[1]

    def messages(self, subscription: dict[str, Any] | None = None) -> list[Received]:
        with self.lock:
            return [r for r in self.received if subscription is None or r.token == self.token(subscription)]

    def per_token(self) -> dict[str, int]:
        counts: dict[str, int] = defaultdict(int)
        for message in self.messages():
            counts[message.token] += 1
        return dict(counts)

    # -- receiving ---------------------------------------------------------------------------------

    def _receive(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str]]:
        token = path.rsplit("/", 1)[-1]
        got = Received(token=token, headers={k.lower(): v for k, v in headers.items()}, body=body)
        subscriber = self.subscribers.get(token)
        if subscriber is None:
            got.problems.append("unknown subscription")
            status, extra = 404, {}
        else:
            self._check(got, subscriber)
            status, extra = subscriber.answers.pop(0) if subscriber.answers else (201, {})
        got.answered = status
        if self.delay:
            time.sleep(self.delay)
        with self.lock:
            self.received.append(got)
        return status, extra

    def _check(self, got: Received, subscriber: Subscriber) -> None:
        problems = got.problems
        scheme, _sep, params = got.headers.get("authorization", "").partition(" ")
        parts = dict(p.split("=", 1) for p in params.split(",") if "=" in p)
        if scheme.lower() != "vapid" or "t" not in parts or "k" not in parts:
            problems.append(f"no vapid authorization: {got.headers.get('authorization')!r}")
            return
        if parts["k"] != self.vapid_key:
            problems.append("signed with a key other than the published one")
        try:
            self._verify_jwt(parts["t"], parts["k"], got)
        except (ValueError, InvalidSignature, KeyError) as exc:
            problems.append(f"bad token: {exc!r}")
        if got.headers.get("content-encoding") != "aes128gcm":
            problems.append(f"content-encoding {got.headers.get('content-encoding')!r}")
        if not got.headers.get("ttl", "").isdigit():
            problems.append("no TTL")
        try:
            plain = http_ece.decrypt(
                got.body, private_key=subscriber.private_key, auth_secret=subscriber.auth, version="aes128gcm"
            )
            got.payload = json.loads(plain)
        except Exception as exc:
            problems.append(f"cannot decrypt: {exc!r}")

    def _verify_jwt(self, token: str, key: str, got: Received) -> None:
        head_b64, claims_b64, sig_b64 = token.split(".")
        header = json.loads(unb64url(head_b64))
        if header.get("alg") != "ES256":
            raise ValueError(f"alg {header.get('alg')}")
        signature = unb64url(sig_b64)
        if len(signature) != 64:
            raise ValueError("signature is not r||s")
        der = encode_dss_signature(
            int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
        )
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(key))
        public.verify(der, f"{head_b64}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256()))
        got.claims = claims = json.loads(unb64url(claims_b64))
        now = time.time()
        if claims.get("aud") != self.origin:
            got.problems.append(f"aud {claims.get('aud')!r} is not {self.origin}")
        if not now < int(claims.get("exp", 0)) <= now + 24 * 3600:
            got.problems.append(f"exp {claims.get('exp')} not within 24 h")
        if claims.get("sub") != self.subject:
            got.problems.append(f"sub {claims.get('sub')!r}")

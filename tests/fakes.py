"""Loopback fakes of outside vendors, speaking their wire formats over real HTTP: the cloud SMS
service (signed JSON API) and a generic SMS gateway. Each records what it received and can
be stopped and started again on the same port (a vendor outage)."""

from __future__ import annotations

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qsl, urlsplit

from plugins.sms_cloud import body_hash, sign
from tests.servers import free_port

__all__ = ["CloudSms", "CourierPost", "DepartmentSystem", "GenericGateway"]


class _Fake:
    """A ThreadingHTTPServer on a fixed loopback port; ``handle`` answers each request."""

    def __init__(self) -> None:
        self.port = free_port()
        self.received: list[dict[str, Any]] = []
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def handle(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, Any]:
        raise NotImplementedError

    def start(self) -> Self:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, answer = fake.handle(self.command, self.path, headers, body)
                data = (
                    answer.encode()
                    if isinstance(answer, str)
                    else json.dumps(answer, ensure_ascii=False).encode()
                )
                self.send_response(status)
                self.send_header(
                    "content-type",
                    "text/plain; charset=utf-8" if isinstance(answer, str) else "application/json",
                )
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _serve

            def log_message(self, *args: Any) -> None:
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


class CloudSms(_Fake):
    """The cloud SMS service: checks the access key and the HMAC signature of every request
    and answers in its JSON format."""

    def __init__(self, key: str = "AK-hechi", secret: str = "cloud-secret") -> None:
        super().__init__()
        self.key, self.secret = key, secret
        #: seconds each send takes to answer (a slow vendor); sends waiting for their answer
        self.delay, self.in_flight = 0.0, 0
        self._lock = threading.Lock()

    @property
    def kept(self) -> dict[str, dict[str, Any]]:
        """What reaches phones: the service keeps one message per ``out_id`` (its dedupe)."""
        kept: dict[str, dict[str, Any]] = {}
        for message in list(self.received):
            kept.setdefault(message.get("out_id") or uuid.uuid4().hex, message)
        return kept

    def _authentic(self, method: str, path: str, headers: dict[str, str], body: bytes) -> str:
        if headers.get("x-sms-key") != self.key:
            return "InvalidAccessKeyId"
        timestamp = headers.get("x-sms-timestamp", "0")
        if abs(time.time() - int(timestamp)) > 300:
            return "RequestTimeTooSkewed"
        expected = sign(
            self.secret, method, path, timestamp, headers.get("x-sms-nonce", ""), body_hash(body)
        )
        return "" if expected == headers.get("x-sms-signature") else "SignatureDoesNotMatch"

    def handle(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, Any]:
        path = urlsplit(path).path
        problem = self._authentic(method, path, headers, body)
        if problem:
            return 401, {"code": problem, "message": "鉴权失败"}
        if method == "GET" and path == "/v1/account":
            return 200, {"code": "OK", "balance": 10000}
        if method == "POST" and path == "/v1/sms/send":
            message = json.loads(body)
            if not message.get("template_code") or not message.get("sign_name"):
                return 400, {"code": "isv.TEMPLATE_MISSING", "message": "模板或签名为空"}
            self.received.append(message)
            if self.delay:
                with self._lock:
                    self.in_flight += 1
                time.sleep(self.delay)
                with self._lock:
                    self.in_flight -= 1
            return 200, {"code": "OK", "biz_id": uuid.uuid4().hex}
        return 404, {"code": "NotFound"}

    def callback(self, records: list[dict[str, Any]], secret: str | None = None) -> dict[str, Any]:
        """A signed callback as the service posts it to us: ``content`` and ``headers``."""
        body = json.dumps(records, ensure_ascii=False).encode()
        timestamp = str(int(time.time()))
        return {
            "content": body,
            "headers": {
                "content-type": "application/json",
                "x-sms-timestamp": timestamp,
                "x-sms-signature": sign(secret or self.secret, timestamp, body_hash(body)),
            },
        }


class GenericGateway(_Fake):
    """An operator gateway: GET query or POST form/JSON, answers ``{"code": "0", "msgid"}``
    (or plain ``OK`` when ``plain`` is set); ``refuse`` makes it answer an error code."""

    def __init__(self, plain: bool = False) -> None:
        super().__init__()
        self.plain, self.refuse = plain, False

    def handle(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, Any]:
        parts = urlsplit(path)
        if method == "GET":
            fields = dict(parse_qsl(parts.query))
        elif headers.get("content-type", "").startswith("application/json"):
            fields = json.loads(body)
        else:
            fields = dict(parse_qsl(body.decode()))
        if not fields:  # a bare probe (self-check)
            return 200, {"code": "1", "msg": "no message"}
        self.received.append({"method": method, **fields})
        if self.plain:
            return 200, "ERR 101" if self.refuse else "OK " + fields.get("msgid", "")
        if self.refuse:
            return 200, {"code": "101", "msg": "账号余额不足"}
        return 200, {"code": "0", "msgid": "G" + uuid.uuid4().hex[:10]}


class CourierPost(_Fake):
    """The postal express open API: form posts signed with ``data_digest``; one waybill per
    ``logisticsOrderNo`` (a retry gets the same one back)."""

    def __init__(self, partner: str = "P-hechi", secret: str = "post-secret") -> None:
        super().__init__()
        self.partner, self.secret = partner, secret
        self.waybills: dict[str, dict[str, Any]] = {}

    def handle(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, Any]:
        from plugins.courier_post import digest

        fields = dict(parse_qsl(body.decode()))
        payload = fields.get("logistics_interface", "")
        if fields.get("partner_id") != self.partner:
            return 200, {"success": "false", "errorCode": "S01", "errorMsg": "合作方不存在"}
        if digest(payload, self.secret) != fields.get("data_digest"):
            return 200, {"success": "false", "errorCode": "S02", "errorMsg": "签名错误"}
        if fields.get("method") == "account.check":
            return 200, {"success": "true"}
        order = json.loads(payload)
        self.received.append(order)
        ref = order["logisticsOrderNo"]
        if ref not in self.waybills:
            self.waybills[ref] = {"waybillNo": f"1100{len(self.waybills) + 1:09d}", **order}
        return 200, {"success": "true", "waybillNo": self.waybills[ref]["waybillNo"]}

    def push(self, traces: list[dict[str, Any]], secret: str | None = None) -> dict[str, Any]:
        """A tracking push as the service posts it to us: ``content`` and ``headers``."""
        from urllib.parse import urlencode

        from plugins.courier_post import digest

        payload = json.dumps({"traces": traces}, ensure_ascii=False)
        form = {
            "logistics_interface": payload,
            "data_digest": digest(payload, secret or self.secret),
        }
        return {
            "content": urlencode(form).encode(),
            "headers": {"content-type": "application/x-www-form-urlencoded"},
        }


class DepartmentSystem(_Fake):
    """A department's own approval system receiving govhall's signed case events;
    ``fail`` makes it answer 500 (down for maintenance)."""

    def __init__(self, secret: str = "department-shared-secret") -> None:
        super().__init__()
        self.secret, self.fail, self.forged = secret, False, 0

    def handle(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, Any]:
        from core.cases.departments import signature

        if self.fail:
            return 500, {"error": "维护中"}
        expected = signature(self.secret, headers.get("x-govhall-timestamp", ""), body)
        if expected != headers.get("x-govhall-signature"):
            self.forged += 1
            return 401, {"error": "bad signature"}
        self.received.append(json.loads(body))
        return 200, {"ok": True}

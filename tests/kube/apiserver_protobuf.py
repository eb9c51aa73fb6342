"""Just enough of the Kubernetes protobuf envelope to read what kubectl sends as protobuf.

``kubectl auth can-i`` POSTs its SelfSubjectAccessReview and ``kubectl auth whoami`` its
SelfSubjectReview as ``application/vnd.kubernetes.protobuf`` (magic ``k8s\\0`` +
``runtime.Unknown``); everything else kubectl sends here is JSON.
"""

from __future__ import annotations

from typing import Any

from .apiserver_errors import ApiError

MAGIC = b"k8s\x00"
PROTOBUF = "application/vnd.kubernetes.protobuf"


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7


def fields(data: bytes) -> dict[int, list[Any]]:
    """Decode one message level: field number -> list of raw values (ints or bytes)."""
    out: dict[int, list[Any]] = {}
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(data, pos)
        elif wire == 2:
            length, pos = _varint(data, pos)
            value, pos = data[pos:pos + length], pos + length
        elif wire == 1:
            value, pos = data[pos:pos + 8], pos + 8
        elif wire == 5:
            value, pos = data[pos:pos + 4], pos + 4
        else:
            raise ValueError(f"unsupported wire type {wire}")
        out.setdefault(number, []).append(value)
    return out


def _strings(msg: dict[int, list[Any]], names: dict[int, str]) -> dict[str, str]:
    return {name: msg[num][0].decode() for num, name in names.items() if num in msg}


def decode_ssar(body: bytes) -> dict[str, Any]:
    """A protobuf SelfSubjectAccessReview as its JSON dict."""
    try:
        if not body.startswith(MAGIC):
            raise ValueError("missing k8s protobuf magic")
        unknown = fields(body[len(MAGIC):])
        raw = fields(unknown[2][0])
        spec = fields(raw.get(2, [b""])[0])
        out: dict[str, Any] = {"kind": "SelfSubjectAccessReview", "apiVersion": "authorization.k8s.io/v1",
                               "metadata": {}, "spec": {}}
        if 1 in spec:
            out["spec"]["resourceAttributes"] = _strings(fields(spec[1][0]), {
                1: "namespace", 2: "verb", 3: "group", 4: "version", 5: "resource", 6: "subresource", 7: "name"})
        if 2 in spec:
            out["spec"]["nonResourceAttributes"] = _strings(fields(spec[2][0]), {1: "path", 2: "verb"})
        return out
    except (ValueError, IndexError, KeyError, UnicodeDecodeError) as exc:
        raise ApiError(400, f"the body of the request was in an unknown format: {exc}") from None


def decode_ssr(body: bytes) -> dict[str, Any]:
    """A protobuf SelfSubjectReview (``kubectl auth whoami``) as its JSON dict: it carries
    only the envelope's type meta (apiVersion, kind), no spec."""
    try:
        if not body.startswith(MAGIC):
            raise ValueError("missing k8s protobuf magic")
        unknown = fields(body[len(MAGIC):])
        meta = _strings(fields(unknown.get(1, [b""])[0]), {1: "apiVersion", 2: "kind"})
        return {"kind": meta.get("kind") or "SelfSubjectReview",
                "apiVersion": meta.get("apiVersion") or "authentication.k8s.io/v1", "metadata": {}}
    except (ValueError, IndexError, KeyError, UnicodeDecodeError) as exc:
        raise ApiError(400, f"the body of the request was in an unknown format: {exc}") from None

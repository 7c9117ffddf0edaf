"""How the client encodes what it sends: multipart/form-data bodies and Basic credentials.

Neither needs a Client: ``sockweb get -F`` builds its multipart body with
``encode_multipart`` directly, and the Client uses both when it builds a
request or talks to a proxy.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

# secrets and base64 are imported where they are needed: most requests need neither.

FileSpec = bytes | tuple[str, bytes] | tuple[str, bytes, str]


def basic_auth(user: str, password: str) -> bytes:
    import base64

    token = base64.b64encode(f"{user}:{password}".encode())
    return b"Basic " + token


def encode_multipart(
    fields: Iterable[tuple[str, str]], files: Mapping[str, FileSpec]
) -> tuple[bytes, bytes]:
    """(body, content type) of multipart/form-data (RFC 7578)."""
    import secrets

    boundary = secrets.token_hex(16).encode()
    parts: list[bytes] = []

    def quote(value: str) -> bytes:
        return value.replace("\\", "\\\\").replace('"', "%22").replace("\r", "%0D") \
            .replace("\n", "%0A").encode()

    for name, value in fields:
        parts.append(b"--%b\r\nContent-Disposition: form-data; name=\"%b\"\r\n\r\n%b\r\n"
                     % (boundary, quote(name), value.encode()))
    for name, spec in files.items():
        if isinstance(spec, bytes):
            filename, content, ctype = name, spec, "application/octet-stream"
        elif len(spec) == 2:
            filename, content = spec[0], spec[1]
            ctype = "application/octet-stream"
        else:
            filename, content, ctype = spec
        parts.append(
            b"--%b\r\nContent-Disposition: form-data; name=\"%b\"; filename=\"%b\"\r\n"
            b"Content-Type: %b\r\n\r\n%b\r\n"
            % (boundary, quote(name), quote(filename), ctype.encode(), content))
    parts.append(b"--%b--\r\n" % boundary)
    return b"".join(parts), b"multipart/form-data; boundary=" + boundary

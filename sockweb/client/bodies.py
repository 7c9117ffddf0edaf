"""How the client encodes what it sends: multipart/form-data bodies, the chunked
framing of a streamed body, and Basic credentials.

None needs a Client: ``sockweb get -F`` builds its multipart body with
``encode_multipart`` directly, and the Client uses them when it builds or
sends a request or talks to a proxy.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

# secrets and base64 are imported where they are needed: most requests need neither.

FileSpec = bytes | tuple[str, bytes] | tuple[str, bytes, str]


def basic_auth(user: str, password: str) -> bytes:
    import base64

    token = base64.b64encode(f"{user}:{password}".encode())
    return b"Basic " + token


def encode_multipart(
    fields: Iterable[tuple[str, str]], files: Mapping[str, FileSpec]
) -> tuple[bytes, bytes]:
    """(body, content type) of multipart/form-data (RFC 7578): the fields, then the files."""
    return encode_form_data([*fields, *files.items()])


def encode_form_data(parts: Iterable[tuple[str, str | FileSpec]]) -> tuple[bytes, bytes]:
    """(body, content type) of multipart/form-data (RFC 7578), the parts in order.

    A ``str`` value is a field; bytes or a (filename, content[, type]) tuple is
    a file. A name may come more than once (section 4.3: several files).
    """
    import secrets

    boundary = secrets.token_hex(16).encode()
    out: list[bytes] = []

    def quote(value: str) -> bytes:
        return value.replace("\\", "\\\\").replace('"', "%22").replace("\r", "%0D") \
            .replace("\n", "%0A").encode("utf-8", "surrogateescape")  # argv's bytes, as typed

    for name, spec in parts:
        if isinstance(spec, str):
            out.append(b"--%b\r\nContent-Disposition: form-data; name=\"%b\"\r\n\r\n%b\r\n"
                       % (boundary, quote(name), spec.encode("utf-8", "surrogateescape")))
            continue
        if isinstance(spec, bytes):
            filename, content, ctype = name, spec, "application/octet-stream"
        elif len(spec) == 2:
            filename, content = spec[0], spec[1]
            ctype = "application/octet-stream"
        else:
            filename, content, ctype = spec
        out.append(
            b"--%b\r\nContent-Disposition: form-data; name=\"%b\"; filename=\"%b\"\r\n"
            b"Content-Type: %b\r\n\r\n%b\r\n"
            % (boundary, quote(name), quote(filename), ctype.encode(), content))
    out.append(b"--%b--\r\n" % boundary)
    return b"".join(out), b"multipart/form-data; boundary=" + boundary


def encode_chunked(body: Iterable[bytes]) -> Iterator[bytes]:
    """A streamed body in the chunked transfer coding (RFC 9112 section 7.1).

    Empty pieces are skipped: a chunk of size 0 is the last chunk, which ends the body.
    """
    for chunk in body:
        if chunk:
            yield b"%x\r\n%b\r\n" % (len(chunk), chunk)
    yield b"0\r\n\r\n"

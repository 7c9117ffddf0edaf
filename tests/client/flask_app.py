"""A real WSGI app for the client's tests: redirects, cookies, statuses, auth, slowness.

Run as a script it serves on 127.0.0.1 with an ephemeral port under werkzeug's
real server and prints ``PORT <n>`` once listening.
"""

from __future__ import annotations

import base64
import gzip
import sys
import time

from flask import Flask, Response, jsonify, make_response, redirect, request

app = Flask(__name__)


def _echo() -> dict[str, object]:
    return {
        "method": request.method,
        "path": request.path,
        "args": request.args.to_dict(flat=False),
        "headers": dict(request.headers),
        "form": request.form.to_dict(flat=False),
        "files": {k: {"filename": f.filename, "content": f.read().decode("latin-1"),
                      "type": f.content_type} for k, f in request.files.items()},
        "json": request.get_json(silent=True),
        "data": request.get_data(as_text=True) if not request.form else "",
        "cookies": request.cookies,
    }


@app.route("/echo", methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
def echo() -> Response:
    return jsonify(_echo())


@app.route("/status/<int:code>")
def status(code: int) -> Response:
    return make_response(f"status {code}\n", code)


@app.route("/redirect/<int:code>", methods=["GET", "POST", "PUT", "HEAD"])
def redirect_to(code: int) -> Response:
    target = request.args.get("to", "/echo")
    return redirect(target, code)


@app.route("/redirect-chain/<int:n>")
def redirect_chain(n: int) -> Response:
    return redirect(f"/redirect-chain/{n - 1}" if n > 1 else "/echo", 302)


@app.route("/cookies/set")
def set_cookies() -> Response:
    response = make_response("set\n")
    for name, value in request.args.items():
        response.set_cookie(name, value)
    return response


@app.route("/cookies/delete")
def delete_cookies() -> Response:
    response = make_response("deleted\n")
    for name in request.args:
        response.delete_cookie(name)
    return response


@app.route("/cookies")
def cookies() -> Response:
    return jsonify(request.cookies)


@app.route("/basic-auth/<user>/<password>")
def basic_auth(user: str, password: str) -> Response:
    expected = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
    if request.headers.get("Authorization") != expected:
        return Response("no\n", 401, {"WWW-Authenticate": 'Basic realm="test"'})
    return jsonify({"authenticated": True, "user": user})


@app.route("/slow/<float:seconds>")
def slow(seconds: float) -> Response:
    time.sleep(min(seconds, 10))
    return Response("slow\n")


@app.route("/drip/<int:count>/<float:interval>")
def drip(count: int, interval: float) -> Response:
    def generate():  # type: ignore[no-untyped-def]
        for _ in range(min(count, 100)):
            yield b"*"
            time.sleep(min(interval, 2))

    return Response(generate(), mimetype="application/octet-stream")


@app.route("/gzip")
def gzipped() -> Response:
    body = gzip.compress(b'{"gzipped": true}')
    return Response(body, headers={"Content-Encoding": "gzip",
                                   "Content-Type": "application/json"})


@app.route("/charset/<name>")
def charset(name: str) -> Response:
    text = "caf\u00e9 \u20ac"
    return Response(text.encode(name, errors="replace"),
                    headers={"Content-Type": f"text/plain; charset={name}"})


def main() -> None:
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    print(f"PORT {server.server_port}", flush=True)
    sys.stdout.flush()
    server.serve_forever()


if __name__ == "__main__":
    main()

"""A Flask app: forms, uploads, JSON, a streaming generator, redirects, cookies."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator

from flask import Flask, Response, jsonify, redirect, request, stream_with_context, url_for

app = Flask(__name__)


@app.post("/form")
def form() -> Response:
    return jsonify({"form": request.form.to_dict(flat=False),
                    "content_type": request.content_type})


@app.post("/upload")
def upload() -> Response:
    files = {}
    for name, f in request.files.items():
        data = f.read()
        files[name] = {"filename": f.filename, "size": len(data),
                       "sha256": hashlib.sha256(data).hexdigest(),
                       "content_type": f.content_type}
    return jsonify({"files": files, "fields": request.form.to_dict()})


@app.post("/json")
def echo_json() -> Response:
    data = request.get_json()
    return jsonify({"got": data, "is_json": request.is_json}), 201  # type: ignore[return-value]


@app.get("/stream")
def stream() -> Response:
    n = int(request.args.get("n", "20"))

    def lines() -> Iterator[str]:
        for i in range(n):
            yield f"row {i}\n"
            time.sleep(0.002)

    return Response(stream_with_context(lines()), mimetype="text/plain")


@app.get("/old")
def old() -> Response:
    return redirect(url_for("target", via="old"), 302)  # type: ignore[return-value]


@app.route("/post-redirect", methods=["POST"])
def post_redirect() -> Response:
    return redirect(url_for("target", via="post"), 303)  # type: ignore[return-value]


@app.get("/target")
def target() -> Response:
    return jsonify({"via": request.args.get("via"), "script_root": request.script_root,
                    "url": request.url})


@app.get("/cookie/set")
def set_cookie() -> Response:
    response = jsonify({"set": True})
    response.set_cookie("flavour", "oatmeal", httponly=True)
    response.set_cookie("size", "large")
    return response


@app.get("/cookie/get")
def get_cookie() -> Response:
    return jsonify(dict(request.cookies))


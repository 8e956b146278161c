"""archspec serve's API against a real server on a free port: answers, guards, save and its conflict."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from conftest import ROOT
from serve_helpers import post, request, running

Q6 = ROOT / "specs/seed/q6-design.yaml"
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz 'dot' is not installed")


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    d = tmp_path_factory.mktemp("specs")
    shutil.copy(Q6, d / "q6-design.yaml")
    shutil.copy(ROOT / "specs/seed/q2-backprop.yaml", d / "q2-backprop.yaml")
    return d


@pytest.fixture(scope="module")
def srv(folder):
    with running(folder) as s:
        yield s


def check(srv, text, **extra):
    status, doc = post(srv, "/api/check", {"text": text, **extra})
    assert status == 200, doc
    return doc


def test_a_typo_is_located_with_its_hint(srv):
    text = Q6.read_text().replace("kernel_size: 3, stride: 2", "kernel_sise: 3, stride: 2", 1)
    doc = check(srv, text)
    typo = next(i for i, row in enumerate(text.splitlines(), 1) if "kernel_sise" in row)
    assert [(d["code"], d["line"]) for d in doc["diagnostics"]] == [("missing-key", typo), ("unknown-key", typo)]
    d = doc["diagnostics"][1]
    line = text.splitlines()[d["line"] - 1]
    assert d["severity"] == "error" and doc["diagnostics"][0]["hint"] is None
    assert line[d["column"] - 1:].startswith("kernel_sise")
    assert d["hint"] == "did you mean 'kernel_size'?"
    assert set(d) == {"line", "column", "code", "severity", "message", "hint"}
    assert doc["svg"] is None and doc["shapes"] is None and doc["kind"] is None


@needs_dot
def test_a_valid_spec_gets_svg_and_the_shapes_commands_json(srv, cli):
    doc = check(srv, Q6.read_text())
    assert doc["diagnostics"] == [] and doc["svg"].startswith("<svg") and doc["svg"].rstrip().endswith("</svg>")
    assert "conv4" in doc["svg"] and "<?xml" not in doc["svg"]
    shapes = json.loads(cli("shapes", Q6, "--format", "json").out)
    assert doc["shapes"]["params"] == shapes["params"] == 1_023_621
    assert [(x["name"], x["output"]) for x in doc["shapes"]["layers"]] == \
           [(x["name"], x["output"]) for x in shapes["layers"]]
    assert check(srv, Q6.read_text(), layout="LR")["svg"] != doc["svg"]  # the page's layout choice is drawn


@needs_dot
def test_a_rule_break_still_draws_and_suggests_repairs(srv):
    text = (ROOT / "specs/invalid/q6-wrong-stride.yaml").read_text()
    doc = check(srv, text)
    assert any(d["code"] == "rule-shape" for d in doc["diagnostics"])
    assert doc["svg"] is not None and doc["shapes"] is not None
    assert "conv3: stride 1 -> 2 gives 7 x 7 x 256 before flatten" in doc["suggestions"]
    assert check(srv, Q6.read_text())["suggestions"] == []


@needs_dot
def test_every_kind(srv):
    q2 = (ROOT / "specs/seed/q2-backprop.yaml").read_text()
    plain, grads = check(srv, q2), check(srv, q2, grads=True)
    assert plain["kind"] == "equations" and plain["shapes"] is None and "<svg" in plain["svg"]
    assert "loss" in plain["svg"] and grads["svg"] != plain["svg"]  # forward values; dl/dw on the toggle
    fm = check(srv, (ROOT / "specs/seed/q4a-conv.yaml").read_text())
    assert fm["kind"] == "feature_map" and "<svg" in fm["svg"]
    rules = check(srv, (ROOT / "specs/rules/q6-rules.yaml").read_text())
    assert rules["kind"] == "rules" and rules["svg"] is None and rules["notes"] == ["kind 'rules' has no diagram"]


@needs_dot
def test_user_text_in_the_svg_stays_escaped(srv):
    text = Q6.read_text().replace("name: q6-design", "name: '<script>alert(1)</script>'")
    svg = check(srv, text)["svg"]
    assert "&lt;script&gt;" in svg and "<script" not in svg


def test_solution_is_the_worked_markdown(srv, cli):
    assert post(srv, "/api/solution", {"text": Q6.read_text()})[1]["markdown"] == cli("explain", Q6).out.rstrip("\n")
    broken = post(srv, "/api/solution", {"text": "kind: cnn\n"})[1]
    assert broken["markdown"] is None and "errors" in broken["error"]


def test_relative_rule_files_resolve_against_the_opened_document(srv, folder):
    text = "kind: cnn\nname: s\ninput: [8, 8, 1]\nlayers:\n  - {type: flatten}\nconstraints: rules.yaml\n"
    (folder / "rules.yaml").write_text("kind: rules\nname: r\ninput: [8, 8, 1]\nconstraints: {linear: {count: 1}}\n")
    with_file = check(srv, text, name="q6-design.yaml")["diagnostics"]
    without = check(srv, text)["diagnostics"]
    assert [d["code"] for d in with_file] == ["rule-count"], with_file
    assert [d["code"] for d in without] == ["rules-file"]


def test_foreign_host_and_origin_are_refused(srv):
    port = srv.server_port
    assert request(srv, "GET", "/", headers={"Host": f"evil.example:{port}"})[0] == 403
    assert request(srv, "GET", "/", headers={"Host": "127.0.0.1:1"})[0] == 403
    assert request(srv, "GET", "/", headers={"Host": None})[0] == 403
    assert request(srv, "GET", "/", headers={"Host": f"localhost:{port}"})[0] == 200
    status, doc = post(srv, "/api/check", {"text": ""}, headers={"Origin": "http://evil.example"})
    assert status == 403 and "refused" in doc["error"]
    assert post(srv, "/api/check", {"text": ""}, headers={"Origin": f"http://127.0.0.1:{port}"})[0] == 200


def test_a_body_over_1mb_is_413(srv):
    status, _, data = request(srv, "POST", "/api/check", b"x" * (2 << 20), {"Content-Type": "application/json"})
    assert status == 413 and "limit" in json.loads(data)["error"]


@pytest.mark.parametrize("body, ctype, status", [
    (b'{"text": ', "application/json", 400), (b"[1, 2]", "application/json", 400),
    (b"\xff\xfe", "application/json", 400), (b'{"text": 3}', "application/json", 400),
    (b'{"text": "kind: cnn"}', "text/plain", 415), (b'{"text": "kind: cnn"}', None, 415),
])
def test_bad_requests_get_json_errors(srv, body, ctype, status):
    got, headers, data = request(srv, "POST", "/api/check", body, {"Content-Type": ctype})
    assert got == status and headers["Content-Type"] == "application/json" and json.loads(data)["error"]


@pytest.mark.parametrize("path", ["/../../etc/passwd", "/static/../server.py", "/static/%2e%2e/api.py",
                                  "/static/", "/static//etc/passwd", "/api.py", "/api/nothing"])
def test_only_the_pages_own_files_are_served(srv, path):
    assert request(srv, "GET", path)[0] == 404


def test_the_page_and_its_policy(srv):
    status, headers, page = request(srv, "GET", "/")
    csp = headers["Content-Security-Policy"]
    assert status == 200 and b'id="editor"' in page and b"<script>" not in page
    script_src = next(p for p in csp.split(";") if p.strip().startswith("script-src"))
    assert script_src.split() == ["script-src", "'self'"]
    for name in ("editor.js", "page.js", "style.css"):
        assert request(srv, "GET", f"/static/{name}")[0] == 200
    assert b"https://" not in request(srv, "GET", "/static/page.js")[2]  # nothing from a CDN


def test_save_writes_back_and_refuses_a_conflict(srv, folder):
    spec = folder / "q2-backprop.yaml"
    listing = json.loads(request(srv, "GET", "/api/documents")[2])
    assert {"name": "q2-backprop.yaml", "writable": True} in listing["documents"]
    status, opened = post(srv, "/api/open", {"name": "q2-backprop.yaml"})
    assert status == 200 and opened["text"] == spec.read_text()
    edited = opened["text"].replace("learning_rate: 0.1", "learning_rate: 0.5")
    status, saved = post(srv, "/api/save", {"name": "q2-backprop.yaml", "text": edited, "version": opened["version"]})
    assert status == 200 and spec.read_text() == edited
    spec.write_text(edited + "# changed by another program\n")
    status, doc = post(srv, "/api/save", {"name": "q2-backprop.yaml", "text": "kind: cnn\n",
                                          "version": saved["version"]})
    assert status == 409 and "changed on disk" in doc["error"] and spec.read_text().endswith("program\n")
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]  # no temporary file left behind
    assert post(srv, "/api/save", {"name": "../etc/passwd", "text": "", "version": ""})[0] == 404


def test_built_in_examples_open_but_do_not_save():
    with running(None) as s:
        listing = json.loads(request(s, "GET", "/api/documents")[2])
        names = [d["name"] for d in listing["documents"]]
        assert listing["start"] == "specs/seed/q6-design.yaml" and "specs/examples/xor-equations.yaml" in names
        status, doc = post(s, "/api/open", {"name": listing["start"]})
        assert status == 200 and doc["text"] == Q6.read_text() and doc["writable"] is False
        status, doc = post(s, "/api/save", {"name": listing["start"], "text": "", "version": doc["version"]})
        assert status == 403 and Q6.read_text().startswith("# yaml-language-server")


def test_dot_that_hangs_is_stopped(tmp_path, monkeypatch):
    from archspec.diagrams.output import RenderFailed, image
    from archspec.validation import load

    fake = tmp_path / "dot"
    fake.write_text("#!/bin/sh\nexec sleep 30\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    from archspec.diagrams import render

    with pytest.raises(RenderFailed, match="longer than 0.5 s"):
        image(render(load(Q6)), "svg", timeout=0.5)


def test_the_command_prints_its_url_and_serves(tmp_path):
    spec = tmp_path / "q6.yaml"
    shutil.copy(Q6, spec)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "archspec", "serve", "--port", "0", str(spec)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = proc.stdout.readline()
        assert line.startswith("archspec serve: http://127.0.0.1:"), line + proc.stderr.read()
        port = int(line.split(":")[3].split("/")[0])
        import http.client

        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("GET", "/api/documents")
        assert json.loads(conn.getresponse().read())["documents"] == [{"name": "q6.yaml", "writable": True}]
    finally:
        proc.terminate()
        proc.wait(10)
        proc.stdout.close()
        proc.stderr.close()


def test_the_command_refuses_what_it_cannot_serve(cli, tmp_path):
    r = cli("serve", "--port", "0", tmp_path / "missing.yaml")
    assert r.code == 2 and "no such file or folder" in r.err
    r = cli("serve", "--port", "0", tmp_path)
    assert r.code == 2 and "no .yaml files" in r.err


@pytest.mark.parametrize("host, loopback", [("127.0.0.1", True), ("::1", True), ("localhost", True),
                                            ("0.0.0.0", False), ("192.168.1.5", False), ("example.org", False)])
def test_only_another_host_than_this_machine_is_warned_about(host, loopback):
    from archspec.commands.serve import _loopback

    assert _loopback(host) is loopback


def test_a_chunked_body_and_a_bug_get_json_answers(srv, monkeypatch, capsys):
    status, _, data = request(srv, "POST", "/api/check", b"", {"Content-Type": "application/json",
                                                               "Transfer-Encoding": "chunked", "Content-Length": None})
    assert status == 411 and "Content-Length" in json.loads(data)["error"]

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr("archspec.serve.api.check", broken)
    status, doc = post(srv, "/api/check", {"text": "kind: cnn\n"})
    assert status == 500 and doc == {"error": "internal error (RuntimeError): a bug"}
    assert "Traceback" in capsys.readouterr().err  # the server's terminal shows it; the page gets one line

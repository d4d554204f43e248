"""What a new user gets wrong first fails every verb the same way: one line, exit 1."""

from __future__ import annotations

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import yaml
from kgitlib import GitRepo, configmap, run_kgit

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.integration

# Every verb that reads kgit.yaml: to plan, or to find the stack and its state namespace.
VERBS_READING_KGIT_YAML = [
    ("plan",),
    ("apply", "--auto-approve"),
    ("history",),
    ("state", "show"),
    ("state", "list"),
    ("state", "rm", "/ConfigMap/x/y"),
    ("force-unlock", "0123abcd", "--force"),
    ("images", "list"),
    ("images", "update", "--dry-run"),
]


@pytest.fixture
def bad_config_repo(tmp_path: Path) -> GitRepo:
    repo = GitRepo(tmp_path / "repo")
    repo.write("kgit.yaml", "stack: web\npaths: [apps\n")
    repo.write("apps/cm.yaml", yaml.safe_dump(configmap("default", "cm", a="1")))
    repo.commit("an invalid kgit.yaml")
    return repo


@pytest.mark.parametrize("verb", VERBS_READING_KGIT_YAML, ids=" ".join)
def test_an_invalid_kgit_yaml_is_one_line_naming_file_and_line(
    verb: tuple[str, ...], bad_config_repo: GitRepo, kubeconfig: str
) -> None:
    run = run_kgit(*verb, kubeconfig=kubeconfig, cwd=bad_config_repo.root)
    assert run.code == 1, run.output
    assert "Traceback" not in run.output
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith("Error: kgit.yaml:"), run.stderr
    assert "kgit.yaml:2" in lines[0] or "kgit.yaml:3" in lines[0], run.stderr


def test_watch_round_reports_an_invalid_kgit_yaml(
    bad_config_repo: GitRepo, kubeconfig: str
) -> None:
    url = f"file://{bad_config_repo.root}"
    run = run_kgit("watch", "--once", "--git-url", url, kubeconfig=kubeconfig)
    assert run.code == 1, run.output
    assert "Traceback" not in run.output
    assert "kgit.yaml:" in run.stdout


def test_a_kubeconfig_that_is_not_yaml_is_one_line(tmp_path: Path, kubeconfig: str) -> None:
    bad = tmp_path / "kubeconfig"
    bad.write_text("apiVersion: v1\nclusters: [\n  - name: x\n")
    run = run_kgit("state", "list", "--state-namespace", "kgit-system", kubeconfig=str(bad))
    assert run.code == 1, run.output
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert str(bad) in lines[0]
    assert "ParserError" not in run.stderr and "unexpected" not in run.stderr


class _HtmlPage(BaseHTTPRequestHandler):
    """A proxy's login page where the API server should be."""

    def do_GET(self) -> None:
        body = (
            b"<!DOCTYPE html><html><body><h1>Please sign in</h1>" + b"x" * 5000 + b"</body></html>"
        )
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def html_server() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _HtmlPage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def _kubeconfig_for(server: str, path: Path) -> str:
    path.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "c", "cluster": {"server": server}}],
                "users": [{"name": "u", "user": {"token": "not-a-secret"}}],
                "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
                "current-context": "x",
            }
        )
    )
    return str(path)


def test_an_html_page_instead_of_the_api_is_one_line(html_server: str, tmp_path: Path) -> None:
    config = _kubeconfig_for(html_server, tmp_path / "kubeconfig")
    run = run_kgit("state", "list", "--state-namespace", "kgit-system", kubeconfig=config)
    assert run.code == 1, run.output
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert "HTML" in lines[0]
    assert "<html" not in run.output.lower() and "sign in" not in run.output.lower()


def test_no_library_warning_reaches_stderr(kubeconfig: str, tmp_path: Path) -> None:
    # Skipping TLS verification makes urllib3 warn on every request; kgit says nothing.
    config = yaml.safe_load(Path(kubeconfig).read_text(encoding="utf-8"))
    for entry in config["clusters"]:
        entry["cluster"].pop("certificate-authority-data", None)
        entry["cluster"].pop("certificate-authority", None)
        entry["cluster"]["insecure-skip-tls-verify"] = True
    insecure = tmp_path / "insecure-kubeconfig"
    insecure.write_text(yaml.safe_dump(config))
    run = run_kgit("state", "list", "--state-namespace", "kgit-system", kubeconfig=str(insecure))
    assert run.code == 0, run.output
    assert run.stderr == ""


def test_secret_tokens_of_the_kubeconfig_never_show(html_server: str, tmp_path: Path) -> None:
    config = _kubeconfig_for(html_server, tmp_path / "kubeconfig")
    run = run_kgit("history", "--stack", "web", "--state-namespace", "x", kubeconfig=config)
    assert run.code == 1
    assert "not-a-secret" not in run.output
    assert base64.b64encode(b"not-a-secret").decode() not in run.output

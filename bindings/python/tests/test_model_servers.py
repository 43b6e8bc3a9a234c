"""The model-server examples with the real servers from PyPI, started on loopback:
examples/mlserver (a runtime that wraps another and verifies first) and examples/kserve (a
kserve.Model whose load() verifies first). A verified model is ready and answers an inference;
a tampered one is never loaded, and the server's log says why."""

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from conftest import REPO

EXAMPLES = REPO / "examples"
BIN = os.path.dirname(sys.executable)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method: str, url: str, body=None) -> tuple[int, str]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


class Server:
    """A server process on loopback, its output in a file, killed at the end of the test."""

    def __init__(self, args, log, cwd, env):
        self.log = log
        self.process = subprocess.Popen(args, cwd=cwd, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)

    def output(self) -> str:
        return self.log.read_text()

    def wait_for(self, url: str, deadline: float = 120) -> None:
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            if self.process.poll() is not None:
                pytest.fail(f"the server exited ({self.process.returncode}):\n{self.output()}")
            try:
                if http("GET", url)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        pytest.fail(f"the server did not answer {url} in {deadline} s:\n{self.output()}")

    def stop(self):
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()


@pytest.fixture
def servers():
    started = []
    yield lambda *a: started.append(Server(*a)) or started[-1]
    for s in started:
        s.stop()


def tampered_copy(model, dest):
    shutil.copytree(model, dest)
    (dest / "model.safetensors").write_bytes(b"not the weights")
    return dest


def test_mlserver_serves_a_verified_model_and_never_loads_a_tampered_one(published_registry, tmp_path, servers):
    p = published_registry
    tampered = tampered_copy(p.model, tmp_path / "tampered-weights")
    repo = tmp_path / "repo"
    http_port = free_port()
    for name, weights in [("tiny", p.model), ("tampered", tampered)]:
        (repo / name).mkdir(parents=True)
        # The settings live apart from the weights: the weights directory holds exactly the
        # signed files.
        (repo / name / "model-settings.json").write_text(json.dumps({
            "name": name,
            "implementation": "verified_runtime.VerifiedRuntime",
            "parameters": {
                "uri": str(weights),
                "extra": {
                    "runtime": "tiny_runtime.TinyRuntime",
                    "manifest": p.reference,
                    "policy": str(p.policy),
                },
            },
        }))
    (repo / "settings.json").write_text(json.dumps({
        "http_port": http_port,
        "grpc_port": free_port(),
        "metrics_port": free_port(),
        "parallel_workers": 0,
        "load_models_at_startup": False,
    }))
    env = dict(os.environ, PYTHONPATH=str(EXAMPLES / "mlserver"))
    server = servers([os.path.join(BIN, "mlserver"), "start", str(repo)], tmp_path / "mlserver.log", repo, env)
    base = f"http://127.0.0.1:{http_port}"
    server.wait_for(f"{base}/v2/health/live")

    status, body = http("POST", f"{base}/v2/repository/models/tiny/load", {})
    assert status == 200, body
    assert http("GET", f"{base}/v2/models/tiny/ready")[0] == 200
    status, body = http("POST", f"{base}/v2/models/tiny/infer", {
        "inputs": [{"name": "x", "shape": [1], "datatype": "INT32", "data": [1]}],
    })
    assert status == 200, body
    assert json.loads(body)["outputs"][0]["data"] == [16]  # the loaded config's hidden_size

    status, body = http("POST", f"{base}/v2/repository/models/tampered/load", {})
    assert status != 200
    assert "modified: model.safetensors" in body, body
    assert http("GET", f"{base}/v2/models/tampered/ready")[0] != 200
    assert "refusing to load model tampered: modified: model.safetensors" in server.output()
    # The verified model is still served.
    assert http("GET", f"{base}/v2/models/tiny/ready")[0] == 200


def kserve_args(name, weights, p, port):
    return [
        sys.executable, str(EXAMPLES / "kserve" / "verified_model.py"),
        "--model_name", name, "--model_dir", str(weights),
        "--manifest", p.reference, "--policy", str(p.policy),
        "--http_port", str(port), "--grpc_port", str(free_port()), "--enable_grpc", "false",
    ]


def test_kserve_serves_a_verified_model(published_registry, tmp_path, servers):
    p = published_registry
    port = free_port()
    server = servers(kserve_args("tiny", p.model, p, port), tmp_path / "kserve.log", tmp_path, dict(os.environ))
    base = f"http://127.0.0.1:{port}"
    server.wait_for(f"{base}/v1/models/tiny")
    status, body = http("GET", f"{base}/v2/models/tiny/ready")
    assert status == 200, body
    status, body = http("POST", f"{base}/v1/models/tiny:predict", {"instances": [1]})
    assert status == 200, body
    assert json.loads(body)["predictions"] == [16]


def test_kserve_never_serves_a_tampered_model(published_registry, tmp_path, servers):
    p = published_registry
    tampered = tampered_copy(p.model, tmp_path / "tampered")
    port = free_port()
    server = servers(kserve_args("tiny", tampered, p, port), tmp_path / "kserve.log", tmp_path, dict(os.environ))
    assert server.process.wait(timeout=120) != 0
    log = server.output()
    assert "refusing to load model tiny: modified: model.safetensors" in log, log
    with pytest.raises(OSError):
        http("GET", f"http://127.0.0.1:{port}/v1/models/tiny")

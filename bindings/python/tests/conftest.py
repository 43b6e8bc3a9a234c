"""Fixtures for the Python bindings' tests: the real `modelseal` binary publishes what the
bindings verify (keys, transparency log, policy, artifacts in a registry or an OCI layout).

Environment (scripts/test.sh sets both):
  MODELSEAL_BIN            the modelseal CLI (default: target/release, then target/debug)
  MODELSEAL_TEST_REGISTRY  host:port of a throwaway registry (scripts/registry.sh)
"""

import os
import pathlib
import re
import shutil
import subprocess
import uuid

import pytest

REPO = pathlib.Path(__file__).resolve().parents[3]
TINY_MODEL = REPO / "examples" / "tiny-model"
VECTORS = REPO.parent / "shared" / "vectors"
ISSUER = "https://publisher.example"


def _binary() -> pathlib.Path:
    env = os.environ.get("MODELSEAL_BIN")
    if env:
        return pathlib.Path(env)
    for profile in ("release", "debug"):
        candidate = REPO / "target" / profile / "modelseal"
        if candidate.is_file():
            return candidate
    pytest.fail("no modelseal binary: set MODELSEAL_BIN or `cargo build` at the repository root")


class Cli:
    """The real modelseal binary."""

    def __init__(self, binary: pathlib.Path):
        self.binary = binary

    def __call__(self, *args, cwd=None) -> str:
        done = subprocess.run(
            [str(self.binary), *map(str, args)],
            cwd=cwd,
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise AssertionError(
                f"modelseal {' '.join(map(str, args))} exited {done.returncode}:\n{done.stderr}"
            )
        return done.stdout

    def keygen(self, dir: pathlib.Path, name: str) -> tuple[pathlib.Path, pathlib.Path]:
        """A fresh ES256 key pair: (NAME.key, NAME.pub)."""
        self("key", "generate", "--alg", "ES256", "-o", dir / name)
        return dir / f"{name}.key", dir / f"{name}.pub"

    def policy(self, path: pathlib.Path, issuer_key, *extra) -> pathlib.Path:
        """A strict policy trusting `issuer_key` for ISSUER in every scope."""
        self("policy", "init", "--issuer-key", issuer_key, "--issuer", ISSUER, *extra, "-o", path)
        return path


@pytest.fixture(scope="session")
def cli() -> Cli:
    return Cli(_binary())


@pytest.fixture(scope="session")
def registry() -> str:
    host = os.environ.get("MODELSEAL_TEST_REGISTRY")
    if not host:
        pytest.fail("MODELSEAL_TEST_REGISTRY is not set: run under scripts/registry.sh (scripts/test.sh does)")
    return host


class Published:
    """A model published with `modelseal publish --files`: where, and the policy that trusts it."""

    def __init__(self, reference, oci_layout, policy, model, dir):
        self.ts_key = dir / "ts" / "service.pub"  # the local transparency log's key
        self.reference = reference
        self.oci_layout = oci_layout
        self.policy = policy
        self.model = model
        self.dir = dir


def _publish(cli: Cli, dir: pathlib.Path, reference: str, oci_layout: bool) -> Published:
    """The tiny model, signed by a fresh key, registered with a local transparency log, pushed
    with its files; the policy requires that key, ISSUER and one receipt from that log."""
    key, public = cli.keygen(dir, "publisher")
    ts = dir / "ts"
    cli("ts", "init", "--accept-any-issuer", "--dir", ts)
    layout_flag = ["--oci-layout"] if oci_layout else []
    cli(
        "publish", TINY_MODEL, *layout_flag, reference,
        "--key", key, "--issuer", ISSUER, "--files", "--ts", f"local:{ts}",
    )
    policy = cli.policy(
        dir / "policy.toml", public, "--ts-key", ts / "service.pub", "--min-receipts", "1"
    )
    model = dir / "model"
    shutil.copytree(TINY_MODEL, model)
    return Published(reference, oci_layout, policy, model, dir)


def unique_repo(prefix: str) -> str:
    return f"{prefix}/{uuid.uuid4().hex[:12]}"


@pytest.fixture
def published_registry(cli, registry, tmp_path) -> Published:
    return _publish(cli, tmp_path, f"{registry}/{unique_repo('py')}:v1", oci_layout=False)


@pytest.fixture
def published_layout(cli, tmp_path) -> Published:
    return _publish(cli, tmp_path, f"{tmp_path / 'layout'}:v1", oci_layout=True)


@pytest.fixture(params=["registry", "layout"])
def published(request) -> Published:
    return request.getfixturevalue(f"published_{request.param}")


def phi(name: str) -> pathlib.Path:
    """A scitt-for-phi vector, in place (never copied)."""
    path = VECTORS / "scitt-for-phi" / name
    if not path.is_file():
        pytest.fail(f"missing shared vector {path}")
    return path


def phi_root(dir: pathlib.Path) -> pathlib.Path:
    """The Microsoft root certificate: the last of the real statement's x5chain (header 33)."""
    import cbor2

    sign1 = cbor2.loads(phi("signed-statement.scitt").read_bytes())
    protected = cbor2.loads(sign1.value[0])
    root = dir / "root.der"
    root.write_bytes(protected[33][-1])
    return root


PHI_DID = "did:x509:0:sha256:I__iuL25oXEVFdTP_aBLx_eT1RPHbCQ_ECBQfYZpt9s::eku:1.3.6.1.4.1.311.76.59.1.1"


def normalised(statement: dict) -> dict:
    """The liberties model-signing takes itself: ignore_paths is a set, shard_size may be a float."""
    ser = statement["predicate"]["serialization"]
    if "ignore_paths" in ser:
        ser["ignore_paths"] = sorted(ser["ignore_paths"])
    if "shard_size" in ser:
        ser["shard_size"] = int(ser["shard_size"])
    return statement


def digest_of(text: str) -> str:
    match = re.search(r"sha256:[0-9a-f]{64}", text)
    assert match, text
    return match.group(0)

"""hash_model against the CLI and model-signing (the peer, in the same venv); verify_statement
and the seed's real artifact (the scitt-for-phi vectors, read in place) under its policy."""

import json
import pathlib
import threading
import time

import pytest

import modelseal
from conftest import PHI_DID, TINY_MODEL, normalised, phi, phi_root


def _model(root: pathlib.Path) -> pathlib.Path:
    model = root / "model"
    (model / "sub").mkdir(parents=True)
    (model / "weights.bin").write_bytes(bytes(range(256)) * 5000)
    (model / "sub" / "config.json").write_text('{"layers": 2}')
    (model / "empty").write_bytes(b"")
    (model / ".gitignore").write_text("*.tmp\n")  # left out, as model-signing does
    return model


def _model_signing(model: pathlib.Path, hash: str = "sha256", shard_size=None, ignore=()) -> dict:
    from google.protobuf import json_format
    import model_signing
    from model_signing._signing import signing

    config = model_signing.hashing.Config()
    if shard_size is None:
        config.use_file_serialization(hashing_algorithm=hash)
    else:
        config.use_shard_serialization(hashing_algorithm=hash, shard_size=shard_size)
    config.set_ignored_paths(paths=list(ignore), ignore_git_paths=True)
    manifest = config.hash(model)
    return json.loads(json_format.MessageToJson(signing.Payload(manifest).statement.pb))


@pytest.mark.parametrize(
    "kwargs, cli_flags, peer",
    [
        ({}, [], {}),
        ({"shard_size": 300_000}, ["--shard-size", "300000"], {"shard_size": 300_000}),
        ({"hash": "blake2b"}, ["--hash", "blake2b"], {"hash": "blake2"}),
    ],
    ids=["files-sha256", "shards", "blake2b"],
)
def test_hash_model_is_the_cli_statement_and_model_signings(cli, tmp_path, kwargs, cli_flags, peer):
    model = _model(tmp_path)
    ours = modelseal.hash_model(model, **kwargs)
    assert ours == json.loads(cli("hash", model, *cli_flags))
    assert normalised(ours) == normalised(_model_signing(model, **peer))
    assert ours["_type"] == "https://in-toto.io/Statement/v1"
    names = {r["name"].split(":")[0] for r in ours["predicate"]["resources"]}  # shards: NAME:START:END
    assert ".gitignore" not in names and "sub/config.json" in names


def test_hash_model_leaves_out_ignored_paths_as_model_signing_does(cli, tmp_path):
    model = _model(tmp_path)
    ours = modelseal.hash_model(model, ignore_paths=["sub"])
    assert "sub/config.json" not in {r["name"] for r in ours["predicate"]["resources"]}
    assert ours == json.loads(cli("hash", model, "--ignore-paths", model / "sub"))
    assert normalised(ours) == normalised(_model_signing(model, ignore=[model / "sub"]))


def test_hash_model_refuses_what_it_cannot_hash(tmp_path):
    with pytest.raises(ValueError):
        modelseal.hash_model(TINY_MODEL, hash="md5")
    with pytest.raises(modelseal.Error):
        modelseal.hash_model(tmp_path / "absent")
    with pytest.raises(modelseal.Error):
        modelseal.hash_model(TINY_MODEL, shard_size=0)


def test_the_gil_is_released_while_hashing(tmp_path):
    big = tmp_path / "big"
    big.mkdir()
    with open(big / "weights.bin", "wb") as f:
        f.truncate(64 << 20)
    # Another thread hashes for at least half a second; this one spins, noting its longest
    # pause. With the GIL held, a pause lasts a whole hash.
    done = threading.Event()
    calls = []

    def work():
        start = time.perf_counter()
        while time.perf_counter() - start < 0.5:
            began = time.perf_counter()
            modelseal.hash_model(big)
            calls.append(time.perf_counter() - began)
        done.set()

    worker = threading.Thread(target=work)
    last = time.perf_counter()
    longest = 0.0
    worker.start()
    while not done.is_set():
        now = time.perf_counter()
        longest = max(longest, now - last)
        last = now
    worker.join()
    slowest = max(calls)
    assert slowest > 0.02, f"a hash took {slowest:.3f}s: too short to tell"
    assert longest < slowest / 2, f"this thread stalled {longest:.3f}s during a {slowest:.3f}s hash"


def test_the_seed_statement_verifies_with_its_root_and_both_services(tmp_path):
    verdict = modelseal.verify_statement(
        phi("2ts-statement.scitt").read_bytes(),
        roots=[phi_root(tmp_path).read_bytes()],
        ts_keys=[phi("ccf-service-key.pem"), str(phi("mmr-service-key.pem"))],
        payload=phi("model-manifest.json"),
        issuer=PHI_DID,
    )
    assert verdict.ok
    assert verdict.issuer == PHI_DID
    assert verdict.subject == "experimental/microsoft/phi-4-reasoning"
    assert [(r.profile, r.verified) for r in verdict.receipts] == [("CCF", True), ("MMR", True)]
    assert verdict.receipts[0].issuer == "esrp-cts-cp.confidential-ledger.azure.com"
    assert verdict.policy is None and verdict.artifact is None


def test_a_statement_signed_by_no_trusted_key_raises(cli, tmp_path):
    _, stranger = cli.keygen(tmp_path, "stranger")
    with pytest.raises(modelseal.VerificationError) as raised:
        modelseal.verify_statement(
            phi("2ts-statement.scitt").read_bytes(),
            keys=[stranger],
            ts_keys=[phi("ccf-service-key.pem"), phi("mmr-service-key.pem")],
        )
    verdict = raised.value.verdict
    assert not verdict.ok and verdict.reasons
    assert any(not c.passed and c.outcome == "fail" for c in verdict.checks)


def test_a_receipt_without_its_service_key_fails(tmp_path):
    with pytest.raises(modelseal.VerificationError) as raised:
        modelseal.verify_statement(
            phi("2ts-statement.scitt").read_bytes(),
            roots=[phi_root(tmp_path)],
            ts_keys=[phi("ccf-service-key.pem")],  # not the MMR log's
            payload=phi("model-manifest.json"),
        )
    receipts = raised.value.verdict.receipts
    assert [(r.profile, r.verified) for r in receipts] == [("CCF", True), ("MMR", False)]


def test_garbage_is_an_error_not_a_verdict():
    with pytest.raises(modelseal.Error) as raised:
        modelseal.verify_statement(b"not cose", keys=[])
    assert not isinstance(raised.value, modelseal.VerificationError)


def _seed_layout(cli, tmp_path) -> str:
    """The seed's manifest pushed and its real transparent statement attached, by the CLI."""
    layout = f"{tmp_path / 'layout'}:v1"
    # pushed from the vectors' directory, so that the layer's title is the file name
    cli("push", "--oci-layout", layout, "model-manifest.json", cwd=phi("model-manifest.json").parent)
    cli("attach", "--oci-layout", layout, phi("2ts-statement.scitt"))
    return layout


def _seed_policy(cli, tmp_path) -> pathlib.Path:
    """Its policy: the Microsoft root and DID, receipts from both of its services."""
    policy = tmp_path / "phi-policy.toml"
    cli(
        "policy", "init", "--issuer-root", phi_root(tmp_path), "--issuer", PHI_DID,
        "--ts-key", phi("ccf-service-key.pem"), "--ts-key", phi("mmr-service-key.pem"),
        "--min-receipts", "2", "-o", policy,
    )
    return policy


def test_the_seed_artifact_verifies_under_its_policy(cli, tmp_path):
    layout = _seed_layout(cli, tmp_path)
    policy = _seed_policy(cli, tmp_path)
    verdict = modelseal.verify_artifact(layout, policy=policy, oci_layout=True)
    assert verdict.ok, verdict.reasons
    assert verdict.issuer == PHI_DID
    assert [r.profile for r in verdict.receipts] == ["CCF", "MMR"]
    assert all(r.verified for r in verdict.receipts)
    # pulled verified: only the manifest travels with it (the weights are not in the vectors)
    dest = tmp_path / "pulled"
    pulled = modelseal.pull_verified(layout, dest, policy=policy, oci_layout=True)
    assert pulled.ok and pulled.warnings
    assert (dest / "model-manifest.json").read_bytes() == phi("model-manifest.json").read_bytes()


def test_the_seed_artifact_fails_when_the_policy_wants_a_third_service(cli, tmp_path):
    layout = _seed_layout(cli, tmp_path)
    key, public = cli.keygen(tmp_path, "other-log")
    policy = tmp_path / "phi-policy.toml"
    cli(
        "policy", "init", "--issuer-root", phi_root(tmp_path), "--issuer", PHI_DID,
        "--ts-key", phi("ccf-service-key.pem"), "--ts-key", phi("mmr-service-key.pem"),
        "--ts-key", public, "--min-receipts", "3", "-o", policy,
    )
    with pytest.raises(modelseal.VerificationError) as raised:
        modelseal.verify_artifact(layout, policy=policy, oci_layout=True)
    assert "receipt" in " ".join(raised.value.verdict.reasons)


def test_a_statement_over_a_model_checks_the_model_files_too(cli, tmp_path):
    key, public = cli.keygen(tmp_path, "publisher")
    model = tmp_path / "model"
    import shutil

    shutil.copytree(TINY_MODEL, model)
    statement = tmp_path / "model.cose"
    # `sign DIR` signs the directory's manifest (the statement model-signing signs)
    cli("sign", model, "--key", key, "--issuer", "https://publisher.example", "--subject", "tiny", "-o", statement)
    verdict = modelseal.verify_statement(statement.read_bytes(), keys=[public.read_bytes()], model=model)
    assert verdict.ok and verdict.issuer == "https://publisher.example" and verdict.subject == "tiny"
    (model / "tokenizer.json").write_text("{}")
    with pytest.raises(modelseal.VerificationError) as raised:
        modelseal.verify_statement(statement.read_bytes(), keys=[public], model=model)
    failed = [c for c in raised.value.verdict.checks if c.outcome == "fail"]
    assert failed and "tokenizer.json" in failed[0].reason, failed

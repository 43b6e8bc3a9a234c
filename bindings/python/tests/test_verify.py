"""verify_model, pull_verified and verify_artifact against models the real CLI published to the
test registry and to OCI layouts: what verifies passes with its checks, and each way it can fail
raises with the reason."""

import pathlib

import pytest

import modelseal
from conftest import ISSUER, TINY_MODEL, unique_repo


def test_a_published_model_verifies_before_load(published):
    verdict = modelseal.verify_model(
        published.model, published.reference, policy=published.policy, oci_layout=published.oci_layout
    )
    assert verdict.ok and verdict.enforced and bool(verdict)
    assert verdict.reasons == []
    assert verdict.issuer == ISSUER
    # publish signs sub = {repository}:{tag}
    assert verdict.subject is not None and verdict.subject.endswith(":v1")
    assert verdict.policy == "default"  # the scope `policy init` writes
    names = [c.name for c in verdict.checks]
    assert "signature" in names and "policy" in names and names[-1] == "model files"
    assert all(c.passed for c in verdict.checks if c.outcome != "skipped"), verdict.checks
    files = verdict.checks[-1]
    assert files.reason == "4 files match the signed manifest" and files.statement is None
    assert [c.statement for c in verdict.checks if c.name == "signature"][0].startswith("sha256:")
    assert len(verdict.receipts) == 1
    receipt = verdict.receipts[0]
    assert receipt.verified and receipt.profile == "RFC 9162" and receipt.verified_by


def test_to_dict_is_plain_data_with_the_library_report(published_layout):
    p = published_layout
    verdict = modelseal.verify_model(p.model, p.reference, policy=p.policy, oci_layout=True)
    d = verdict.to_dict()
    assert d["ok"] is True and d["issuer"] == ISSUER
    assert d["checks"][-1] == {
        "name": "model files",
        "passed": True,
        "outcome": "pass",
        "reason": "4 files match the signed manifest",
        "statement": None,
    }
    assert d["receipts"][0]["verified"] is True
    # the library's report, as `modelseal verify-model --json` prints it
    assert d["report"]["verified"] is True and d["report"]["files"]["matched"] == 4
    import json

    json.dumps(d)  # JSON types only


def test_a_tampered_file_raises_with_the_file_named(published):
    (published.model / "model.safetensors").write_bytes(b"not the weights")
    with pytest.raises(modelseal.VerificationError) as raised:
        modelseal.verify_model(
            published.model, published.reference, policy=published.policy, oci_layout=published.oci_layout
        )
    verdict = raised.value.verdict
    assert not verdict.ok and verdict.enforced
    assert verdict.reasons == ["modified: model.safetensors"]
    assert "modified: model.safetensors" in str(raised.value)
    failed = [c for c in verdict.checks if not c.passed]
    assert [(c.name, c.reason) for c in failed] == [("model files", "modified: model.safetensors")]
    # the statement itself still verified: the signer is known, only the files are wrong
    assert verdict.issuer == ISSUER


def test_an_extra_file_raises(published_layout):
    p = published_layout
    (p.model / "backdoor.py").write_text("import os")
    with pytest.raises(modelseal.VerificationError) as raised:
        modelseal.verify_model(p.model, p.reference, policy=p.policy, oci_layout=True)
    assert raised.value.verdict.reasons == ["extra: backdoor.py"]


def test_an_unknown_signer_raises_with_the_signature_check_failed(cli, published, tmp_path):
    _, stranger = cli.keygen(tmp_path, "stranger")
    # the same log trusted, another publisher's key: only the signer is wrong
    policy = cli.policy(
        tmp_path / "stranger-policy.toml", stranger, "--ts-key", published.ts_key, "--min-receipts", "1"
    )
    with pytest.raises(modelseal.VerificationError) as raised:
        modelseal.verify_model(
            published.model, published.reference, policy=policy, oci_layout=published.oci_layout
        )
    verdict = raised.value.verdict
    assert not verdict.ok
    assert len(verdict.reasons) == 1
    assert "meets the policy" in verdict.reasons[0] and "signature" in verdict.reasons[0]
    signature = [c for c in verdict.checks if c.name == "signature"]
    assert signature and not signature[0].passed and signature[0].outcome == "fail"
    # the files were not compared: the manifest is not trusted
    assert "model files" not in [c.name for c in verdict.checks]


def test_a_missing_receipt_raises_with_the_receipt_count(cli, registry, tmp_path):
    key, public = cli.keygen(tmp_path, "publisher")
    ts = tmp_path / "ts"
    cli("ts", "init", "--accept-any-issuer", "--dir", ts)
    reference = f"{registry}/{unique_repo('noreceipt')}:v1"
    # signed, not registered: no receipt
    cli("publish", TINY_MODEL, reference, "--key", key, "--issuer", ISSUER, "--files")
    policy = cli.policy(
        tmp_path / "policy.toml", public, "--ts-key", ts / "service.pub", "--min-receipts", "1"
    )
    with pytest.raises(modelseal.VerificationError) as raised:
        modelseal.verify_model(TINY_MODEL, reference, policy=policy)
    verdict = raised.value.verdict
    assert "receipt" in verdict.reasons[0], verdict.reasons
    failed = [c for c in verdict.checks if c.outcome == "fail"]
    assert any("receipt" in c.name or "receipt" in c.reason for c in failed), failed
    assert verdict.receipts == []


def test_an_audit_policy_returns_the_failure_instead_of_raising(cli, published_layout, tmp_path):
    p = published_layout
    _, stranger = cli.keygen(tmp_path, "stranger")
    audit = cli.policy(tmp_path / "audit.toml", stranger, "--level", "audit")
    verdict = modelseal.verify_model(p.model, p.reference, policy=audit, oci_layout=True)
    assert not verdict.ok and not verdict.enforced and not bool(verdict)
    assert verdict.reasons


def test_pull_verified_writes_the_verified_model(published, tmp_path):
    dest = tmp_path / "pulled"
    verdict = modelseal.pull_verified(
        ref=published.reference, dest=dest, policy=published.policy, oci_layout=published.oci_layout
    )
    assert verdict.ok
    assert (dest / "model.safetensors").read_bytes() == (TINY_MODEL / "model.safetensors").read_bytes()
    assert sorted(pathlib.Path(w).name for w in verdict.written) == sorted(
        p.name for p in dest.iterdir()
    )
    assert verdict.checks[-1].name == "model files" and verdict.checks[-1].passed
    # and what was pulled verifies before load
    assert modelseal.verify_model(
        dest, published.reference, policy=published.policy, oci_layout=published.oci_layout
    ).ok


def test_pull_verified_writes_nothing_for_an_unknown_signer(cli, published, tmp_path):
    _, stranger = cli.keygen(tmp_path, "stranger")
    policy = cli.policy(tmp_path / "stranger-policy.toml", stranger)
    dest = tmp_path / "pulled"
    with pytest.raises(modelseal.VerificationError) as raised:
        modelseal.pull_verified(published.reference, dest, policy=policy, oci_layout=published.oci_layout)
    assert raised.value.verdict.written == []
    assert not dest.exists() or list(dest.iterdir()) == []


def test_pull_verified_refuses_a_non_empty_destination(published_layout, tmp_path):
    p = published_layout
    dest = tmp_path / "busy"
    dest.mkdir()
    (dest / "old.bin").write_bytes(b"x")
    with pytest.raises(modelseal.Error, match="not empty"):
        modelseal.pull_verified(p.reference, dest, policy=p.policy, oci_layout=True)
    assert [f.name for f in dest.iterdir()] == ["old.bin"]


def test_verify_artifact_checks_the_statements_only(published):
    verdict = modelseal.verify_artifact(
        published.reference, policy=published.policy, oci_layout=published.oci_layout
    )
    assert verdict.ok and verdict.issuer == ISSUER
    assert verdict.checks[-1].name == "policy"


def test_no_policy_is_a_policy_error(published_layout, tmp_path, monkeypatch):
    monkeypatch.setenv("MODELSEAL_POLICY", str(tmp_path / "absent.toml"))
    monkeypatch.setenv("HOME", str(tmp_path))
    p = published_layout
    with pytest.raises(modelseal.PolicyError):
        modelseal.verify_model(p.model, p.reference, oci_layout=True)


def test_an_invalid_policy_is_a_policy_error(published_layout, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("version = 1\n[[policy]]\nname = 'x'\n")  # no scopes
    p = published_layout
    with pytest.raises(modelseal.PolicyError):
        modelseal.verify_model(p.model, p.reference, policy=bad, oci_layout=True)


def test_an_unreachable_registry_is_an_oci_error(published_registry):
    p = published_registry
    with pytest.raises(modelseal.OciError):
        modelseal.verify_model(p.model, "127.0.0.1:9/nothing/here:v1", policy=p.policy)


def test_an_absent_tag_is_an_oci_error(published):
    with pytest.raises(modelseal.OciError):
        modelseal.verify_model(
            published.model,
            published.reference.rsplit(":", 1)[0] + ":absent",
            policy=published.policy,
            oci_layout=published.oci_layout,
        )


def test_exceptions_form_one_hierarchy():
    for cls in (modelseal.VerificationError, modelseal.PolicyError, modelseal.OciError):
        assert issubclass(cls, modelseal.Error)
    assert issubclass(modelseal.Error, Exception)
    assert not issubclass(modelseal.VerificationError, modelseal.PolicyError)


def test_the_api_has_the_signatures_of_issue_16():
    import inspect

    def shape(fn):
        return [(p.name, p.kind.name, p.default) for p in inspect.signature(fn).parameters.values()]

    empty = inspect.Parameter.empty
    assert shape(modelseal.verify_model) == [
        ("path", "POSITIONAL_OR_KEYWORD", empty),
        ("manifest", "POSITIONAL_OR_KEYWORD", empty),
        ("policy", "KEYWORD_ONLY", None),
        ("oci_layout", "KEYWORD_ONLY", False),
    ]
    assert shape(modelseal.pull_verified)[:3] == [
        ("ref", "POSITIONAL_OR_KEYWORD", empty),
        ("dest", "POSITIONAL_OR_KEYWORD", empty),
        ("policy", "KEYWORD_ONLY", None),
    ]
    assert shape(modelseal.hash_model)[:3] == [
        ("path", "POSITIONAL_OR_KEYWORD", empty),
        ("hash", "KEYWORD_ONLY", "sha256"),
        ("shard_size", "KEYWORD_ONLY", None),
    ]
    names = [p[0] for p in shape(modelseal.verify_statement)]
    assert names[0] == "statement" and {"keys", "ts_keys", "payload"} <= set(names)
    for cls, attrs in (
        (modelseal.Verdict, ["ok", "checks", "issuer", "subject", "receipts", "to_dict"]),
        (modelseal.Check, ["name", "passed", "reason"]),
    ):
        assert all(hasattr(cls, a) for a in attrs), cls


def test_the_stubs_name_exactly_what_the_module_has():
    import ast
    import pathlib

    import modelseal._native as native

    stub = pathlib.Path(modelseal.__file__).with_name("_native.pyi")
    assert stub.is_file() and stub.with_name("py.typed").is_file()  # shipped in the wheel
    tree = ast.parse(stub.read_text())
    stubbed = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    public = {n for n in dir(native) if not n.startswith("_")}
    assert stubbed == public
    for cls in (n for n in tree.body if isinstance(n, ast.ClassDef) and n.name in {"Verdict", "Check", "Receipt"}):
        members = {m.name for m in cls.body if isinstance(m, ast.FunctionDef) and not m.name.startswith("__")}
        runtime = {m for m in dir(getattr(native, cls.name)) if not m.startswith("_")}
        assert members == runtime, cls.name
    assert set(modelseal.__all__) == public | {"__version__"}


def test_threads_of_a_server_verify_at_once(published_layout):
    from concurrent.futures import ThreadPoolExecutor

    p = published_layout

    def check(_):
        return modelseal.verify_model(p.model, p.reference, policy=p.policy, oci_layout=True).ok

    with ThreadPoolExecutor(max_workers=4) as pool:
        assert list(pool.map(check, range(8))) == [True] * 8

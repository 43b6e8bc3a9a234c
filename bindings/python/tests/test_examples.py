"""The examples that use the bindings or the CLI: examples/huggingface (verify, then load with a
real loader) and examples/ci (release workflows: valid YAML, and every modelseal command and
flag they use exists)."""

import functools
import importlib.util
import re
import shlex
import subprocess

import pytest
import yaml

import modelseal
from conftest import REPO, TINY_MODEL

EXAMPLES = REPO / "examples"


def _example(name: str):
    path = EXAMPLES / "huggingface" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class RecordingLoader:
    """safetensors' real loader, recording what it was asked to load."""

    def __init__(self):
        self.calls = []

    def __call__(self, directory):
        from safetensors.numpy import load_file

        self.calls.append(directory)
        return load_file(f"{directory}/model.safetensors")


def test_huggingface_example_loads_a_verified_model(published_layout):
    p = published_layout
    example = _example("verified_load")
    loader = RecordingLoader()
    weights, verdict = example.load_verified(p.model, p.reference, policy=p.policy, oci_layout=True, loader=loader)
    assert verdict.ok and loader.calls == [str(p.model)]
    assert weights and all(t.dtype.name == "float32" for t in weights.values())


def test_huggingface_example_never_loads_a_tampered_model(published_layout):
    p = published_layout
    example = _example("verified_load")
    (p.model / "config.json").write_text('{"architectures": ["Evil"]}')
    loader = RecordingLoader()
    with pytest.raises(modelseal.VerificationError, match="modified: config.json"):
        example.load_verified(p.model, p.reference, policy=p.policy, oci_layout=True, loader=loader)
    assert loader.calls == []


def test_huggingface_example_pulls_then_loads(published_registry, tmp_path):
    p = published_registry
    example = _example("verified_load")
    loader = RecordingLoader()
    dest = tmp_path / "pulled"
    weights, verdict = example.pull_then_load(p.reference, dest, policy=p.policy, loader=loader)
    assert verdict.ok and loader.calls == [str(dest)]
    from safetensors.numpy import load_file

    reference = load_file(str(TINY_MODEL / "model.safetensors"))
    assert weights.keys() == reference.keys()
    assert all((weights[k] == reference[k]).all() for k in reference)


# ---------------------------------------------------------------- examples/ci

WORKFLOWS = {
    "github": EXAMPLES / "ci" / "github" / "release-model.yml",
    "gitlab": EXAMPLES / "ci" / "gitlab" / ".gitlab-ci.yml",
}


def _scripts(node):
    """Every shell script in a workflow: GitHub steps' `run`, GitLab jobs' `script` lists."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "run" and isinstance(value, str):
                yield value
            elif key in ("script", "before_script", "after_script"):
                yield from ([value] if isinstance(value, str) else value)
            else:
                yield from _scripts(value)
    elif isinstance(node, list):
        for item in node:
            yield from _scripts(item)


def _modelseal_commands(script: str):
    """The argument lists of each `modelseal ...` command in a script."""
    script = script.replace("\\\n", " ")
    for line in script.splitlines():
        for segment in re.split(r"\|\||&&|[|;]", line):
            words = shlex.split(segment, comments=True)
            if words and words[0] == "modelseal":
                yield words[1:]


@functools.lru_cache(maxsize=None)
def _help(cli_binary, *command) -> str:
    done = subprocess.run([cli_binary, *command, "--help"], capture_output=True, text=True)
    assert done.returncode == 0, f"modelseal {' '.join(command)} --help: {done.stderr}"
    return done.stdout


def _split(cli, args):
    """(subcommand path, flags) of a modelseal command line."""
    command = []
    rest = list(args)
    while rest and not rest[0].startswith("-"):
        text = _help(str(cli.binary), *command)
        if "\nCommands:" not in text:
            break
        assert re.search(rf"^\s+{re.escape(rest[0])}\s", text, re.M), (
            f"modelseal {' '.join(command)} has no command {rest[0]!r}"
        )
        command.append(rest.pop(0))
    flags = [w.split("=", 1)[0] for w in rest if w.startswith("-") and w != "-"]
    return command, flags


@pytest.mark.parametrize("name", WORKFLOWS)
def test_ci_workflow_uses_only_real_commands_and_flags(cli, name):
    workflow = yaml.safe_load(WORKFLOWS[name].read_text())
    commands = [c for s in _scripts(workflow) for c in _modelseal_commands(s)]
    used = {tuple(_split(cli, c)[0]) for c in commands}
    # the release job's heart: log in, publish with a transparency service, verify as a consumer
    assert {("login",), ("publish",), ("policy", "init"), ("discover",), ("pull",)} <= used, used
    publish = [c for c in commands if c[0] == "publish"]
    assert publish and all("--ts" in c and "--files" in c for c in publish)
    for args in commands:
        command, flags = _split(cli, args)
        text = _help(str(cli.binary), *command)
        for flag in flags:
            assert re.search(rf"(?<![\w-]){re.escape(flag)}(?![\w-])", text), (
                f"{WORKFLOWS[name].name}: `modelseal {' '.join(command)}` has no flag {flag}"
            )


def test_the_flag_check_catches_a_flag_that_does_not_exist(cli):
    command, flags = _split(cli, ["publish", "model", "ref", "--sign-harder"])
    text = _help(str(cli.binary), *command)
    assert command == ["publish"] and flags == ["--sign-harder"]
    assert not re.search(r"(?<![\w-])--sign-harder(?![\w-])", text)

"""Verify, then load: a Hugging Face model directory is handed to `from_pretrained` only after
modelseal has checked it against its signed manifest under the trust policy.

    python examples/huggingface/verified_load.py /mnt/models/tiny \\
        registry.example.com/models/tiny:v1 --policy /etc/modelseal/policy.toml

Two ways in:
- the weights are already on disk (a volume, a cache): `load_verified` checks the files in place;
- they are in a registry: `pull_then_load` pulls them with `pull_verified` (nothing unverified
  is written) and loads what was pulled.

`loader` defaults to `transformers.AutoModel.from_pretrained`; any callable taking the directory
works (a pipeline, `AutoModelForCausalLM.from_pretrained`, `safetensors.torch.load_file`).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any, Callable

import modelseal

Loader = Callable[..., Any]


def _from_pretrained() -> Loader:
    from transformers import AutoModel  # imported only when no loader is given

    return AutoModel.from_pretrained


def load_verified(
    path: str | os.PathLike[str],
    manifest: str,
    *,
    policy: str | os.PathLike[str] | None = None,
    oci_layout: bool = False,
    loader: Loader | None = None,
    **load_kwargs: Any,
) -> tuple[Any, modelseal.Verdict]:
    """The model at `path`, loaded only if it verifies against `manifest` (raises
    modelseal.VerificationError otherwise: the loader is never called)."""
    verdict = modelseal.verify_model(path, manifest, policy=policy, oci_layout=oci_layout)
    load = loader or _from_pretrained()
    # Hub-style loaders take the directory; local_files_only keeps from_pretrained off the network.
    if loader is None:
        load_kwargs.setdefault("local_files_only", True)
    return load(os.fspath(path), **load_kwargs), verdict


def pull_then_load(
    reference: str,
    dest: str | os.PathLike[str],
    *,
    policy: str | os.PathLike[str] | None = None,
    oci_layout: bool = False,
    loader: Loader | None = None,
    **load_kwargs: Any,
) -> tuple[Any, modelseal.Verdict]:
    """Pull `reference` into the empty `dest` only if it verifies, then load it."""
    verdict = modelseal.pull_verified(reference, dest, policy=policy, oci_layout=oci_layout)
    load = loader or _from_pretrained()
    if loader is None:
        load_kwargs.setdefault("local_files_only", True)
    return load(os.fspath(dest), **load_kwargs), verdict


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="the model directory to load")
    parser.add_argument("manifest", help="its signed manifest: host/repo:tag (or DIR:tag with --oci-layout)")
    parser.add_argument("--policy", help="the trust policy (default: $MODELSEAL_POLICY)")
    parser.add_argument("--oci-layout", action="store_true")
    args = parser.parse_args()
    try:
        model, verdict = load_verified(
            args.model, args.manifest, policy=args.policy, oci_layout=args.oci_layout
        )
    except modelseal.VerificationError as e:
        print(f"refusing to load {args.model}:", file=sys.stderr)
        for check in e.verdict.checks:
            if not check.passed:
                print(f"  ✘ {check.name}: {check.reason}", file=sys.stderr)
        return 1
    except modelseal.Error as e:
        print(f"cannot verify {args.model}: {e}", file=sys.stderr)
        return 2
    print(f"verified ({verdict.issuer}, {len(verdict.receipts)} receipt(s)); loaded {type(model).__name__}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Type stubs of modelseal's native module (the Rust library through PyO3)."""

import os
from typing import Any, Sequence, Union

_Path = Union[str, "os.PathLike[str]"]
# A key, root certificate or payload: a path to read, or the bytes themselves.
_Material = Union[bytes, str, "os.PathLike[str]"]

__version__: str

class Error(Exception):
    """modelseal could not run: the base of every modelseal exception."""

class VerificationError(Error):
    """Verification ran and failed under an enforcing policy."""

    verdict: Verdict
    """Every check and its reason; ``verdict.reasons`` says why in one line each."""

class PolicyError(Error):
    """No trust policy was found, it is invalid, or it has no scope for the reference."""

class OciError(Error):
    """A registry or OCI layout could not be read (unreachable, refused, malformed, no such tag)."""

class Check:
    """One check of a verification: what was checked, whether it held, and why."""

    @property
    def name(self) -> str:
        """The check in a few words: "signature", "receipt 1", "policy", "model files"."""
    @property
    def passed(self) -> bool:
        """True when the check was made and held (a skipped check is neither passed nor failed)."""
    @property
    def outcome(self) -> str:
        """"pass", "fail" or "skipped"."""
    @property
    def reason(self) -> str:
        """The reason for a failure, or the facts behind a pass."""
    @property
    def statement(self) -> str | None:
        """Digest of the statement (referrer) the check belongs to; None for "policy", "model files"."""

class Receipt:
    """One transparency receipt of the statement."""

    @property
    def index(self) -> int:
        """1-based position in the statement."""
    @property
    def profile(self) -> str | None:
        """"RFC 9162", "CCF", "MMR" or "Rekor"; None when unreadable."""
    @property
    def issuer(self) -> str | None:
        """The receipt's CWT iss (the transparency service)."""
    @property
    def subject(self) -> str | None:
        """The receipt's CWT sub."""
    @property
    def issued_at(self) -> int | None:
        """Registration time the receipt states (unix seconds); trusted only when verified."""
    @property
    def verified(self) -> bool:
        """Verified with a trusted transparency-service key."""
    @property
    def verified_by(self) -> str | None:
        """SHA-256 (hex) of the SPKI of the key that verified it."""
    @property
    def detail(self) -> str:
        """What verified it, or why it did not."""

class Verdict:
    """What a verification found: ``ok``, and the checks behind it. ``bool(verdict) == verdict.ok``."""

    @property
    def ok(self) -> bool:
        """Everything verified."""
    @property
    def enforced(self) -> bool:
        """Whether a failure blocks; False under a policy of level "audit" or "skip" (then the
        functions return a verdict with ``ok == False`` instead of raising)."""
    @property
    def checks(self) -> list[Check]:
        """The statement's checks (the one that met the policy, else every one examined), then
        "policy", then "model files" where files were compared."""
    @property
    def reasons(self) -> list[str]:
        """Why not verified, one line each (empty when ok)."""
    @property
    def warnings(self) -> list[str]:
        """What verified but deserves a word (a pulled artifact without model files)."""
    @property
    def issuer(self) -> str | None:
        """The statement's CWT iss as claimed."""
    @property
    def subject(self) -> str | None:
        """The statement's CWT sub as claimed."""
    @property
    def receipts(self) -> list[Receipt]:
        """The statement's transparency receipts."""
    @property
    def policy(self) -> str | None:
        """The name of the policy scope applied (None for verify_statement)."""
    @property
    def artifact(self) -> str | None:
        """The artifact as its registry or layout names it (None for verify_statement)."""
    @property
    def written(self) -> list[str]:
        """Files pull_verified wrote (empty otherwise)."""
    def to_dict(self) -> dict[str, Any]:
        """Every attribute as plain JSON types, plus "report": the library's full report."""
    def __bool__(self) -> bool: ...

def verify_model(
    path: _Path,
    manifest: str,
    *,
    policy: _Path | None = None,
    oci_layout: bool = False,
) -> Verdict:
    """Check the model at ``path`` against the verified manifest at ``manifest``
    (``host/repo:tag|@digest``, or ``DIR:tag|@digest`` with ``oci_layout=True``) under the trust
    policy (default: $MODELSEAL_POLICY, else ~/.config/modelseal/policy.toml).

    Raises VerificationError when it fails, PolicyError / OciError / Error when it cannot run.
    """

def pull_verified(
    ref: str,
    dest: _Path,
    *,
    policy: _Path | None = None,
    oci_layout: bool = False,
) -> Verdict:
    """Pull the artifact into the empty directory ``dest`` only if it verifies: nothing
    unverified is written. Raises VerificationError (nothing written), PolicyError, OciError, Error."""

def verify_artifact(
    ref: str,
    *,
    policy: _Path | None = None,
    oci_layout: bool = False,
) -> Verdict:
    """Check the statements attached to the artifact against the trust policy, without model
    files (``modelseal discover --verify``). Raises VerificationError, PolicyError, OciError, Error."""

def hash_model(
    path: _Path,
    *,
    hash: str = "sha256",
    shard_size: int | None = None,
    ignore_paths: Sequence[str] = (),
    allow_symlinks: bool = False,
) -> dict[str, Any]:
    """The model's manifest: the in-toto statement model-signing signs, as ``modelseal hash``
    prints it. ``hash``: "sha256", "blake2b" or "blake3"."""

def verify_statement(
    statement: bytes,
    *,
    keys: Sequence[_Material] = (),
    ts_keys: Sequence[_Material] = (),
    roots: Sequence[_Material] = (),
    payload: _Material | None = None,
    model: _Path | None = None,
    issuer: str | None = None,
    subject: str | None = None,
) -> Verdict:
    """Verify a signed or transparent statement (or a Sigstore bundle): the signature by one of
    ``keys`` or an x5chain to one of ``roots``, every receipt by one of ``ts_keys``, the payload
    (detached, or a hash envelope's preimage) and, with ``model``, the model's files.
    Raises VerificationError when a check fails, Error when the input cannot be examined."""

"""modelseal: verify a model before loading it.

The model on disk is checked against a signed model manifest (the in-toto statement
sigstore's model-signing signs) whose SCITT statement, transparency receipts and issuer meet a
trust policy. The work is done by the modelseal Rust library, with the GIL released.

    import modelseal

    verdict = modelseal.verify_model("/mnt/models/tiny", "registry.example.com/models/tiny:v1",
                                     policy="/etc/modelseal/policy.toml")
    model = load(...)  # only reached when verified (VerificationError otherwise)
"""

from ._native import (
    Check,
    Error,
    OciError,
    PolicyError,
    Receipt,
    VerificationError,
    Verdict,
    __version__,
    hash_model,
    pull_verified,
    verify_artifact,
    verify_model,
    verify_statement,
)

__all__ = [
    "Check",
    "Error",
    "OciError",
    "PolicyError",
    "Receipt",
    "VerificationError",
    "Verdict",
    "__version__",
    "hash_model",
    "pull_verified",
    "verify_artifact",
    "verify_model",
    "verify_statement",
]

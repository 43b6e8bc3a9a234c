"""An MLServer runtime that verifies a model before another runtime loads it.

``VerifiedRuntime`` wraps any MLServer runtime. Before the wrapped runtime's ``load()`` runs,
modelseal checks the model directory on disk against the signed manifest of an OCI artifact
(signatures, transparency receipts and bindings under a trust policy, then every file). A model
that does not verify is never loaded, so MLServer never marks it ready, and the error in the
log says why.

Configure it in ``model-settings.json``::

    {
      "name": "tiny",
      "implementation": "verified_runtime.VerifiedRuntime",
      "parameters": {
        "uri": "./tiny",
        "extra": {
          "runtime": "mlserver_sklearn.SKLearnModel",
          "manifest": "registry.example.com/models/tiny:v1",
          "policy": "/etc/modelseal/policy.toml"
        }
      }
    }

``extra.oci_layout: true`` reads ``manifest`` as an OCI layout reference (``DIR:tag``).
"""

import asyncio
import importlib

import modelseal
from mlserver import MLModel
from mlserver.errors import MLServerError
from mlserver.logging import logger
from mlserver.types import InferenceRequest, InferenceResponse
from mlserver.utils import get_model_uri


class ModelNotVerified(MLServerError):
    """The model on disk did not verify: it is not loaded."""

    def __init__(self, name: str, reasons: str):
        super().__init__(f"refusing to load model {name}: {reasons}", status_code=403)


def _runtime_class(path: str):
    module, _, name = path.rpartition(".")
    if not module:
        raise ValueError(f"extra.runtime must be module.Class, not {path!r}")
    return getattr(importlib.import_module(module), name)


class VerifiedRuntime(MLModel):
    """Verifies the model, then delegates everything to the runtime named in ``extra.runtime``."""

    async def load(self) -> bool:
        extra = dict(self.settings.parameters.extra or {})
        manifest = extra.get("manifest")
        if not manifest:
            raise ValueError(f"{self.name}: parameters.extra.manifest is required")
        model_dir = await get_model_uri(self.settings)
        try:
            # modelseal releases the GIL while it hashes; a thread keeps the event loop free.
            verdict = await asyncio.to_thread(
                modelseal.verify_model,
                model_dir,
                manifest,
                policy=extra.get("policy"),
                oci_layout=bool(extra.get("oci_layout", False)),
            )
        except modelseal.VerificationError as e:
            refusal = ModelNotVerified(self.name, "; ".join(e.verdict.reasons) or str(e))
            # MLServer logs only that the load failed: say why where operators look.
            logger.error(str(refusal))
            raise refusal from e
        self._verdict = verdict
        self._inner = _runtime_class(extra["runtime"])(self.settings)
        self.ready = await self._inner.load()
        return self.ready

    async def predict(self, payload: InferenceRequest) -> InferenceResponse:
        return await self._inner.predict(payload)

    async def unload(self) -> bool:
        inner = getattr(self, "_inner", None)
        return await inner.unload() if inner is not None else True

"""A stand-in for a real runtime (sklearn, transformers…): it "loads" the tiny model's
config.json and answers each request with the config's hidden size, so a test can tell that an
inference reached a loaded model."""

import json
import os

from mlserver import MLModel
from mlserver.codecs import NumpyCodec
from mlserver.types import InferenceRequest, InferenceResponse
from mlserver.utils import get_model_uri


class TinyRuntime(MLModel):
    async def load(self) -> bool:
        model_dir = await get_model_uri(self.settings)
        with open(os.path.join(model_dir, "config.json")) as f:
            self._config = json.load(f)
        return True

    async def predict(self, payload: InferenceRequest) -> InferenceResponse:
        import numpy as np

        size = int(self._config.get("hidden_size", 0))
        out = NumpyCodec.encode_output("hidden_size", np.array([size]))
        return InferenceResponse(model_name=self.name, outputs=[out])

"""A KServe model server that verifies its model before it loads it.

``VerifiedModel.load()`` asks modelseal to check the model directory against the signed manifest
of an OCI artifact (signatures, transparency receipts and bindings under the trust policy, then
every file) and loads only what verified. A model that does not verify is never loaded: the
server does not start (KServe refuses to serve no ready model), the log says why, and the
container's readiness probe never passes, so Kubernetes never sends it traffic.

    python verified_model.py --model_name tiny --model_dir /mnt/models \\
        --manifest registry.example.com/models/tiny:v1 --policy /etc/modelseal/policy.toml
"""

import argparse
import json
import logging
import os

import kserve
import modelseal


class VerifiedModel(kserve.Model):
    def __init__(self, name, model_dir, manifest, policy=None, oci_layout=False):
        super().__init__(name)
        self.model_dir = model_dir
        self.manifest = manifest
        self.policy = policy
        self.oci_layout = oci_layout
        self.refusal = None

    def load(self) -> bool:
        try:
            modelseal.verify_model(
                self.model_dir, self.manifest, policy=self.policy, oci_layout=self.oci_layout
            )
        except modelseal.VerificationError as e:
            self.refusal = "; ".join(e.verdict.reasons) or str(e)
            logging.error("refusing to load model %s: %s", self.name, self.refusal)
            self.ready = False
            return False
        # Stand-in for the real loader (transformers, torch…): the config the runtime parses.
        with open(os.path.join(self.model_dir, "config.json")) as f:
            self.config = json.load(f)
        self.ready = True
        return True

    async def predict(self, payload, headers=None):
        return {"predictions": [self.config.get("hidden_size")]}


def main():
    parser = argparse.ArgumentParser(parents=[kserve.model_server.parser])
    parser.add_argument("--model_dir", required=True)
    parser.add_argument("--manifest", required=True, help="host/repo:tag, or DIR:tag with --oci_layout")
    parser.add_argument("--policy", default=None)
    parser.add_argument("--oci_layout", action="store_true")
    args, _ = parser.parse_known_args()
    model = VerifiedModel(
        args.model_name, args.model_dir, args.manifest, args.policy, args.oci_layout
    )
    if not model.load():
        raise SystemExit(f"refusing to serve model {model.name}: {model.refusal}")
    kserve.ModelServer().start([model])


if __name__ == "__main__":
    main()

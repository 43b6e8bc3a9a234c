"""oras-py as the peer OCI client: JSON jobs on stdin, JSON results on stdout (one process)."""
import json
import os
import sys

import oras.client
from oras.oci import Subject

jobs = json.load(sys.stdin)
results = []
for job in jobs:
    client = oras.client.OrasClient(hostname=job["registry"], insecure=True)
    op = job["op"]
    if op == "pull":
        files = client.pull(target=job["target"], outdir=job["outdir"])
        results.append({"files": [os.path.relpath(f, job["outdir"]) for f in files]})
    elif op == "manifest":
        results.append({"manifest": client.get_manifest(job["target"])})
    elif op == "push":
        os.chdir(job["cwd"])
        subject = None
        if job.get("subject_descriptor"):
            d = job["subject_descriptor"]
            subject = Subject(mediaType=d["mediaType"], digest=d["digest"], size=d["size"])
        elif job.get("subject"):
            # oras-py re-serialises the manifest to get its digest: right only for manifests it
            # wrote itself (json.dumps layout), hence subject_descriptor for ours.
            subject = Subject.from_manifest(client.get_manifest(job["subject"]))
        response = client.push(target=job["target"], files=job["files"], subject=subject,
                               disable_path_validation=True)
        results.append({"status": response.status_code})
    elif op == "push_modelpack":
        # A ModelPack artifact as a tool other than modelseal pushes it: raw files with
        # ModelPack media types, the model config, the file path annotations.
        os.chdir(job["cwd"])
        with open("annotations.json", "w") as f:
            json.dump(job["annotations"], f)
        response = client.push(target=job["target"], files=job["files"],
                               manifest_config=job["config"], annotation_file="annotations.json",
                               disable_path_validation=True)
        results.append({"status": response.status_code})
    elif op == "validate_schema":
        import jsonschema
        with open(job["schema"]) as f:
            schema = json.load(f)
        with open(job["document"]) as f:
            document = json.load(f)
        validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
        results.append({"errors": [e.message for e in validator.iter_errors(document)]})
    else:
        raise ValueError(op)
json.dump(results, sys.stdout)

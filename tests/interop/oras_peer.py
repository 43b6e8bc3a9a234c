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
        if job.get("subject"):
            subject = Subject.from_manifest(client.get_manifest(job["subject"]))
        response = client.push(target=job["target"], files=job["files"], subject=subject,
                               disable_path_validation=True)
        results.append({"status": response.status_code})
    else:
        raise ValueError(op)
json.dump(results, sys.stdout)

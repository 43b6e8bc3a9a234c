"""Asks model-signing (the peer, from PyPI) for the statements it would sign.

Reads a JSON list of jobs on stdin, each
  {"model": PATH, "hash": "sha256"|"blake2"|"blake3", "method": "files"|"shards",
   "shard_size": N, "ignore_paths": [paths relative to the model], "ignore_git_paths": bool,
   "allow_symlinks": bool}
and prints a JSON list with, for each job, the statement or {"error": message}.
One process for all jobs, because the peer takes a second to import.
"""
import json
import pathlib
import sys

from google.protobuf import json_format
import model_signing
from model_signing._signing import signing


def statement(job):
    cfg = model_signing.hashing.Config()
    alg = job.get("hash", "sha256")
    if job.get("method", "files") == "shards":
        cfg.use_shard_serialization(hashing_algorithm=alg, shard_size=job["shard_size"])
    else:
        cfg.use_file_serialization(hashing_algorithm=alg)
    cfg.set_ignored_paths(
        paths=job.get("ignore_paths", []), ignore_git_paths=job.get("ignore_git_paths", True)
    )
    cfg.set_allow_symlinks(job.get("allow_symlinks", False))
    manifest = cfg.hash(pathlib.Path(job["model"]))
    return json.loads(json_format.MessageToJson(signing.Payload(manifest).statement.pb))


def main():
    out = []
    for job in json.load(sys.stdin):
        try:
            out.append(statement(job))
        except Exception as e:  # reported per job; the Rust side decides what is expected
            out.append({"error": f"{type(e).__name__}: {e}"})
    json.dump(out, sys.stdout)


main()

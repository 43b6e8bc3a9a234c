"""COSE-receipt jobs for tests/interop_receipts.rs, run by scitt-cose 0.5.0 in one process.

usage: receipt_peer.py JOBS.json  ->  JSON list of results on stdout, one per job, in order.

Jobs (files are paths written by the Rust test; keys are PEM files):
  {"op": "verify_receipt", "receipt": path, "leaf": hex, "pem": path}
      -> {"ok", "failed_at", "errors", "tree_size", "leaf_index", "issuer", "subject", "iat"}
  {"op": "verify_consistency", "old_root": hex, "new_root": hex, "old_size": n, "new_size": n,
   "proof": [hex...]}                                    -> {"ok"}
  {"op": "build_receipt", "entries": [hex...], "index": i, "alg": name, "key": path,
   "out": path}                                          -> {"written": path}
"""
import json
import sys

from scitt_cose import merkle
from scitt_cose.receipt import build_receipt, verify_receipt


def read(path):
    with open(path, "rb") as f:
        return f.read()


def op_verify_receipt(job):
    res = verify_receipt(read(job["receipt"]), leaf_entry_hex=job["leaf"],
                         log_public_key_pem=read(job["pem"]))
    return {"ok": bool(res.ok), "failed_at": res.failed_at, "errors": [str(e) for e in res.errors],
            "tree_size": res.tree_size, "leaf_index": res.leaf_index, "issuer": res.issuer,
            "subject": res.subject, "iat": res.iat}


def op_verify_consistency(job):
    return {"ok": bool(merkle.verify_consistency(job["old_root"], job["new_root"], job["old_size"],
                                                 job["new_size"], job["proof"]))}


def op_build_receipt(job):
    entries = job["entries"]
    receipt = build_receipt(leaf_entry_hex=entries[job["index"]], leaf_index=job["index"],
                            tree_entries_hex=entries, alg=job["alg"],
                            log_private_key_pem=read(job["key"]), iss="https://peer.example",
                            sub="peer-log", kid=b"peer-key", iat=1750000000)
    with open(job["out"], "wb") as f:
        f.write(receipt)
    return {"written": job["out"]}


OPS = {"verify_receipt": op_verify_receipt, "verify_consistency": op_verify_consistency,
       "build_receipt": op_build_receipt}

with open(sys.argv[1]) as f:
    jobs = json.load(f)
json.dump([OPS[j["op"]](j) for j in jobs], sys.stdout)

"""Batch jobs for the SCITT interop tests: JSON list on stdin, JSON list of results on stdout.

Peers: scitt-cose 0.5.0 (strict, independent COSE-receipt verifier) and pycose 1.1.0.
One process for all jobs: Python start-up dominates otherwise.
"""
import json
from cryptography.exceptions import InvalidSignature
import sys

import cbor2
import scitt_cose as sc
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from pycose.headers import KID, Algorithm, ContentType
from pycose.keys import CoseKey
from pycose.messages import Sign1Message


def leaf_of(statement):
    """The RFC 9162 leaf entry of a (transparent) statement, computed here from its bytes and
    not by modelseal: the tagged COSE_Sign1 with its unprotected header emptied."""
    msg = cbor2.loads(statement)
    assert isinstance(msg, cbor2.CBORTag) and msg.tag == 18, "a tagged COSE_Sign1"
    protected, _unprotected, payload, signature = msg.value
    return cbor2.dumps(cbor2.CBORTag(18, [protected, {}, payload, signature])).hex()


def verify_receipt(job):
    leaf = job["leaf"] if "leaf" in job else leaf_of(bytes.fromhex(job["statement"]))
    res = sc.verify_receipt(bytes.fromhex(job["receipt"]), leaf_entry_hex=leaf,
                            log_public_key_pem=job["pem"])
    return {"ok": bool(res.ok), "failed_at": res.failed_at, "errors": [str(e) for e in res.errors],
            "tree_size": res.tree_size, "leaf_index": res.leaf_index}


def pycose_verify(job):
    msg = Sign1Message.decode(bytes.fromhex(job["message"]))
    msg.key = CoseKey.from_pem_public_key(job["pem"])
    # Only a signature that does not verify is a "no"; a message or key pycose cannot read is an
    # error that fails the test (raised), never a silent rejection.
    try:
        return {"ok": bool(msg.verify_signature())}
    except InvalidSignature:  # EdDSA raises where ECDSA returns False
        return {"ok": False, "error": "InvalidSignature"}


def pycose_sign(job):
    alg = job["alg"]
    if alg == "ES256":
        private = ec.generate_private_key(ec.SECP256R1())
        from pycose.algorithms import Es256 as A
    elif alg == "ES384":
        private = ec.generate_private_key(ec.SECP384R1())
        from pycose.algorithms import Es384 as A
    elif alg == "PS256":
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        from pycose.algorithms import Ps256 as A
    elif alg == "EdDSA":
        private = ed25519.Ed25519PrivateKey.generate()
        from pycose.algorithms import EdDSA as A
    else:
        raise ValueError(alg)
    pem_private = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption()).decode()
    pem_public = private.public_key().public_bytes(serialization.Encoding.PEM,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    phdr = {Algorithm: A, KID: b"pycose-key", ContentType: "application/json",
            15: {1: job["iss"], 2: job["sub"], 6: 1750000000}}
    msg = Sign1Message(phdr=phdr, payload=job["payload"].encode())
    msg.key = CoseKey.from_pem_private_key(pem_private)
    return {"message": msg.encode(tag=True).hex(), "pem": pem_public}


OPS = {"verify_receipt": verify_receipt, "pycose_verify": pycose_verify, "pycose_sign": pycose_sign}

jobs = json.load(sys.stdin)
json.dump([OPS[j["op"]](j) for j in jobs], sys.stdout)

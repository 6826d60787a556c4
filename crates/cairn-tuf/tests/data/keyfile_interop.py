"""Key file interoperability between cairn and securesystemslib / cryptography.

Run by crates/cairn-tuf/tests/keyfile.rs with the project venv's Python. Each
command reads a JSON list of jobs on stdin and prints a JSON list of results:

  load    jobs {"path", "passphrase" (str or null), "msg", "sig" (hex), "keyid",
          "key"}: loads a cairn-written PKCS#8 file with cryptography's
          load_pem_private_key, wraps it in securesystemslib's CryptoSigner,
          verifies cairn's signature with the derived public key; an
          unencrypted file is also opened as Signer.from_priv_key_uri("file2:")
          against cairn's "key" and signs; prints the derived {"keyid", "key"}.
  make    jobs {"type" (ed25519|ecdsa|rsa), "path", "passphrase" (str or null)}:
          generates a key with CryptoSigner.generate_*, writes it as PKCS#8 PEM
          (BestAvailableEncryption when a passphrase is given); prints
          {"keyid", "key"}.
  verify  jobs {"keyid", "key", "msg", "sig"}: verifies a signature with
          securesystemslib's SSlibKey; prints true for each.

Any failure raises, so the process exits non-zero with a traceback.
"""

import json
import sys

from cryptography.hazmat.primitives import serialization
from securesystemslib.signer import CryptoSigner, Signature, Signer, SSlibKey


def key_json(key):
    return {"keyid": key.keyid, "key": key.to_dict()}


def load(job):
    with open(job["path"], "rb") as f:
        pem = f.read()
    password = job["passphrase"].encode() if job["passphrase"] is not None else None
    private = serialization.load_pem_private_key(pem, password)
    signer = CryptoSigner(private)
    key = signer.public_key
    key.verify_signature(Signature(key.keyid, job["sig"]), bytes.fromhex(job["msg"]))
    if password is None:
        # The way python-tuf's tools open a key file: by URI, against the public
        # key the metadata lists (here cairn's), which must match the file.
        listed = SSlibKey.from_dict(job["keyid"], dict(job["key"]))
        by_uri = Signer.from_priv_key_uri(f"file2:{job['path']}", listed)
        sig = by_uri.sign(b"signed by python")
        listed.verify_signature(sig, b"signed by python")
    return key_json(key)


def make(job):
    generate = {
        "ed25519": CryptoSigner.generate_ed25519,
        "ecdsa": CryptoSigner.generate_ecdsa,
        "rsa": CryptoSigner.generate_rsa,
    }[job["type"]]
    signer = generate()
    if job["passphrase"] is None:
        encryption = serialization.NoEncryption()
    else:
        encryption = serialization.BestAvailableEncryption(job["passphrase"].encode())
    private = serialization.load_pem_private_key(signer.private_bytes, None)
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )
    with open(job["path"], "wb") as f:
        f.write(pem)
    return key_json(signer.public_key)


def verify(job):
    key = SSlibKey.from_dict(job["keyid"], dict(job["key"]))
    key.verify_signature(Signature(job["keyid"], job["sig"]), bytes.fromhex(job["msg"]))
    return True


def main():
    command = {"load": load, "make": make, "verify": verify}[sys.argv[1]]
    jobs = json.load(sys.stdin)
    json.dump([command(job) for job in jobs], sys.stdout)


if __name__ == "__main__":
    main()

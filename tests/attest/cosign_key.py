"""Writes a key pair in cosign's format, independently of cairn: cosign.key is PEM
"ENCRYPTED SIGSTORE PRIVATE KEY" around go-securesystemslib's encrypted JSON (scrypt
N=32768 r=8 p=1 over a 32-byte salt, then a NaCl secretbox of the PKCS#8 DER), as
`cosign generate-key-pair` writes it; cosign.pub is the SubjectPublicKeyInfo PEM.

  cosign_key.py PREFIX PASSWORD     writes PREFIX.key and PREFIX.pub
"""
import base64
import hashlib
import json
import os
import sys

import nacl.secret
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec


def main():
    prefix, password = sys.argv[1], sys.argv[2].encode()
    key = ec.generate_private_key(ec.SECP256R1())
    der = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    salt = os.urandom(32)
    secret = hashlib.scrypt(password, salt=salt, n=32768, r=8, p=1, dklen=32, maxmem=64 << 20)
    nonce = os.urandom(24)
    box = nacl.secret.SecretBox(secret)
    ciphertext = box.encrypt(der, nonce).ciphertext
    body = json.dumps(
        {
            "kdf": {
                "name": "scrypt",
                "params": {"N": 32768, "r": 8, "p": 1},
                "salt": base64.b64encode(salt).decode(),
            },
            "cipher": {"name": "nacl/secretbox", "nonce": base64.b64encode(nonce).decode()},
            "ciphertext": base64.b64encode(ciphertext).decode(),
        },
        separators=(",", ":"),
    ).encode()
    b64 = base64.b64encode(body).decode()
    lines = [b64[i : i + 64] for i in range(0, len(b64), 64)]
    pem = "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n" + "\n".join(lines)
    pem += "\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n"
    with open(prefix + ".key", "w") as f:
        f.write(pem)
    with open(prefix + ".pub", "wb") as f:
        f.write(
            key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )


if __name__ == "__main__":
    main()

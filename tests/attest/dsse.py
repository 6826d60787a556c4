"""securesystemslib's DSSE, an independent implementation, against cairn's envelopes.

  dsse.py verify FILE PUBKEY.pem    FILE is a DSSE envelope or a Sigstore bundle; prints
                                    the verified payload type and payload sha256
  dsse.py sign KEY.pem PAYLOAD OUT  writes an in-toto envelope securesystemslib signs
"""
import hashlib
import json
import sys

from cryptography.hazmat.primitives.serialization import load_pem_private_key, load_pem_public_key
from securesystemslib.dsse import Envelope
from securesystemslib.signer import CryptoSigner, SSlibKey


def main():
    mode = sys.argv[1]
    if mode == "verify":
        with open(sys.argv[2]) as f:
            data = json.load(f)
        envelope = Envelope.from_dict(data.get("dsseEnvelope", data))
        with open(sys.argv[3], "rb") as f:
            key = SSlibKey.from_crypto(load_pem_public_key(f.read()))
        envelope.verify([key], 1)
        print(envelope.payload_type, hashlib.sha256(envelope.payload).hexdigest())
    elif mode == "sign":
        with open(sys.argv[2], "rb") as f:
            signer = CryptoSigner(load_pem_private_key(f.read(), None))
        with open(sys.argv[3], "rb") as f:
            payload = f.read()
        envelope = Envelope(payload, "application/vnd.in-toto+json", {})
        envelope.sign(signer)
        with open(sys.argv[4], "w") as f:
            json.dump(envelope.to_dict(), f)
    else:
        sys.exit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()

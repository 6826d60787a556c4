#!/usr/bin/env python3
"""Validate SPDX 3.0.1 JSON-LD offline with the SPDX project's generated bindings
(spdx-python-model): every element and property must be of the model (type-checked on
load), every reference must resolve, the one SpdxDocument must exist, and the document
must serialize back (which checks required properties and their counts)."""
import io
import sys

from spdx_python_model.bindings import v3_0_1 as spdx3


def main(path: str) -> int:
    objects = spdx3.SHACLObjectSet()
    with open(path, "rb") as f:
        spdx3.JSONLDDeserializer().read(f, objects)
    unresolved = objects.link()
    if unresolved:
        print(f"unresolved references: {sorted(unresolved)[:10]}")
        return 1
    docs = list(objects.foreach_type(spdx3.SpdxDocument))
    if len(docs) != 1:
        print(f"{len(docs)} SpdxDocument elements, expected one")
        return 1
    spdx3.JSONLDSerializer().write(objects, io.BytesIO())
    print(f"valid SPDX 3.0.1: {len(objects.objects)} objects")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))

#!/usr/bin/env python3
"""Converts pytorch-fid's FID Inception weights to the safetensors file the engine reads.

    python3 tools/inception_to_safetensors.py pt_inception-2015-12-05-6726825d.pth inception.safetensors

The .pth comes from
https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/pt_inception-2015-12-05-6726825d.pth
Needs torch (to unpickle the state dict); key names are kept as they are, and
num_batches_tracked counters are dropped. The output is written in the safetensors layout: an
8-byte little-endian header length, a JSON header, then the raw float32 data.
"""
import json
import struct
import sys

import torch


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    state = torch.load(sys.argv[1], map_location="cpu")
    header, blobs, offset = {}, [], 0
    for name in sorted(state):
        if name.endswith("num_batches_tracked"):
            continue
        data = state[name].detach().to(torch.float32).contiguous().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(state[name].shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    header["__metadata__"] = {"source": "pytorch-fid pt_inception-2015-12-05-6726825d.pth"}
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(sys.argv[2], "wb") as out:
        out.write(struct.pack("<Q", len(text)))
        out.write(text)
        for data in blobs:
            out.write(data)
    print(f"wrote {sys.argv[2]}: {len(blobs)} tensors, {offset / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()

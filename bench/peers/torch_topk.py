"""Peer for issue #7's GPU search benchmark: torch matmul + topk in fp16, the way people do a
brute-force cosine search on a GPU. NOT YET RUN ON A GPU (written without one).

    python3 bench/peers/torch_topk.py [--nq 100000] [--nc 100000] [--dim 384] [--k 10]

Random normal vectors, L2-normalised, fp16 on the device; queries are processed in chunks so the
[chunk, nc] score block fits in memory (the full 100k x 100k fp16 matrix alone is 20 GB). Times
the whole search after one warm-up, with torch.cuda.synchronize(); prints one JSON line.
"""
import argparse
import json
import time

import torch


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--nq", type=int, default=100000)
    p.add_argument("--nc", type=int, default=100000)
    p.add_argument("--dim", type=int, default=384)
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--chunk", type=int, default=16384)
    a = p.parse_args()
    dev = torch.device("cuda")
    g = torch.Generator(device=dev).manual_seed(0)
    q = torch.nn.functional.normalize(torch.randn(a.nq, a.dim, device=dev, generator=g), dim=1).half()
    c = torch.nn.functional.normalize(torch.randn(a.nc, a.dim, device=dev, generator=g), dim=1).half()

    def search():
        scores, ids = [], []
        for s in range(0, a.nq, a.chunk):
            block = q[s : s + a.chunk] @ c.T
            v, i = torch.topk(block, a.k, dim=1)
            scores.append(v)
            ids.append(i)
        return torch.cat(scores), torch.cat(ids)

    search()
    torch.cuda.synchronize()
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        search()
        torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    best = min(times)
    print(json.dumps({
        "peer": "torch fp16 matmul+topk",
        "card": torch.cuda.get_device_name(0),
        "nq": a.nq, "nc": a.nc, "dim": a.dim, "k": a.k,
        "seconds": best,
        "tflops": 2 * a.nq * a.nc * a.dim / best / 1e12,
    }))


if __name__ == "__main__":
    main()

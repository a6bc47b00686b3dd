#!/usr/bin/python3
"""PyTorch CPU baseline for bench/train_bench.cpp: one epoch of a 784-128-10 MLP (ReLU,
softmax cross-entropy, Adam lr 1e-3 with Keras's epsilon 1e-7) on the 60 000 Fashion-MNIST
training images, batches of --batch drawn from a fresh shuffle each epoch, torch.set_num_threads.
Reads the same IDX files (Debian's dataset-fashion-mnist). Prints images/s per epoch and the
median. Needs Debian's python3-torch and python3-numpy; the test suite does not use it.

  /usr/bin/python3 bench/torch_mlp_epoch.py [--batch 32] [--threads 2] [--repeats 5]
"""
import argparse
import gzip
import statistics
import time

import numpy as np
import torch

DATA = "/usr/share/datasets/fashion-mnist"


def read_idx(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    dims = raw[3]
    shape = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--hidden", type=int, default=128)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    x = torch.from_numpy(read_idx(f"{DATA}/train-images-idx3-ubyte.gz").reshape(-1, 784).astype(np.float32) / 255.0)
    y = torch.from_numpy(read_idx(f"{DATA}/train-labels-idx1-ubyte.gz").astype(np.int64))
    n = x.shape[0]
    print(f"torch {torch.__version__}: mlp:{args.hidden}, batch {args.batch}, adam, "
          f"{torch.get_num_threads()} threads, {n} images per epoch")
    rates = []
    for r in range(args.repeats):
        torch.manual_seed(1 + r)
        model = torch.nn.Sequential(torch.nn.Linear(784, args.hidden), torch.nn.ReLU(), torch.nn.Linear(args.hidden, 10))
        opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
        loss_fn = torch.nn.CrossEntropyLoss()
        start = time.perf_counter()
        order = torch.randperm(n)
        correct = 0
        for b in range(0, n, args.batch):
            idx = order[b:b + args.batch]
            xb, yb = x[idx], y[idx]
            opt.zero_grad(set_to_none=True)
            logits = model(xb)
            loss = loss_fn(logits, yb)
            loss.backward()
            opt.step()
            correct += (logits.argmax(1) == yb).sum().item()
        seconds = time.perf_counter() - start
        rates.append(n / seconds)
        print(f"  epoch {r + 1}: {seconds:.3f} s, {n / seconds:.0f} images/s, train accuracy {correct / n:.4f}")
    print(f"median: {statistics.median(rates):.0f} images/s ({n / statistics.median(rates):.3f} s per epoch)")


if __name__ == "__main__":
    main()

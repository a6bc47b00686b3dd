#!/usr/bin/env python3
"""PyTorch anchor for `cuda_bench ... distill`: one distillation epoch of the 784-128-10 student
on the same GPU, the same way cwb trains it: the 60 000 Fashion-MNIST training images in the
order cuda_bench wrote (order.bin), batches of BATCH, the loss
    w T^2 KL(softmax(t / T) || softmax(s / T)) + (1 - w) CE(label, s)   (T = 4, w = 0.5)
against the teacher logits cuda_bench wrote (teacher_logits.bin), Adam (lr 1e-3, Keras's
epsilon 1e-7), from the student's first weights (dense_*.bin). Data on the GPU; float32
(PyTorch's default leaves TF32 off for matrix products); CUDA events around each epoch;
median of three epochs after one warm-up epoch. Also prints the epoch's loss and accuracy.

usage: torch_distill_epoch.py OUT_DIR DATASET_DIR [BATCH=32]
"""
import gzip
import os
import statistics
import sys

import numpy as np
import torch
import torch.nn.functional as F


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    dims = raw[3]
    shape = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def find(folder, stem):
    for name in (stem, stem + ".gz"):
        if os.path.exists(os.path.join(folder, name)):
            return os.path.join(folder, name)
    raise SystemExit(f"{stem} not found in {folder}")


def main():
    out, data = sys.argv[1], sys.argv[2]
    batch = int(sys.argv[3]) if len(sys.argv) > 3 else 32
    dev = torch.device("cuda")
    x = torch.from_numpy(read_idx(find(data, "train-images-idx3-ubyte")).reshape(-1, 784)
                         .astype(np.float32) / 255.0).to(dev)
    y = torch.from_numpy(read_idx(find(data, "train-labels-idx1-ubyte")).astype(np.int64)).to(dev)
    n = x.shape[0]
    teacher = torch.from_numpy(np.fromfile(os.path.join(out, "teacher_logits.bin"),
                                           dtype=np.float32).reshape(n, -1)).to(dev)
    order = torch.from_numpy(np.fromfile(os.path.join(out, "order.bin"), dtype=np.int32)
                             .astype(np.int64)).to(dev)
    T, w = 4.0, 0.5

    def student():
        model = torch.nn.Sequential(torch.nn.Linear(784, 128), torch.nn.ReLU(),
                                    torch.nn.Linear(128, 10)).to(dev)
        with torch.no_grad():
            for layer, name in ((model[0], "dense"), (model[2], "dense_1")):
                k = np.fromfile(os.path.join(out, name + "_kernel.bin"), dtype=np.float32)
                b = np.fromfile(os.path.join(out, name + "_bias.bin"), dtype=np.float32)
                layer.weight.copy_(torch.from_numpy(k.reshape(layer.in_features, -1).T.copy()))
                layer.bias.copy_(torch.from_numpy(b))
        return model

    model = student()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)

    def epoch():
        loss_sum = torch.zeros((), device=dev, dtype=torch.float64)
        correct = torch.zeros((), device=dev, dtype=torch.int64)
        for first in range(0, n, batch):
            idx = order[first:first + batch]
            xb, yb, tb = x[idx], y[idx], teacher[idx]
            opt.zero_grad(set_to_none=True)
            s = model(xb)
            kl = F.kl_div(F.log_softmax(s / T, dim=1), F.log_softmax(tb / T, dim=1),
                          log_target=True, reduction="batchmean")
            loss = w * T * T * kl + (1 - w) * F.cross_entropy(s, yb)
            loss.backward()
            opt.step()
            loss_sum += loss.detach().double() * idx.numel()
            correct += (s.argmax(1) == yb).sum()
        return loss_sum, correct

    times = []
    for r in range(4):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        torch.cuda.synchronize()
        a.record()
        loss_sum, correct = epoch()
        b.record()
        b.synchronize()
        ms = a.elapsed_time(b)
        print(f"  epoch {r + 1}: {ms:.1f} ms, loss {loss_sum.item() / n:.6f}, "
              f"accuracy {correct.item() / n:.4f}" + (" (warm-up)" if r == 0 else ""))
        if r:
            times.append(ms)
    print(f"PyTorch {torch.__version__} eager, batch {batch}: distillation epoch median "
          f"{statistics.median(times):.1f} ms ({n / statistics.median(times) * 1e3:.0f} images/s)")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""PyTorch anchors for bench/cuda_bench, on the same GPU in the same run.

1. The fused pass done the unfused way over N float32 weights: mask, quantize, three
   histograms (torch.histc), sums and counts; torch.histc alone; a device-to-device copy.
2. The networks whose compiled plans cuda_bench wrote (plan_*.json/.bin), as PyTorch ops on
   channels_last tensors: forward of the 10 000 test images at batch 10 000 and 1 000 x 10,
   with TF32 as PyTorch leaves it by default and with TF32 off (plain float32, as cwb).

usage: torch_cuda_anchor.py PLAN_DIR DATASET_DIR [WEIGHTS=1e9]
"""
import glob
import gzip
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F


def timed(fn, repeats=10, warmup=2):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(repeats):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        fn()
        b.record()
        b.synchronize()
        times.append(a.elapsed_time(b))
    times.sort()
    return times[len(times) // 2]


def fused_anchor(n):
    w = torch.randn(n, device="cuda") * 0.05
    rho, alpha = 0.02, 0.01

    def unfused():
        keep = w.abs() >= rho
        q = torch.sign(w) * torch.floor(w.abs() / alpha + 0.5)  # round half away from zero
        v = torch.where(keep, q * alpha, torch.zeros_like(w))
        err = v - w
        h1 = torch.histc(w, 128, -0.15, 0.15)
        h2 = torch.histc(v, 128, -0.15, 0.15)
        h3 = torch.histc(err, 64, -0.006, 0.006)
        s = (w * w).sum(), (err * err).sum(), err.abs().max(), (v == 0).sum(), (w == 0).sum()
        return h1, h2, h3, s

    out = torch.empty_like(w)
    rows = [("PyTorch unfused (mask, quantize, 3 x histc, sums)", timed(unfused, 5)),
            ("torch.histc alone (128 bins)", timed(lambda: torch.histc(w, 128, -0.15, 0.15))),
            ("device-to-device copy (read + write)", timed(lambda: out.copy_(w)))]
    del w, out
    torch.cuda.empty_cache()
    return rows


def load_images(dataset):
    with gzip.open(os.path.join(dataset, "t10k-images-idx3-ubyte.gz")) as f:
        x = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28, 1)
    with gzip.open(os.path.join(dataset, "t10k-labels-idx1-ubyte.gz")) as f:
        y = np.frombuffer(f.read(), np.uint8, offset=8)
    return x.astype(np.float32) / 255.0, y


ACTIVATIONS = {
    "linear": lambda x: x, "relu": F.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh,
    "softmax": lambda x: torch.softmax(x, -1), "elu": F.elu, "selu": F.selu,
    "softplus": F.softplus, "softsign": F.softsign, "swish": F.silu, "silu": F.silu,
    "gelu": F.gelu, "relu6": F.relu6, "exponential": torch.exp,
}


def build(stem):
    plan = json.load(open(stem + ".json"))
    arrays = torch.from_numpy(np.fromfile(stem + ".bin", np.float32)).cuda()
    ops = []
    for op in plan["ops"]:
        get = lambda key: arrays[op[key][0]:op[key][0] + op[key][1]]
        inH, inW, C, kh, kw, sh, sw, outH, outW, pt, pl = op["window"]
        act = ACTIVATIONS[op["activation"].lower()]
        kind = op["kind"]
        if kind == "Conv2D":
            cout = op["outFeatures"]
            w = get("weights").view(kh, kw, C, cout).permute(3, 2, 0, 1).contiguous(
                memory_format=torch.channels_last)
            b = get("bias") if op["bias"][1] else None
            pb = max((outH - 1) * sh + kh - inH, 0) - pt
            pr = max((outW - 1) * sw + kw - inW, 0) - pl

            def f(x, w=w, b=b, s=(sh, sw), pad=(pl, pr, pt, pb), act=act):
                if any(pad):
                    x = F.pad(x, pad)
                return act(F.conv2d(x, w, b, s))
        elif kind == "Dense":
            w, b = get("weights").view(op["inFeatures"], op["outFeatures"]), get("bias")

            def f(x, w=w, b=b, act=act):
                if x.dim() == 4:  # Keras flattens channels_last
                    x = x.permute(0, 2, 3, 1).reshape(x.shape[0], -1)
                y = x @ w
                return act(y + b if b.numel() else y)
        elif kind in ("MaxPool2D", "AvgPool2D"):
            # TF 'same': the extra row/column goes at the bottom/right; padding never wins a max.
            pb = max((outH - 1) * sh + kh - inH, 0) - pt
            pr = max((outW - 1) * sw + kw - inW, 0) - pl
            pad = (pl, pr, pt, pb)
            assert kind == "MaxPool2D" or not any(pad), "padded average pooling is not mapped"
            pool = F.max_pool2d if kind == "MaxPool2D" else F.avg_pool2d

            def f(x, pool=pool, k=(kh, kw), s=(sh, sw), pad=pad):
                if any(pad):
                    x = F.pad(x, pad, value=float("-inf"))
                return pool(x, k, s)
        elif kind == "ChannelAffine":
            s, b = get("scale"), get("bias")

            def f(x, s=s, b=b, act=act):
                shape = (1, -1, 1, 1) if x.dim() == 4 else (1, -1)
                return act(x * s.view(shape) + b.view(shape))
        else:
            def f(x, act=act):
                return act(x)
        ops.append(f)

    def forward(x):
        for f in ops:
            x = f(x)
        return x
    return forward


def main():
    plan_dir, dataset = sys.argv[1], sys.argv[2]
    n = int(float(sys.argv[3])) if len(sys.argv) > 3 else 1_000_000_000
    print(f"GPU: {torch.cuda.get_device_name()}, torch {torch.__version__}")
    print(f"\n## PyTorch on the same GPU: {n} float32 weights\n\n| what | median ms |\n|---|---|")
    for name, ms in fused_anchor(n):
        print(f"| {name} | {ms:.3f} |")

    x, y = load_images(dataset)
    images = torch.from_numpy(x).cuda().permute(0, 3, 1, 2).contiguous(
        memory_format=torch.channels_last)
    torch.backends.cudnn.benchmark = True
    print("\n## PyTorch evaluation of the same plans, data on the GPU\n\n"
          "| model | TF32 | accuracy | batch 10 000 ms | batch 1 000 x 10 ms |\n|---|---|---|---|---|")
    for stem in sorted(glob.glob(os.path.join(plan_dir, "plan_*.json"))):
        stem = stem[:-5]
        forward = build(stem)
        for tf32 in (True, False):
            torch.backends.cudnn.allow_tf32 = tf32
            torch.backends.cuda.matmul.allow_tf32 = tf32
            with torch.no_grad():
                out = forward(images)
                acc = (out.argmax(-1).cpu().numpy() == y).mean()
                whole = timed(lambda: forward(images))
                slices = timed(lambda: [forward(images[i:i + 1000]) for i in range(0, 10000, 1000)])
            print(f"| {os.path.basename(stem)[5:]} | {'default (on)' if tf32 else 'off'} | "
                  f"{acc:.4f} | {whole:.3f} | {slices:.3f} |")


if __name__ == "__main__":
    main()

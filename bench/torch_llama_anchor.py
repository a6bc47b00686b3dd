"""transformers/PyTorch bf16 on TinyLlama-1.1B's shape with random weights (no hub): prefill of
P tokens at batch 1 and at batch 8, and greedy generation of N tokens at batch 1 with the KV
cache, in tokens/s, timed with CUDA synchronisation after warm-up; the anchor for
llm_cuda_bench on the same GPU.  usage: torch_llama_anchor.py [P] [N] [attention]"""
import sys
import time

import torch
from transformers import LlamaConfig, LlamaForCausalLM

P = int(sys.argv[1]) if len(sys.argv) > 1 else 512
N = int(sys.argv[2]) if len(sys.argv) > 2 else 128
ATTN = sys.argv[3] if len(sys.argv) > 3 else "eager"

torch.manual_seed(0)
config = LlamaConfig(hidden_size=2048, intermediate_size=5632, num_hidden_layers=22,
                     num_attention_heads=32, num_key_value_heads=4, vocab_size=32000,
                     max_position_embeddings=2048, rms_norm_eps=1e-5, tie_word_embeddings=False)
config._attn_implementation = ATTN
with torch.device("cuda"):
    model = LlamaForCausalLM(config).to(torch.bfloat16).eval()


def timed(fn, reps=5):
    fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    times.sort()
    return times[len(times) // 2]


ids1 = torch.randint(0, 32000, (1, P), device="cuda")
ids8 = torch.randint(0, 32000, (8, P), device="cuda")


@torch.inference_mode()
def prefill(ids):
    model(ids, use_cache=False, logits_to_keep=1)


@torch.inference_mode()
def generate():
    out = model(ids1[:, :1], use_cache=True)
    past = out.past_key_values
    nxt = out.logits[:, -1:].argmax(-1)
    for _ in range(N - 1):
        out = model(nxt, past_key_values=past, use_cache=True)
        past = out.past_key_values
        nxt = out.logits[:, -1:].argmax(-1)


t1 = timed(lambda: prefill(ids1))
t8 = timed(lambda: prefill(ids8))
tg = timed(generate, reps=3)
print(f"torch {torch.__version__} {torch.cuda.get_device_name()} attention={ATTN}")
print(f"| transformers bf16 ({ATTN}) | prefill {P} x1: {P / t1:.0f} tokens/s | prefill {P} x8: "
      f"{8 * P / t8:.0f} tokens/s | generation {N}: {N / tg:.1f} tokens/s |")

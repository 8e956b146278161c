#!/usr/bin/env bash
# The GPU checks of the "GPU and multi-process training" issue, as one script for a lent GPU machine
# (about 6 minutes on an H100). Prepare here with benchmarks/gpu_wheels.sh, then run it there:
#   run(command="bash benchmarks/gpu_check.sh", carry=[".whl"], timeout_s=540)
# It writes gpu-tests.log and bench.log under $OUT (or ./gpu-check-out without one).
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-gpu-check-out}
mkdir -p "$out"
export PYTHONUNBUFFERED=1 PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
if [ -d .whl ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
    && export PYTHONPATH="/tmp/site:$PYTHONPATH" || exit 1
fi
nvidia-smi -L || echo "nvidia-smi: no NVIDIA GPU visible"
python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(),
torch.cuda.get_device_name(0) if torch.cuda.is_available() else '')"
# 1. the GPU tests (train fp32/bf16/fp16, pinned-memory path, NCCL with 2+ GPUs) and the training tests,
#    whose device auto takes the GPU there (bit-identical resume on cuda in fp32 and fp16 among them)
timeout 240 python3 -m pytest -p no:cacheprovider -q -rs tests/test_gpu.py tests/test_train_loop.py \
  tests/test_train.py 2>&1 | tee "$out/gpu-tests.log"
# 2. images/s: the seed medical network on 2 CPU threads, 2 CPU processes, the GPU in fp32 and bf16
#    (18,000 synthetic 64x64 images: the medical sample is not on that machine)
timeout 270 python3 benchmarks/bench_distributed.py --epochs 3 --rounds 1 --tries 0 --cpu-threads 2 \
  --per-class 3000 2>&1 | tee "$out/bench.log"

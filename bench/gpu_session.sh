#!/usr/bin/env bash
# One full GPU session: build for the local GPU, run the whole test suite (CUDA parity and
# fixture tests included), compute-sanitizer over the vectorised kernels' tests, the benchmarks,
# an Nsight Compute look at the hot kernels and an Nsight Systems summary of a paper256 training
# iteration.
# Output goes to $OUT (or ./gpu-out). Debian packages the build needs can be provided as .deb
# files in .devdeps/ for machines without network access; they are unpacked into /opt/sgdeps.
set -uo pipefail
OUT=${OUT:-gpu-out}
mkdir -p "$OUT"
ARCH=${CUDA_ARCH:-90}
EXTRA=()
if ls .devdeps/*.deb >/dev/null 2>&1; then
  mkdir -p /opt/sgdeps
  for f in .devdeps/*.deb; do dpkg -x "$f" /opt/sgdeps; done
  lib=/opt/sgdeps/usr/lib/x86_64-linux-gnu
  # dpkg -x skips Debian's alternatives links: recreate the ones the linker needs.
  [ -e "$lib/libz.so" ] || ln -sf "$(ls /usr/lib/x86_64-linux-gnu/libz.so.1* 2>/dev/null | head -1)" "$lib/libz.so"
  EXTRA=(DEPS_PREFIX=/opt/sgdeps)
fi
{
  echo "== $(date -u) commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv
  nvcc --version | tail -2
} | tee "$OUT/env.txt"
time make -j16 CUDA_ARCH="$ARCH" "${EXTRA[@]}" build/sg_tests build/sg_bench > "$OUT/build.log" 2>&1 || { tail -40 "$OUT/build.log"; exit 1; }
./build/sg_tests --fixtures-dir=shared/fixtures 2>&1 | tee "$OUT/tests.txt" | grep -vE "^\s*$" | grep -E "ERROR|tests:|safetensors|SKIPPED" | head -60
# compute-sanitizer over the tests of the packed, mapped and guarded kernel paths: out-of-bounds
# and misaligned accesses that the guard bands cannot see (reads).
if command -v compute-sanitizer >/dev/null && [ "${SANITIZE:-1}" = 1 ]; then
  compute-sanitizer --tool memcheck --print-limit 20 ./build/sg_tests --fixtures-dir=shared/fixtures \
    -tc="guard bands*,*kernel layouts*,*every operand layout*,color_transform: CUDA*,reduce: CUDA*" \
    > "$OUT/sanitizer.txt" 2>&1
  tail -5 "$OUT/sanitizer.txt"
fi
./build/sg_bench 2>&1 | tee "$OUT/bench.txt"
# Nsight Compute on one launch of each kernel that a target or an open question is about:
# "kernel name regex|sg_bench --filter" pairs.
if command -v ncu >/dev/null && [ "${NCU:-1}" = 1 ]; then
  : > "$OUT/ncu.txt"
  for pair in "upfirdn2d|upsample2d x2 4x4 float32 [32,64,256,256]" \
              "upfirdn2d|downsample2d x2 4x4 float32 [32,64,256,256]" \
              "upfirdn2d|downsample2d x2 4x4 float16 [32,64,256,256]" \
              "bias_act|bias_act lrelu clamp float32" \
              "bias_act|bias_act lrelu clamp float16" \
              "elementwise_mapped|mul float32 [32,512,64,64] by broadcast" \
              "elementwise_packed|add float16" \
              "reduce|sum dims 0,2,3 float32" \
              "warp_upsampled|bgc p 0.6 forward, images [32,3,256,256]" \
              "warp_upsampled|GGDR features [32,512,64,64]"; do
    echo "== ${pair}" >> "$OUT/ncu.txt"
    ncu --clock-control none -k regex:"${pair%%|*}" -c 1 --section SpeedOfLight --section MemoryWorkloadAnalysis \
        --section LaunchStats --section Occupancy ./build/sg_bench --filter "${pair#*|}" >> "$OUT/ncu.txt" 2>&1
  done
  grep -E "^== |  void |Duration|DRAM Throughput|Compute \(SM\) Throughput|Registers Per|Achieved Occupancy" "$OUT/ncu.txt" | head -80
fi
# Where a paper256 training iteration spends its GPU time: kernels and NVTX ranges (ops and training
# phases) summed over the timed iterations.
if command -v nsys >/dev/null && [ "${NSYS:-1}" = 1 ]; then
  nsys profile -t cuda,nvtx --force-overwrite true -o /tmp/sg_train ./build/sg_bench --filter "train iteration noaug" \
    > "$OUT/nsys_run.txt" 2>&1
  { nsys stats --report cuda_gpu_kern_sum /tmp/sg_train.nsys-rep | head -60
    nsys stats --report nvtx_sum /tmp/sg_train.nsys-rep | head -80; } > "$OUT/nsys_train.txt" 2>&1
  head -40 "$OUT/nsys_train.txt"
fi
# Optional: a training run on Fashion-MNIST (IDX files in .fmnist/) for TRAIN_SECONDS seconds, with
# ADA, GGDR (feature resolution 8) and fid50k_full against a domain classifier at every snapshot.
if [ -n "${TRAIN_SECONDS:-}" ] && [ -f .fmnist/train-images-idx3-ubyte.gz ]; then
  make -j16 CUDA_ARCH="$ARCH" "${EXTRA[@]}" build/train build/dataset_tool build/generate build/train_detector \
    build/visualize_features >> "$OUT/build.log" 2>&1
  ./build/dataset_tool --source=.fmnist/train-images-idx3-ubyte.gz --dest=datasets/fmnist32.zip --resolution=32 --transform=pad | tail -1
  ./build/train_detector --data=datasets/fmnist32.zip --name=fmnist --out=detectors/fmnist32.safetensors 2>&1 | tee "$OUT/detector.txt" | tail -2
  timeout "$TRAIN_SECONDS" ./build/train --outdir=runs --data=datasets/fmnist32.zip --cfg=auto --kimg=${TRAIN_KIMG:-1000} \
    --snap=${TRAIN_SNAP:-5} --grid=16x8 --reg-type=ggdr --ggdr-res=8 --metrics=fid50k_full \
    --detector=detectors/fmnist32.safetensors 2>&1 | tee "$OUT/train.txt" | grep -v "features:" | tail -25
  run=$(ls -d runs/*/ | tail -1)
  cp "$(ls "$run"/fakes0*.png | tail -1)" "$OUT/fakes_last.png"
  tail -3 "$run/stats.jsonl" > "$OUT/stats_tail.jsonl"
  cat "$run"/metric-*.jsonl > "$OUT/metrics.jsonl" 2>/dev/null
  ckpt=$(ls "$run"/network-snapshot-*.safetensors | tail -1)
  ./build/generate --network="$ckpt" --seeds=0-31 --grid=8x4 --outdir="$OUT/generated" && cp "$OUT/generated/grid.png" "$OUT/generate_grid.png" && rm -r "$OUT/generated"
  ./build/visualize_features --network="$ckpt" --seeds=0-15 --out="$OUT/features.png"
fi

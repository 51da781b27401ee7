set -e
SH=moe-dx-T256,moe-dx-T1024,moe-dx-T4096,moe-fwd-T1024,square-512
for i in 1 2; do
  (cd /work/wt-gemm && ./moe bench GemmCpuTime $SH 5 simd > /work/ab/gemm-old-$i.txt 2>&1)
  (cd /work/main && ./moe bench GemmCpuTime $SH 5 simd > /work/ab/gemm-new-$i.txt 2>&1)
  (cd /work/wt-gemm && ./moe bench TopKBench -f 1 -wi 2 -i 5 -w 1 -r 1 -p impl=simd-1t > /work/ab/topk-old-$i.txt 2>&1)
  (cd /work/main && ./moe bench TopKBench -f 1 -wi 2 -i 5 -w 1 -r 1 -p impl=simd-1t > /work/ab/topk-new-$i.txt 2>&1)
done

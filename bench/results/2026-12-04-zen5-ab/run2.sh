SH=moe-dx-T256,moe-dx-T1024,moe-dx-T4096,moe-fwd-T1024
for i in 3 4 5; do
  (cd /work/main && ./moe bench GemmCpuTime $SH 5 simd > /work/ab/gemm-new-$i.txt 2>&1)
  (cd /work/wt-gemm && ./moe bench GemmCpuTime $SH 5 simd > /work/ab/gemm-old-$i.txt 2>&1)
done

/** JMH benchmarks: kernels against the scalar reference and the machine's measured FMA peak. */
package moelab.bench;

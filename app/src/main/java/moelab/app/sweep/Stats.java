package moelab.app.sweep;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Small statistics over runs; NaN values are left out. */
final class Stats {
    private Stats() {}

    static double mean(double[] v) {
        double s = 0;
        int n = 0;
        for (double x : v) if (!Double.isNaN(x)) { s += x; n++; }
        return n == 0 ? Double.NaN : s / n;
    }

    /** Sample standard deviation (n − 1); NaN for fewer than 2 values. */
    static double std(double[] v) {
        double m = mean(v), s = 0;
        int n = 0;
        for (double x : v) if (!Double.isNaN(x)) { s += (x - m) * (x - m); n++; }
        return n < 2 ? Double.NaN : Math.sqrt(s / (n - 1));
    }

    // t(0.975, df) for df = 1..30 (tables); above, the Cornish-Fisher expansion (2.0423 at df 30, exact 2.0423)
    private static final double[] T975 = {12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
            2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060,
            2.056, 2.052, 2.048, 2.045, 2.042};

    /** The 97.5% quantile of Student's t with df degrees of freedom (two-sided 95% intervals). */
    static double tQuantile975(int df) {
        if (df < 1) throw new IllegalArgumentException("t quantile: df " + df + " must be >= 1");
        if (df <= T975.length) return T975[df - 1];
        double z = 1.959964, z3 = z * z * z, z5 = z3 * z * z;
        return z + (z3 + z) / (4.0 * df) + (5 * z5 + 16 * z3 + 3 * z) / (96.0 * df * df);
    }

    static int finitePairs(double[] x, double[] y) {
        int n = 0;
        for (int i = 0; i < x.length; i++) if (Double.isFinite(x[i]) && Double.isFinite(y[i])) n++;
        return n;
    }

    /** Spearman's ρ: Pearson correlation of the ranks (ties get their mean rank) over the pairs where both are finite; NaN for < 3 pairs or a constant side. */
    static double spearman(double[] x, double[] y) {
        List<double[]> pairs = new ArrayList<>();
        for (int i = 0; i < x.length; i++) if (Double.isFinite(x[i]) && Double.isFinite(y[i])) pairs.add(new double[]{x[i], y[i]});
        if (pairs.size() < 3) return Double.NaN;
        double[] a = ranks(pairs.stream().mapToDouble(p -> p[0]).toArray()), b = ranks(pairs.stream().mapToDouble(p -> p[1]).toArray());
        double ma = mean(a), mb = mean(b), sab = 0, saa = 0, sbb = 0;
        for (int i = 0; i < a.length; i++) {
            sab += (a[i] - ma) * (b[i] - mb);
            saa += (a[i] - ma) * (a[i] - ma);
            sbb += (b[i] - mb) * (b[i] - mb);
        }
        return saa == 0 || sbb == 0 ? Double.NaN : sab / Math.sqrt(saa * sbb);
    }

    /** 1-based ranks, ties averaged. */
    static double[] ranks(double[] v) {
        Integer[] idx = new Integer[v.length];
        for (int i = 0; i < v.length; i++) idx[i] = i;
        Arrays.sort(idx, (p, q) -> Double.compare(v[p], v[q]));
        double[] r = new double[v.length];
        for (int i = 0; i < v.length; ) {
            int j = i;
            while (j + 1 < v.length && v[idx[j + 1]] == v[idx[i]]) j++;
            double rank = (i + j) / 2.0 + 1;
            for (int t = i; t <= j; t++) r[idx[t]] = rank;
            i = j + 1;
        }
        return r;
    }
}

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

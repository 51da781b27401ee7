package moelab.app.report;

import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.NumberTickUnit;
import org.jfree.chart.axis.TickUnit;
import org.jfree.chart.axis.TickUnitSource;

import java.io.Serializable;
import java.text.DecimalFormat;
import java.text.DecimalFormatSymbols;
import java.util.Locale;

/**
 * Tick units 1, 2, 5 x 10^k whose labels are plain decimals with exactly the digits the tick size
 * needs: a y range of 5.52671 .. 5.52673 reads "5.526715", never JFreeChart's "5.526715E0".
 */
public final class Ticks implements TickUnitSource, Serializable {
    private static final int[] MANTISSAS = {1, 2, 5};

    /** Puts plain ticks on the axis (used while the axis picks its tick size automatically). */
    public static <A extends NumberAxis> A plain(A axis) {
        axis.setStandardTickUnits(new Ticks());
        return axis;
    }

    /** The label of value v on an axis whose ticks are size apart: as many decimals as size has. */
    public static String label(double v, double size) { return format(size).format(v); }

    @Override public TickUnit getLargerTickUnit(TickUnit unit) { return getCeilingTickUnit(unit.getSize() * 1.001); }

    @Override public TickUnit getCeilingTickUnit(TickUnit unit) { return getCeilingTickUnit(unit.getSize()); }

    @Override public TickUnit getCeilingTickUnit(double size) {
        if (!(size > 0) || !Double.isFinite(size)) size = 1;
        int k = (int) Math.floor(Math.log10(size));
        for (int round = 0; ; round++, k++)
            for (int m : MANTISSAS) {
                double unit = Double.parseDouble(m + "E" + k);              // exact decimal, no 0.30000000000000004
                if (unit >= size * (1 - 1e-9) || round > 1) return new NumberTickUnit(unit, format(unit));
            }
    }

    // decimals of the tick size itself (5E-6 -> 6), grouping for large values (12,000)
    private static DecimalFormat format(double size) {
        int decimals = Math.max(0, -(int) Math.floor(Math.log10(size) + 1e-9));
        DecimalFormat f = new DecimalFormat("#,##0" + (decimals > 0 ? "." + "0".repeat(Math.min(decimals, 15)) : ""),
                DecimalFormatSymbols.getInstance(Locale.ROOT));
        return f;
    }
}

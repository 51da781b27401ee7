package moelab.app.tensorboard;

import moelab.app.report.Metrics;
import moelab.app.tensorboard.proto.Event;
import moelab.app.tensorboard.proto.HistogramProto;
import moelab.app.tensorboard.proto.Summary;
import moelab.train.EvalMetrics;
import moelab.train.StepMetrics;
import moelab.train.TrainListener;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Writes TensorBoard event files into a run folder ({@code events.out.tfevents.<secs>.<host>.<pid>},
 * a new file per process, as TensorBoard's own writers do), so {@code tensorboard --logdir runs}
 * shows every run under its folder name. Tags:
 * <ul>
 * <li>{@code train/loss, train/lm_loss, train/aux_loss, train/lr, train/grad_norm, train/tokens_per_sec}
 *     every step;
 * <li>{@code routing/layer<L>/max_vio, drop_rate, router_entropy, load_entropy} every step, and the
 *     histogram {@code routing/layer<L>/expert_load}: one bucket per expert holding its share of
 *     the step's routes (bucket i spans (i-1, i]: its right edge is the expert index);
 * <li>{@code eval/val_loss}, {@code eval/val_loss/<domain>} and {@code eval/<metric>} for every
 *     probe scalar, at each validation run;
 * <li>{@code plots/<name>}: the run's PNG plots as images, at the last step.
 * </ul>
 * Steps are optimizer steps done, as in metrics.csv. Each record is flushed as written.
 */
public final class EventFileWriter implements TrainListener, AutoCloseable {
    /** TensorBoard finds event files by this part of their name. */
    public static final String NAME_PART = "tfevents";
    private static final String FILE_VERSION = "brain.Event:2";

    private final Path dir;
    private OutputStream out;                           // opened at the first record, after any resume truncation
    private Path file;

    public EventFileWriter(Path runDir) { this.dir = runDir; }

    /** The event file this writer appends to, or null before its first record. */
    public Path file() { return file; }

    @Override
    public void onStep(StepMetrics m) {
        Summary.Builder s = Summary.newBuilder();
        scalar(s, "train/loss", m.loss());
        scalar(s, "train/lm_loss", m.lmLoss());
        scalar(s, "train/aux_loss", m.auxLoss());
        scalar(s, "train/lr", m.lr());
        scalar(s, "train/grad_norm", m.gradNorm());
        scalar(s, "train/tokens_per_sec", m.tokensPerSec());
        for (Metrics.Layer l : Metrics.layers(m.routing())) {
            String p = "routing/layer" + l.layer() + "/";
            scalar(s, p + "max_vio", l.maxVio());
            scalar(s, p + "drop_rate", l.dropRate());
            if (l.routerEntropy() != null) scalar(s, p + "router_entropy", l.routerEntropy());
            scalar(s, p + "load_entropy", l.loadEntropy());
            s.addValue(Summary.Value.newBuilder().setTag(p + "expert_load").setHisto(expertLoad(l.load())));
        }
        write(m.step(), s);
    }

    @Override
    public void onEval(EvalMetrics m) {
        Summary.Builder s = Summary.newBuilder();
        scalar(s, "eval/val_loss", m.loss());
        for (Map.Entry<String, Double> e : m.perDomain().entrySet()) scalar(s, "eval/val_loss/" + e.getKey(), e.getValue());
        for (Map.Entry<String, Double> e : m.scalars().entrySet()) scalar(s, "eval/" + e.getKey(), e.getValue());
        write(m.step(), s);
    }

    /** The run continues from the checkpoint of step lastStep: earlier event files lose the events after it. */
    @Override
    public void onResume(long lastStep) {
        for (Path f : eventFiles(dir)) truncate(f, lastStep);
    }

    /** Adds PNG files (paths relative to the run folder) as images {@code plots/<file name without .png>} at step. */
    public void images(List<String> pngs, long step) {
        Summary.Builder s = Summary.newBuilder();
        for (String rel : pngs) {
            Path p = dir.resolve(rel);
            byte[] png;
            BufferedImage img;
            try {
                png = Files.readAllBytes(p);
                img = ImageIO.read(new java.io.ByteArrayInputStream(png));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read plot " + p + ": " + e.getMessage(), e);
            }
            if (img == null) continue;                  // not an image ImageIO reads: nothing to show
            String name = p.getFileName().toString().replaceFirst("\\.png$", "");
            s.addValue(Summary.Value.newBuilder().setTag("plots/" + name).setImage(Summary.Image.newBuilder()
                    .setHeight(img.getHeight()).setWidth(img.getWidth())
                    .setColorspace(img.getColorModel().hasAlpha() ? 4 : 3)
                    .setEncodedImageString(com.google.protobuf.ByteString.copyFrom(png))));
        }
        if (s.getValueCount() > 0) write(step, s);
    }

    /** The event files of a folder, oldest name first. */
    public static List<Path> eventFiles(Path dir) {
        if (!Files.isDirectory(dir)) return List.of();
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().contains(NAME_PART) && !p.getFileName().toString().endsWith(".tmp"))
                    .sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir + ": " + e.getMessage(), e);
        }
    }

    /** The events of one file, in order (a record cut off at the end is left out). */
    public static List<Event> read(Path f) {
        try (InputStream in = Files.newInputStream(f)) {
            List<Event> out = new ArrayList<>();
            for (byte[] r : RecordFraming.readAll(new java.io.BufferedInputStream(in), f.toString())) out.add(Event.parseFrom(r));
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read event file " + f + ": " + e.getMessage(), e);
        }
    }

    // bucket i holds expert i's share; TensorBoard reads bucket i as the interval (limit[i-1], limit[i]]
    static HistogramProto expertLoad(double[] load) {
        HistogramProto.Builder h = HistogramProto.newBuilder().setMin(0).setMax(load.length - 1);
        double num = 0, sum = 0, sumSq = 0;
        for (int e = 0; e < load.length; e++) {
            h.addBucketLimit(e).addBucket(load[e]);
            num += load[e];
            sum += load[e] * e;
            sumSq += load[e] * e * e;
        }
        return h.setNum(num).setSum(sum).setSumSquares(sumSq).build();
    }

    private static void scalar(Summary.Builder s, String tag, double v) {
        if (Double.isFinite(v)) s.addValue(Summary.Value.newBuilder().setTag(tag).setSimpleValue((float) v));
    }

    private void write(long step, Summary.Builder s) {
        try {
            if (out == null) open();
            RecordFraming.write(out, event(step).setSummary(s).build().toByteArray());
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write TensorBoard events to " + (file != null ? file : dir) + ": " + e.getMessage(), e);
        }
    }

    private static Event.Builder event(long step) {
        return Event.newBuilder().setWallTime(System.currentTimeMillis() / 1000.0).setStep(step);
    }

    private void open() throws IOException {
        String base = "events.out." + NAME_PART + "." + System.currentTimeMillis() / 1000 + "." + host() + "." + ProcessHandle.current().pid();
        Path f = dir.resolve(base);
        for (int i = 1; Files.exists(f); i++) f = dir.resolve(base + "." + i);
        out = new BufferedOutputStream(Files.newOutputStream(f, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE));
        file = f;
        RecordFraming.write(out, event(0).setFileVersion(FILE_VERSION).build().toByteArray());
    }

    private static String host() {
        try {
            return java.net.InetAddress.getLocalHost().getHostName().replaceAll("[^A-Za-z0-9_.-]", "_");
        } catch (IOException e) {
            return "localhost";
        }
    }

    // rewrites f without the summaries of steps after lastStep; atomically (temporary file, then rename)
    private static void truncate(Path f, long lastStep) {
        List<Event> all = read(f);
        Path tmp = f.resolveSibling(f.getFileName() + ".tmp");
        try (OutputStream o = new BufferedOutputStream(Files.newOutputStream(tmp))) {
            for (Event e : all)
                if (!e.hasSummary() || e.getStep() <= lastStep) RecordFraming.write(o, e.toByteArray());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + tmp + ": " + e.getMessage(), e);
        }
        try {
            try {
                Files.move(tmp, f, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, f, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot replace " + f + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        if (out == null) return;
        try {
            out.close();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot close " + file + ": " + e.getMessage(), e);
        }
    }
}

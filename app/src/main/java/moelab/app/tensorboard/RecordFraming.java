package moelab.app.tensorboard;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * TFRecord framing, the container of TensorBoard event files. Each record is
 * <pre>
 *   uint64 length          little-endian
 *   uint32 masked_crc32c(length bytes)
 *   byte   data[length]
 *   uint32 masked_crc32c(data)
 * </pre>
 * where masked(c) = ((c &gt;&gt;&gt; 15) | (c &lt;&lt; 17)) + 0xa282ead8 on 32 bits: TensorFlow masks the CRC
 * so that a CRC of data that itself holds CRCs is not degenerate.
 */
public final class RecordFraming {
    private RecordFraming() {}

    static final int MASK_DELTA = 0xa282ead8;

    /** The masked CRC32C (Castagnoli) of b[off .. off+len). */
    static int maskedCrc(byte[] b, int off, int len) {
        CRC32C c = new CRC32C();
        c.update(b, off, len);
        int crc = (int) c.getValue();
        return ((crc >>> 15) | (crc << 17)) + MASK_DELTA;
    }

    /** Writes one record holding data. */
    public static void write(OutputStream out, byte[] data) throws IOException {
        ByteBuffer head = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(data.length);
        head.putInt(maskedCrc(head.array(), 0, 8));
        ByteBuffer tail = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(maskedCrc(data, 0, data.length));
        out.write(head.array());
        out.write(data);
        out.write(tail.array());
    }

    /**
     * Reads records until the end of the stream. A record cut off at the end (a writer that
     * stopped mid-record) ends the list; a CRC that does not match is an error naming where.
     */
    public static List<byte[]> readAll(InputStream in, String name) throws IOException {
        List<byte[]> out = new ArrayList<>();
        long offset = 0;
        while (true) {
            byte[] head = in.readNBytes(12);
            if (head.length < 12) return out;
            ByteBuffer h = ByteBuffer.wrap(head).order(ByteOrder.LITTLE_ENDIAN);
            long len = h.getLong();
            if (h.getInt() != maskedCrc(head, 0, 8))
                throw new IOException(name + ": record at byte " + offset + ": the length's CRC does not match (not an event file, or damaged)");
            if (len < 0 || len > Integer.MAX_VALUE - 16)
                throw new IOException(name + ": record at byte " + offset + " claims " + len + " bytes");
            byte[] data = in.readNBytes((int) len);
            byte[] crc = in.readNBytes(4);
            if (data.length < len || crc.length < 4) return out;
            if (ByteBuffer.wrap(crc).order(ByteOrder.LITTLE_ENDIAN).getInt() != maskedCrc(data, 0, data.length))
                throw new IOException(name + ": record at byte " + offset + ": the data's CRC does not match (damaged)");
            out.add(data);
            offset += 16 + len;
        }
    }
}

package moelab.app.tensorboard;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class RecordFramingTest {
    @Test
    void crcIsCastagnoliMaskedAsTensorFlowDoes() {
        byte[] check = "123456789".getBytes(StandardCharsets.US_ASCII);
        int crc = 0xE3069283;                                       // the CRC-32C check value of "123456789"
        int masked = ((crc >>> 15) | (crc << 17)) + 0xa282ead8;
        assertEquals(masked, RecordFraming.maskedCrc(check, 0, check.length));
    }

    @Test
    void recordsRoundTripAndACutOffTailEndsTheList() throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        RecordFraming.write(b, new byte[]{1, 2, 3});
        RecordFraming.write(b, new byte[0]);
        RecordFraming.write(b, "x".repeat(300).getBytes(StandardCharsets.US_ASCII));
        byte[] all = b.toByteArray();
        assertEquals(16 + 3 + 16 + 16 + 300, all.length, "8 length + 4 crc + data + 4 crc per record");
        List<byte[]> r = RecordFraming.readAll(new ByteArrayInputStream(all), "t");
        assertEquals(3, r.size());
        assertArrayEquals(new byte[]{1, 2, 3}, r.get(0));
        assertEquals(300, r.get(2).length);
        byte[] cut = java.util.Arrays.copyOf(all, all.length - 10);
        assertEquals(2, RecordFraming.readAll(new ByteArrayInputStream(cut), "t").size(), "a writer stopped mid-record");
        byte[] bad = all.clone();
        bad[13] ^= 1;                                               // a data byte of the first record
        IOException e = assertThrows(IOException.class, () -> RecordFraming.readAll(new ByteArrayInputStream(bad), "f.tfevents"));
        assertTrue(e.getMessage().contains("f.tfevents: record at byte 0") && e.getMessage().contains("CRC"), e.getMessage());
    }
}

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.HexFormat;

/**
 * Run as another uid: connects to a ttrpc socket, sends the request frame given in hex, and prints what came
 * back: "answered N" (N bytes), "closed" (EOF or reset), or "refused" (connect failed).
 */
public class HostileClient {
    public static void main(String[] args) throws Exception {
        SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            ch.connect(UnixDomainSocketAddress.of(args[0]));
        } catch (IOException e) {
            System.out.println("refused " + e.getMessage());
            return;
        }
        Thread.sleep(200);
        try {
            ByteBuffer out = ByteBuffer.wrap(HexFormat.of().parseHex(args[1]));
            while (out.hasRemaining()) {
                ch.write(out);
            }
            ByteBuffer in = ByteBuffer.allocate(4096);
            int n = ch.read(in);
            System.out.println(n < 0 ? "closed" : "answered " + n);
        } catch (IOException e) {
            System.out.println("closed " + e.getMessage());
        }
    }
}

package io.jshim.shim.grpc;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;
import io.jshim.proto.stream.StreamedEvent;
import io.jshim.proto.stream.SubscribeRequest;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import java.io.PrintStream;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@code containerd-shim-jshim-v2 events --address <socket> [--after SEQ | --from-start] [--count N]}: tails the
 * shim's event stream, one line per event (see {@link EventText}). When the shim cuts it off for lagging, it
 * resumes after the last event it printed, so the output has no gap.
 */
public final class EventsCommand {
    private EventsCommand() {}

    public static int run(List<String> args, String defaultAddress, PrintStream out, PrintStream err)
            throws InterruptedException {
        String address = defaultAddress;
        Long after = null;
        long count = Long.MAX_VALUE;
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i).replaceFirst("^--?", "");
            switch (a) {
                case "address" -> address = args.get(++i);
                case "after" -> after = Long.parseLong(args.get(++i));
                case "from-start" -> after = 0L;
                case "count" -> count = Long.parseLong(args.get(++i));
                default -> throw new IllegalArgumentException("events: unknown argument " + args.get(i)
                        + " (usage: events --address <socket> [--after SEQ | --from-start] [--count N])");
            }
        }
        if (address == null || address.isEmpty()) {
            throw new IllegalArgumentException("events: --address <socket> is required");
        }
        String path = address.startsWith("unix://") ? address.substring("unix://".length()) : address;
        QuietBootstrap.apply();
        EventLoopGroup group = EventLoops.newGroup("jshim-events-client");
        ManagedChannel channel = NettyChannelBuilder.forAddress(new DomainSocketAddress(path))
                .channelType(EpollDomainSocketChannel.class)
                .eventLoopGroup(group)
                .usePlaintext()
                .build();
        long printed = 0;
        try {
            while (printed < count) {
                SubscribeRequest.Builder req = SubscribeRequest.newBuilder();
                if (after != null) {
                    req.setAfterSequence(after);
                }
                try {
                    Iterator<StreamedEvent> it = ClientCalls.blockingServerStreamingCall(channel,
                            GrpcEventService.SUBSCRIBE, io.grpc.CallOptions.DEFAULT, req.build());
                    while (printed < count && it.hasNext()) {
                        StreamedEvent e = it.next();
                        out.println(EventText.line(e));
                        out.flush();
                        after = e.getSequence();
                        printed++;
                    }
                    if (printed < count) {
                        return 0; // the shim ended the stream: it is shutting down
                    }
                } catch (StatusRuntimeException e) {
                    if (e.getStatus().getCode() == Status.Code.RESOURCE_EXHAUSTED && after != null) {
                        err.println("events: " + e.getStatus().getDescription() + " (resuming after " + after + ")");
                        continue;
                    }
                    err.println("events: " + e.getStatus().getCode() + ": " + e.getStatus().getDescription());
                    return 1;
                }
            }
            return 0;
        } finally {
            channel.shutdownNow().awaitTermination(2, TimeUnit.SECONDS);
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
    }
}

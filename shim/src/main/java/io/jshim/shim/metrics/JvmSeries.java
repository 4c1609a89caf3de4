package io.jshim.shim.metrics;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.util.List;

/**
 * The daemon's JVM: heap from {@link Runtime}, RSS and threads from /proc ({@link ProcSelf}), collections and their
 * time from the GarbageCollectorMXBeans (the one part of java.lang.management used; what loading it costs is in
 * docs/performance.md).
 */
final class JvmSeries {
    private JvmSeries() {}

    static void write(PromText p) {
        Runtime rt = Runtime.getRuntime();
        p.family("jvm_memory_heap_used_bytes", "gauge", "Java heap in use.")
                .sample("jvm_memory_heap_used_bytes", rt.totalMemory() - rt.freeMemory());
        p.family("jvm_memory_heap_committed_bytes", "gauge", "Java heap committed.")
                .sample("jvm_memory_heap_committed_bytes", rt.totalMemory());
        p.family("jvm_memory_heap_max_bytes", "gauge", "Java heap limit.")
                .sample("jvm_memory_heap_max_bytes", rt.maxMemory());
        List<GarbageCollectorMXBean> gcs = ManagementFactory.getGarbageCollectorMXBeans();
        p.family("jvm_gc_collections_total", "counter", "Garbage collections, by collector.");
        for (GarbageCollectorMXBean gc : gcs) {
            p.sample("jvm_gc_collections_total", Math.max(0, gc.getCollectionCount()), "gc", gc.getName());
        }
        p.family("jvm_gc_collection_seconds_total", "counter", "Time spent in garbage collections, by collector.");
        for (GarbageCollectorMXBean gc : gcs) {
            p.sample("jvm_gc_collection_seconds_total", Math.max(0, gc.getCollectionTime()) / 1000.0, "gc",
                    gc.getName());
        }
        ProcSelf self = ProcSelf.read();
        p.family("process_resident_memory_bytes", "gauge", "Resident set size (VmRSS in /proc/self/status).")
                .sample("process_resident_memory_bytes", self.rssBytes());
        p.family("process_threads", "gauge", "Threads of the daemon process (Threads in /proc/self/status).")
                .sample("process_threads", self.threads());
    }
}

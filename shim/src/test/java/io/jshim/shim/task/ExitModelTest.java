package io.jshim.shim.task;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jshim.shim.process.TaskProcess;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A model-based test of the exit coordinator, independent of runc's timing: seeded random interleavings of
 * create, start, exec start (and its failures), exits of inits and execs in any order, OOM kills, kill --all,
 * Wait, State, Delete and Shutdown, against the invariants of {@link ExitModelChecker} after every step.
 * {@code make test} runs 10,000 schedules, {@code make stress} 1,000,000. A failure prints the seed and the
 * schedule; {@code -Djshim.model.seed=N} replays one seed ({@code -Djshim.model.schedules=N} sets the count).
 */
class ExitModelTest {
    private static final int MAX_CONTAINERS = 3;
    private static final int MAX_EXECS = 4;

    @Test
    void everyScheduleKeepsTheExitInvariants() {
        String one = System.getProperty("jshim.model.seed");
        int schedules = one != null ? 1 : Integer.getInteger("jshim.model.schedules",
                "full".equals(System.getProperty("jshim.scale", "small")) ? 1_000_000 : 10_000);
        long base = one != null ? Long.parseLong(one) : Long.getLong("jshim.model.base", System.nanoTime());
        long t0 = System.nanoTime();
        long cpu0 = java.lang.management.ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime();
        long steps = 0;
        for (int i = 0; i < schedules; i++) {
            long seed = one != null ? base : base + i;
            ExitModel m = new ExitModel(seed);
            try {
                steps += run(m);
            } catch (AssertionError | RuntimeException e) {
                throw new AssertionError("seed " + seed + " (replay: -Djshim.model.seed=" + seed + "): " + e.getMessage()
                        + "\nschedule:\n  " + String.join("\n  ", m.trace), e);
            }
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        double cpu = (java.lang.management.ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime() - cpu0) / 1e9;
        System.out.printf("exit model: %d schedules, %d steps in %.1f s (%.1f s of CPU): %.0f schedules/s, %.0f per CPU second%n",
                schedules, steps, secs, cpu, schedules / secs, schedules / cpu);
        assertTrue(steps > schedules, "schedules that do nothing prove nothing");
    }

    /** One schedule: random steps while the budget lasts, then to quiescence (every process dead, all delivered). */
    private static int run(ExitModel m) {
        int budget = 20 + m.rnd.nextInt(60);
        int steps = 0;
        for (; steps < budget; steps++) {
            List<Runnable> enabled = enabled(m, true);
            if (enabled.isEmpty()) {
                break;
            }
            enabled.get(m.rnd.nextInt(enabled.size())).run();
            m.checker.afterStep();
        }
        while (true) {
            List<Runnable> enabled = enabled(m, false);
            if (enabled.isEmpty()) {
                break;
            }
            enabled.get(m.rnd.nextInt(enabled.size())).run();
            m.checker.afterStep();
            if (++steps > 10_000) {
                throw new AssertionError("no quiescence after 10,000 steps");
            }
        }
        m.checker.atEnd();
        return steps;
    }

    /** The steps that can happen now; {@code requests}: also new requests from containerd. */
    private static List<Runnable> enabled(ExitModel m, boolean requests) {
        List<Runnable> steps = new ArrayList<>();
        for (ExitModel.Rpc rpc : m.inflight) {
            steps.add(() -> {
                m.inflight.remove(rpc);
                if (!rpc.next().getAsBoolean()) {
                    m.inflight.add(rpc); // waits on (Delete of a created init)
                }
            });
        }
        if (!m.reaped.isEmpty()) {
            steps.add(m::deliverExit);
        }
        if (!m.laneRuns.isEmpty()) {
            steps.add(m::runLane);
        }
        for (TaskProcess p : List.copyOf(m.alive.values())) {
            steps.add(() -> m.kill(p, false));
            if (requests) {
                steps.add(() -> m.kill(p, true));
            }
        }
        if (!requests) {
            return steps; // the end: requests in flight finish, live processes die, exits are delivered
        }
        for (ExitModel.Box b : m.boxes) {
            if (b.deleted) {
                continue;
            }
            b.c.execs().stream().filter(e -> m.inflight.stream().noneMatch(r -> r.on() == e))
                    .forEach(e -> steps.add(() -> m.deleteExec(b, e)));
            if (b.busyInit) {
                continue;
            }
            steps.add(() -> m.startInit(b));
            steps.add(() -> m.deleteInit(b));
            if (b.execs < MAX_EXECS) {
                steps.add(() -> m.execStart(b));
            }
            if (b.sharedPidNs) {
                steps.add(() -> m.killAll(b.c)); // Kill(all) from containerd
            }
            steps.add(() -> m.reportOom(b)); // the OOM watcher's own notice
        }
        if (!m.shutDown && m.boxes.stream().filter(b -> !b.deleted).count() < MAX_CONTAINERS
                && m.nextContainer < 2 * MAX_CONTAINERS) {
            steps.add(m::create);
        }
        steps.add(m::shutdown);
        return steps;
    }
}

package io.jshim.shim.task;

import io.jshim.shim.ShimException;
import io.jshim.shim.process.Container;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The shim's live containers, the ids whose Create is in flight, and the admission of new ones against a Shutdown
 * or the idle exit: a grouped shim ends only once it holds no container and none is arriving.
 */
final class ContainerTable {
    private static final Logger log = LoggerFactory.getLogger(ContainerTable.class);

    private final Runnable onShutdown;
    /** Live containers by id; a concurrent map, read by every request without a lock. */
    private final Map<String, Container> containers = new ConcurrentHashMap<>();
    /**
     * Ids whose Create is in flight: reserved so a second Create of the same id is refused at once. Added only
     * under {@link #admission}; removed (after the container is in {@link #containers}, or after a failure) without it.
     */
    private final Set<String> creating = ConcurrentHashMap.newKeySet();
    /**
     * Admission of new containers against Shutdown: guards {@link #shuttingDown}, {@link #idleExit} and the adding of
     * {@link #creating} reservations, so a Create either is reserved before a Shutdown looks (and the Shutdown
     * does nothing) or comes after it and is refused. Never held across runc or I/O.
     */
    private final Object admission = new Object();
    /** Set by the Shutdown that found no container: the shim is exiting and takes no more. Guarded by admission. */
    private boolean shuttingDown;
    /** Ends the shim after a grace period holding no container; null for never. Armed and disarmed under admission. */
    private IdleExit idleExit;

    /** @param onShutdown called once a Shutdown (or the idle exit) finds no container left */
    ContainerTable(Runnable onShutdown) {
        this.onShutdown = onShutdown;
    }

    /** The container {@code id}, or NotFound. */
    Container get(String id) {
        Container c = containers.get(id);
        if (c == null) {
            throw ShimException.notFound("container not created: not found");
        }
        return c;
    }

    Optional<Container> find(String id) {
        return Optional.ofNullable(containers.get(id));
    }

    int size() {
        return containers.size();
    }

    /** The live containers now (a copy, for the metrics). */
    java.util.List<Container> all() {
        return java.util.List.copyOf(containers.values());
    }

    /** Reserves {@code id} for a Create: refused while shutting down or when the id is taken or being created. */
    void reserve(String id) {
        synchronized (admission) {
            if (shuttingDown) {
                throw ShimException.failedPrecondition("container " + id + ": the shim is shutting down");
            }
            if (containers.containsKey(id) || !creating.add(id)) {
                throw ShimException.alreadyExists("container " + id + ": already exists");
            }
            if (idleExit != null) {
                idleExit.disarm();
            }
        }
    }

    /** Ends {@code id}'s reservation, its Create done or failed; a failed Create may leave the shim empty. */
    void release(String id) {
        creating.remove(id);
        armIdleExitIfEmpty();
    }

    void put(Container c) {
        containers.put(c.id(), c);
    }

    /** Removes {@code c} (not a later container of its id). */
    void remove(Container c) {
        containers.remove(c.id(), c);
    }

    /** A Shutdown: ends the shim only when it holds no container (a grouped shim lives until its last is deleted). */
    void shutdown() {
        synchronized (admission) {
            if (shuttingDown || !containers.isEmpty() || !creating.isEmpty()) {
                return; // a live or arriving container keeps the shim; a repeat is a no-op
            }
            shuttingDown = true;
        }
        log.info("shutdown: no container left");
        onShutdown.run();
    }

    /** From now on the shim exits by itself after {@code idle}'s grace period without a container. */
    void exitWhenIdle(IdleExit idle) {
        synchronized (admission) {
            idleExit = idle;
        }
        armIdleExitIfEmpty();
    }

    /** Arms the idle exit if the shim now holds no container and none is arriving (after a Delete). */
    void armIdleExitIfEmpty() {
        synchronized (admission) {
            if (idleExit != null && !shuttingDown && containers.isEmpty() && creating.isEmpty()) {
                idleExit.arm(this::idleExpired);
            }
        }
    }

    /** The grace period ran out: a Shutdown, if nothing came meanwhile (checked under admission, as Shutdown does). */
    private void idleExpired(IdleExit.Ticket ticket) {
        synchronized (admission) {
            if (shuttingDown || !containers.isEmpty() || !creating.isEmpty() || !ticket.current()) {
                return;
            }
            shuttingDown = true;
        }
        log.info("no container for {} ms: shutting down", ticket.owner().grace().toMillis());
        onShutdown.run();
    }
}

package io.jshim.shim.task;

import io.jshim.proto.wkt.Any;
import io.jshim.proto.wire.InvalidProtoException;
import io.jshim.proto.runc.CheckpointOptions;
import io.jshim.proto.task.CheckpointTaskRequest;
import io.jshim.proto.task.CreateTaskRequest;
import io.jshim.shim.ShimException;
import io.jshim.shim.process.Container;
import io.jshim.shim.runc.Runc;
import io.jshim.shim.runc.RuncException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Checkpoint and restore: the images Creates name for their Start to restore from, the Checkpoint options (both
 * runc's and the legacy containerd.linux.runc type), and the runc checkpoint a Checkpoint request runs.
 */
final class Checkpoints {
    /** An image to restore from, with its parent for an incremental checkpoint. */
    record Image(Path path, Optional<Path> parent) {}

    /**
     * The image named by Create, by container id, for containers to be restored at Start. A concurrent map: put by
     * the Create before the container is published, read by its Start, removed by its Delete (those two under the
     * init's lifecycle lock).
     */
    private final Map<String, Image> images = new ConcurrentHashMap<>();

    /** Records the image {@code r} names for {@code id}'s Start. */
    void remember(String id, CreateTaskRequest r) {
        images.put(id, new Image(Path.of(r.getCheckpoint()),
                r.getParentCheckpoint().isEmpty() ? Optional.empty() : Optional.of(Path.of(r.getParentCheckpoint()))));
    }

    Image image(String id) {
        return images.get(id);
    }

    void forget(String id) {
        images.remove(id);
    }

    /** The request's options, the legacy type mapped onto runc's; InvalidArgument for another type or bad bytes. */
    static CheckpointOptions options(CheckpointTaskRequest r) {
        if (!r.hasOptions() || r.getOptions().getValue().isEmpty()) {
            return CheckpointOptions.getDefaultInstance();
        }
        Any any = r.getOptions();
        String type = any.getTypeUrl().substring(any.getTypeUrl().lastIndexOf('/') + 1);
        try {
            return switch (type) {
                case "containerd.runc.v1.CheckpointOptions" -> CheckpointOptions.parseFrom(any.getValue());
                case "containerd.linux.runc.CheckpointOptions" -> {
                    var l = io.jshim.proto.runc.legacy.CheckpointOptions.parseFrom(any.getValue());
                    yield CheckpointOptions.newBuilder().setExit(l.getExit()).setOpenTcp(l.getOpenTcp())
                            .setExternalUnixSockets(l.getExternalUnixSockets()).setTerminal(l.getTerminal())
                            .setFileLocks(l.getFileLocks()).addAllEmptyNamespaces(l.getEmptyNamespacesList())
                            .setCgroupsMode(l.getCgroupsMode()).setImagePath(l.getImagePath())
                            .setWorkPath(l.getWorkPath()).build();
                }
                default -> throw ShimException.invalidArgument("unsupported checkpoint options type " + any.getTypeUrl());
            };
        } catch (InvalidProtoException e) {
            throw ShimException.invalidArgument("malformed checkpoint options: " + e.getMessage());
        }
    }

    /**
     * Checkpoints {@code c} to the image {@code o} or {@code r} names; a work directory of our own is removed after.
     * The caller holds the init's lifecycle lock and has checked the state.
     */
    static void checkpoint(Container c, CheckpointTaskRequest r, CheckpointOptions o) {
        String image = !o.getImagePath().isEmpty() ? o.getImagePath() : r.getPath();
        if (image.isEmpty()) {
            throw ShimException.invalidArgument("checkpoint: an image path is required");
        }
        Path work = !o.getWorkPath().isEmpty() ? Path.of(o.getWorkPath())
                : c.bundle().resolve("work").resolve("criu-work");
        try {
            Files.createDirectories(work);
            c.runc().checkpoint(c.id(), new Runc.CheckpointArgs(Path.of(image), work,
                    o.getParentPath().isEmpty() ? Optional.empty() : Optional.of(Path.of(o.getParentPath())),
                    !o.getExit(), o.getOpenTcp(), o.getExternalUnixSockets(), o.getTerminal(), o.getFileLocks(),
                    o.getEmptyNamespacesList(), o.getCgroupsMode()));
        } catch (RuncException | IOException e) {
            throw ShimException.unknown("OCI runtime checkpoint failed: " + e.getMessage());
        } finally {
            if (o.getWorkPath().isEmpty()) {
                Quietly.deleteTree(work);
            }
        }
    }
}

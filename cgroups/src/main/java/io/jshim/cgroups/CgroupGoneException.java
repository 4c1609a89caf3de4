package io.jshim.cgroups;

import java.nio.file.NoSuchFileException;

/** The cgroup was deleted (its container is gone): Stats of a deleted container fails with this. */
public final class CgroupGoneException extends NoSuchFileException {

    private static final long serialVersionUID = 1L;

    public CgroupGoneException(String cgroup) {
        super(cgroup, null, "cgroup deleted");
    }

    public CgroupGoneException(String cgroup, Throwable cause) {
        this(cgroup);
        initCause(cause);
    }
}

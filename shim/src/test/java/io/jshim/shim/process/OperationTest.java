package io.jshim.shim.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.jshim.shim.ShimException;
import io.jshim.ttrpc.Code;
import org.junit.jupiter.api.Test;

/**
 * A refused operation says what containerd's runc shim says (pkg/process/init_state.go, exec_state.go,
 * deleted_state.go), with the codes the Task API already had.
 */
class OperationTest {
    private static void refused(Operation op, boolean init, ProcessStatus status, Code code, String message) {
        ShimException e = assertThrows(ShimException.class, () -> op.check(init, status), op + " in " + status);
        assertEquals(code, e.code(), op + " in " + status);
        assertEquals(message, e.getMessage(), op + " in " + status);
    }

    @Test
    void initRefusalsUseTheReferenceWords() {
        refused(Operation.PAUSE, true, ProcessStatus.CREATED, Code.UNKNOWN, "cannot pause task in created state");
        refused(Operation.RESUME, true, ProcessStatus.CREATED, Code.UNKNOWN, "cannot resume task in created state");
        refused(Operation.CHECKPOINT, true, ProcessStatus.CREATED_CHECKPOINT, Code.UNKNOWN,
                "cannot checkpoint a task in created state");
        refused(Operation.RESUME, true, ProcessStatus.RUNNING, Code.UNKNOWN, "cannot resume a running process");
        refused(Operation.START, true, ProcessStatus.RUNNING, Code.UNKNOWN, "cannot start a running process");
        refused(Operation.DELETE, true, ProcessStatus.RUNNING, Code.UNKNOWN, "cannot delete a running process");
        refused(Operation.PAUSE, true, ProcessStatus.PAUSED, Code.UNKNOWN, "cannot pause a paused container");
        refused(Operation.START, true, ProcessStatus.PAUSED, Code.UNKNOWN, "cannot start a paused process");
        refused(Operation.DELETE, true, ProcessStatus.PAUSED, Code.UNKNOWN, "cannot delete a paused process");
        refused(Operation.EXEC, true, ProcessStatus.PAUSED, Code.UNKNOWN, "cannot exec in a paused state");
        refused(Operation.PAUSE, true, ProcessStatus.STOPPED, Code.UNKNOWN, "cannot pause a stopped container");
        refused(Operation.RESUME, true, ProcessStatus.STOPPED, Code.UNKNOWN, "cannot resume a stopped container");
        refused(Operation.UPDATE, true, ProcessStatus.STOPPED, Code.UNKNOWN, "cannot update a stopped container");
        refused(Operation.CHECKPOINT, true, ProcessStatus.STOPPED, Code.UNKNOWN,
                "cannot checkpoint a stopped container");
        refused(Operation.START, true, ProcessStatus.STOPPED, Code.UNKNOWN, "cannot start a stopped process");
        refused(Operation.EXEC, true, ProcessStatus.STOPPED, Code.UNKNOWN, "cannot exec in a stopped state");
        refused(Operation.EXEC, true, ProcessStatus.CREATED_CHECKPOINT, Code.UNKNOWN, "cannot exec in a created state");
    }

    @Test
    void execAndDeletedRefusalsUseTheReferenceWords() {
        refused(Operation.START, false, ProcessStatus.RUNNING, Code.UNKNOWN, "cannot start a running process");
        refused(Operation.DELETE, false, ProcessStatus.RUNNING, Code.UNKNOWN, "cannot delete a running process");
        refused(Operation.START, false, ProcessStatus.STOPPED, Code.UNKNOWN, "cannot start a stopped process");
        refused(Operation.RESIZE, false, ProcessStatus.STOPPED, Code.UNKNOWN, "cannot resize a stopped container");
        refused(Operation.DELETE, true, ProcessStatus.DELETED, Code.NOT_FOUND,
                "cannot delete a deleted process: not found");
        refused(Operation.START, true, ProcessStatus.DELETED, Code.NOT_FOUND, "cannot start a deleted process");
        refused(Operation.PAUSE, true, ProcessStatus.DELETED, Code.NOT_FOUND, "cannot pause a deleted process");
        refused(Operation.EXEC, true, ProcessStatus.DELETED, Code.NOT_FOUND, "cannot exec in a deleted state");
    }
}

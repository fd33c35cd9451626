package dev.xps.agent.consensus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.xps.consensus.wire.VrMessage;
import org.junit.jupiter.api.Test;

/**
 * The order in which the new leader of a view ranks the logs reported to it (VR: latest normal view, then length)
 * and how much of a report it trusts; the kernel test that needs it is
 * {@code ConsensusViewChangeTest.aFormerLeaderWithALongerLogFromAnOlderViewTakesTheNewerLog}.
 */
class ViewChangeOrderTest {
    private static VrMessage.DoViewChange report(int sender, int normalView, long contiguous, long commit) {
        return new VrMessage.DoViewChange(3, sender, normalView, contiguous, commit);
    }

    @Test
    void aLaterNormalViewBeatsALongerLog() {
        var oldLeader = report(0, 0, 266, 60);
        var survivor = report(2, 1, 140, 139);
        assertTrue(ConsensusDataPlane.moreUpToDate(survivor, oldLeader, 0));
        assertFalse(ConsensusDataPlane.moreUpToDate(oldLeader, survivor, 0));
    }

    @Test
    void inTheSameViewTheLongerLogWinsAndTiesGoToTheNewLeaderThenTheLowerMember() {
        int me = 1;
        assertTrue(ConsensusDataPlane.moreUpToDate(report(2, 4, 101, 90), report(me, 4, 100, 90), me));
        assertFalse(ConsensusDataPlane.moreUpToDate(report(2, 4, 99, 90), report(me, 4, 100, 90), me));
        assertFalse(ConsensusDataPlane.moreUpToDate(report(0, 4, 100, 90), report(me, 4, 100, 90), me),
                "an equal log: the new leader keeps its own (nothing to copy)");
        assertTrue(ConsensusDataPlane.moreUpToDate(report(0, 4, 100, 90), report(2, 4, 100, 90), me));
    }

    @Test
    void aLogFromAnOlderViewIsTrustedOnlyUpToItsCommit() {
        assertEquals(140, ConsensusDataPlane.trustedPrefix(report(2, 1, 140, 139), 1));
        assertEquals(60, ConsensusDataPlane.trustedPrefix(report(0, 0, 266, 60), 1));
        assertEquals(50, ConsensusDataPlane.trustedPrefix(report(0, 0, 50, 60), 1), "never more than it holds");
    }
}

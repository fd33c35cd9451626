package dev.xps.agent.bpf;

/**
 * The XDP programs on an interface ({@code bpf_xdp_query}), by program id; 0 where none.
 *
 * @param programId the single attached program's id (when only one mode is in use)
 * @param nativeProgramId the program attached in native (driver) mode
 * @param genericProgramId the program attached in generic (skb) mode
 * @param offloadProgramId the program offloaded to the NIC
 * @param attachMode {@code XDP_ATTACHED_*}: 0 none, 1 native, 2 generic, 3 offload, 4 several
 */
public record XdpState(int programId, int nativeProgramId, int genericProgramId, int offloadProgramId,
                       int attachMode) {
    /** True when no XDP program is attached in any mode. */
    public boolean isEmpty() {
        return attachMode == 0;
    }

    /** True when the program with this id is attached in some mode. */
    public boolean has(int id) {
        return id != 0 && (programId == id || nativeProgramId == id || genericProgramId == id
                || offloadProgramId == id);
    }
}

//! Classic BPF for seccomp filters, as the tests install them with `prctl`
//! through the `Drv`.

use alcove_client::{Field, PrctlArg};

/// `AUDIT_ARCH_*` of this architecture, as `seccomp_data.arch` holds it.
#[cfg(target_arch = "x86_64")]
pub const AUDIT_ARCH: u32 = 0xc000_003e;
/// `AUDIT_ARCH_*` of this architecture, as `seccomp_data.arch` holds it.
#[cfg(target_arch = "aarch64")]
pub const AUDIT_ARCH: u32 = 0xc000_00b7;

/// `BPF_LD | BPF_W | BPF_ABS`: loads the word at an offset of
/// `struct seccomp_data` (`nr` at 0, `arch` at 4).
pub const LD_W_ABS: u16 = 0x20;
/// `BPF_JMP | BPF_JEQ | BPF_K`.
pub const JEQ_K: u16 = 0x15;
/// `BPF_RET | BPF_K`.
pub const RET_K: u16 = 0x06;
/// `SECCOMP_RET_ALLOW`.
pub const RET_ALLOW: u32 = 0x7fff_0000;
/// `SECCOMP_RET_ERRNO`, ORed with the errno.
pub const RET_ERRNO: u32 = 0x0005_0000;
/// `SECCOMP_RET_KILL_PROCESS`.
pub const RET_KILL_PROCESS: u32 = 0x8000_0000;

/// One instruction, as `struct sock_filter` lays it out.
pub fn bpf(code: u16, jt: u8, jf: u8, k: u32) -> [u8; 8] {
    let mut i = [0u8; 8];
    i[..2].copy_from_slice(&code.to_ne_bytes());
    i[2] = jt;
    i[3] = jf;
    i[4..].copy_from_slice(&k.to_ne_bytes());
    i
}

/// `struct sock_fprog` for `prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ..)`:
/// the number of instructions, padding to the pointer's alignment, and a
/// pointer to them.
pub fn sock_fprog(filter: Vec<u8>) -> PrctlArg {
    let len = u16::try_from(filter.len() / 8).expect("a short filter");
    let mut head = len.to_ne_bytes().to_vec();
    head.resize(std::mem::size_of::<usize>(), 0);
    PrctlArg::Struct(vec![Field::Bytes(head.into()), Field::Ptr(filter.into())])
}

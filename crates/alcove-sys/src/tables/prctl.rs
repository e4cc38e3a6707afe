//! `prctl` options and their argument values (`PR_SET_NAME` = 15, ...), and
//! the `seccomp` constants that `prctl(PR_SET_SECCOMP, ...)` and
//! `seccomp(2)` take (`SECCOMP_MODE_FILTER` = 2, ...).
//!
//! Options and the values of their arguments share one table, as in
//! alcove, so an argument may be given by name. Many sub-values are small
//! numbers, so reading a number back gives whichever name comes first; it
//! is only meaningful for options. The values are the same on every Linux
//! architecture; the speculation-control names are in the `libc` crate for
//! x86_64 glibc only, and the pointer-authentication, tagged-address and
//! SME names for aarch64 glibc only. Left out: `PR_SCHED_CORE_MAX` (a
//! count, which grows between releases), and three names the `libc` crate
//! spells differently from the kernel's `<linux/prctl.h>`:
//! `PR_SME_VL_LEN_MAX` (`PR_SME_VL_LEN_MASK`), `PR_SME_SET_VL_ONE_EXEC`
//! (`PR_SME_SET_VL_ONEXEC`) and `PR_SME_SET_VL_INHERIT`
//! (`PR_SME_VL_INHERIT`).

crate::table! {
    /// `prctl` options and values, from `<sys/prctl.h>`, and seccomp modes,
    /// operations, flags and filter return values, from `<linux/seccomp.h>`.
    ///
    /// # References
    /// - [`prctl(2)`](https://man7.org/linux/man-pages/man2/prctl.2.html)
    /// - [`seccomp(2)`](https://man7.org/linux/man-pages/man2/seccomp.2.html)
    pub static PRCTL = "prctl option" {
        PR_SET_PDEATHSIG = 1,
        PR_GET_PDEATHSIG = 2,
        PR_GET_DUMPABLE = 3,
        PR_SET_DUMPABLE = 4,
        PR_GET_UNALIGN = 5,
        PR_SET_UNALIGN = 6,
        PR_UNALIGN_NOPRINT = 1,
        PR_UNALIGN_SIGBUS = 2,
        PR_GET_KEEPCAPS = 7,
        PR_SET_KEEPCAPS = 8,
        PR_GET_FPEMU = 9,
        PR_SET_FPEMU = 10,
        PR_FPEMU_NOPRINT = 1,
        PR_FPEMU_SIGFPE = 2,
        PR_GET_FPEXC = 11,
        PR_SET_FPEXC = 12,
        PR_FP_EXC_SW_ENABLE = 0x80,
        PR_FP_EXC_DIV = 0x01_0000,
        PR_FP_EXC_OVF = 0x02_0000,
        PR_FP_EXC_UND = 0x04_0000,
        PR_FP_EXC_RES = 0x08_0000,
        PR_FP_EXC_INV = 0x10_0000,
        PR_FP_EXC_DISABLED = 0,
        PR_FP_EXC_NONRECOV = 1,
        PR_FP_EXC_ASYNC = 2,
        PR_FP_EXC_PRECISE = 3,
        PR_GET_TIMING = 13,
        PR_SET_TIMING = 14,
        PR_TIMING_STATISTICAL = 0,
        PR_TIMING_TIMESTAMP = 1,
        PR_SET_NAME = 15,
        PR_GET_NAME = 16,
        PR_GET_ENDIAN = 19,
        PR_SET_ENDIAN = 20,
        PR_ENDIAN_BIG = 0,
        PR_ENDIAN_LITTLE = 1,
        PR_ENDIAN_PPC_LITTLE = 2,
        PR_GET_SECCOMP = 21,
        PR_SET_SECCOMP = 22,
        PR_CAPBSET_READ = 23,
        PR_CAPBSET_DROP = 24,
        PR_GET_TSC = 25,
        PR_SET_TSC = 26,
        PR_TSC_ENABLE = 1,
        PR_TSC_SIGSEGV = 2,
        PR_GET_SECUREBITS = 27,
        PR_SET_SECUREBITS = 28,
        PR_SET_TIMERSLACK = 29,
        PR_GET_TIMERSLACK = 30,
        PR_TASK_PERF_EVENTS_DISABLE = 31,
        PR_TASK_PERF_EVENTS_ENABLE = 32,
        PR_MCE_KILL = 33,
        PR_MCE_KILL_CLEAR = 0,
        PR_MCE_KILL_SET = 1,
        PR_MCE_KILL_LATE = 0,
        PR_MCE_KILL_EARLY = 1,
        PR_MCE_KILL_DEFAULT = 2,
        PR_MCE_KILL_GET = 34,
        PR_SET_MM = 35,
        PR_SET_MM_START_CODE = 1,
        PR_SET_MM_END_CODE = 2,
        PR_SET_MM_START_DATA = 3,
        PR_SET_MM_END_DATA = 4,
        PR_SET_MM_START_STACK = 5,
        PR_SET_MM_START_BRK = 6,
        PR_SET_MM_BRK = 7,
        PR_SET_MM_ARG_START = 8,
        PR_SET_MM_ARG_END = 9,
        PR_SET_MM_ENV_START = 10,
        PR_SET_MM_ENV_END = 11,
        PR_SET_MM_AUXV = 12,
        PR_SET_MM_EXE_FILE = 13,
        PR_SET_MM_MAP = 14,
        PR_SET_MM_MAP_SIZE = 15,
        PR_SET_PTRACER = 0x5961_6d61,
        #[cfg(target_pointer_width = "64")]
        PR_SET_PTRACER_ANY = 0xffff_ffff_ffff_ffff,
        #[cfg(target_pointer_width = "32")]
        PR_SET_PTRACER_ANY = 0xffff_ffff,
        PR_SET_CHILD_SUBREAPER = 36,
        PR_GET_CHILD_SUBREAPER = 37,
        PR_SET_NO_NEW_PRIVS = 38,
        PR_GET_NO_NEW_PRIVS = 39,
        PR_GET_TID_ADDRESS = 40,
        PR_SET_THP_DISABLE = 41,
        PR_GET_THP_DISABLE = 42,
        PR_MPX_ENABLE_MANAGEMENT = 43,
        PR_MPX_DISABLE_MANAGEMENT = 44,
        PR_SET_FP_MODE = 45,
        PR_GET_FP_MODE = 46,
        PR_FP_MODE_FR = 0x1,
        PR_FP_MODE_FRE = 0x2,
        PR_CAP_AMBIENT = 47,
        PR_CAP_AMBIENT_IS_SET = 1,
        PR_CAP_AMBIENT_RAISE = 2,
        PR_CAP_AMBIENT_LOWER = 3,
        PR_CAP_AMBIENT_CLEAR_ALL = 4,
        #[cfg(all(target_env = "gnu", target_arch = "x86_64"))]
        PR_GET_SPECULATION_CTRL = 52,
        #[cfg(all(target_env = "gnu", target_arch = "x86_64"))]
        PR_SET_SPECULATION_CTRL = 53,
        #[cfg(all(target_env = "gnu", target_arch = "x86_64"))]
        PR_SPEC_STORE_BYPASS = 0,
        #[cfg(all(target_env = "gnu", target_arch = "x86_64"))]
        PR_SPEC_INDIRECT_BRANCH = 1,
        #[cfg(all(target_env = "gnu", target_arch = "x86_64"))]
        PR_SPEC_NOT_AFFECTED = 0,
        #[cfg(all(target_env = "gnu", target_arch = "x86_64"))]
        PR_SPEC_PRCTL = 0x01,
        #[cfg(all(target_env = "gnu", target_arch = "x86_64"))]
        PR_SPEC_ENABLE = 0x02,
        #[cfg(all(target_env = "gnu", target_arch = "x86_64"))]
        PR_SPEC_DISABLE = 0x04,
        #[cfg(all(target_env = "gnu", target_arch = "x86_64"))]
        PR_SPEC_FORCE_DISABLE = 0x08,
        #[cfg(all(target_env = "gnu", target_arch = "x86_64"))]
        PR_SPEC_DISABLE_NOEXEC = 0x10,
        #[cfg(all(target_env = "gnu", target_arch = "aarch64"))]
        PR_PAC_RESET_KEYS = 54,
        #[cfg(all(target_env = "gnu", target_arch = "aarch64"))]
        PR_PAC_APIAKEY = 0x01,
        #[cfg(all(target_env = "gnu", target_arch = "aarch64"))]
        PR_PAC_APIBKEY = 0x02,
        #[cfg(all(target_env = "gnu", target_arch = "aarch64"))]
        PR_PAC_APDAKEY = 0x04,
        #[cfg(all(target_env = "gnu", target_arch = "aarch64"))]
        PR_PAC_APDBKEY = 0x08,
        #[cfg(all(target_env = "gnu", target_arch = "aarch64"))]
        PR_PAC_APGAKEY = 0x10,
        #[cfg(all(target_env = "gnu", target_arch = "aarch64"))]
        PR_SET_TAGGED_ADDR_CTRL = 55,
        #[cfg(all(target_env = "gnu", target_arch = "aarch64"))]
        PR_GET_TAGGED_ADDR_CTRL = 56,
        #[cfg(all(target_env = "gnu", target_arch = "aarch64"))]
        PR_TAGGED_ADDR_ENABLE = 0x1,
        #[cfg(all(target_env = "gnu", target_arch = "aarch64"))]
        PR_PAC_SET_ENABLED_KEYS = 60,
        #[cfg(all(target_env = "gnu", target_arch = "aarch64"))]
        PR_PAC_GET_ENABLED_KEYS = 61,
        PR_SCHED_CORE = 62,
        PR_SCHED_CORE_GET = 0,
        PR_SCHED_CORE_CREATE = 1,
        PR_SCHED_CORE_SHARE_TO = 2,
        PR_SCHED_CORE_SHARE_FROM = 3,
        PR_SCHED_CORE_SCOPE_THREAD = 0,
        PR_SCHED_CORE_SCOPE_THREAD_GROUP = 1,
        PR_SCHED_CORE_SCOPE_PROCESS_GROUP = 2,
        #[cfg(all(target_env = "gnu", target_arch = "aarch64"))]
        PR_SME_SET_VL = 63,
        #[cfg(all(target_env = "gnu", target_arch = "aarch64"))]
        PR_SME_GET_VL = 64,
        PR_SET_MDWE = 65,
        PR_GET_MDWE = 66,
        PR_MDWE_REFUSE_EXEC_GAIN = 0x1,
        PR_MDWE_NO_INHERIT = 0x2,
        PR_SET_MEMORY_MERGE = 67,
        PR_GET_MEMORY_MERGE = 68,
        PR_SET_VMA = 0x5356_4d41,
        PR_SET_VMA_ANON_NAME = 0,
        SECCOMP_MODE_DISABLED = 0,
        SECCOMP_MODE_STRICT = 1,
        SECCOMP_MODE_FILTER = 2,
        SECCOMP_SET_MODE_STRICT = 0,
        SECCOMP_SET_MODE_FILTER = 1,
        SECCOMP_GET_ACTION_AVAIL = 2,
        SECCOMP_GET_NOTIF_SIZES = 3,
        SECCOMP_FILTER_FLAG_TSYNC = 0x01,
        SECCOMP_FILTER_FLAG_LOG = 0x02,
        SECCOMP_FILTER_FLAG_SPEC_ALLOW = 0x04,
        SECCOMP_FILTER_FLAG_NEW_LISTENER = 0x08,
        SECCOMP_FILTER_FLAG_TSYNC_ESRCH = 0x10,
        SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV = 0x20,
        SECCOMP_RET_KILL_PROCESS = 0x8000_0000,
        SECCOMP_RET_KILL_THREAD = 0x0000_0000,
        SECCOMP_RET_KILL = 0x0000_0000,
        SECCOMP_RET_TRAP = 0x0003_0000,
        SECCOMP_RET_ERRNO = 0x0005_0000,
        SECCOMP_RET_USER_NOTIF = 0x7fc0_0000,
        SECCOMP_RET_TRACE = 0x7ff0_0000,
        SECCOMP_RET_LOG = 0x7ffc_0000,
        SECCOMP_RET_ALLOW = 0x7fff_0000,
        SECCOMP_RET_ACTION_FULL = 0xffff_0000,
        SECCOMP_RET_ACTION = 0x7fff_0000,
        SECCOMP_RET_DATA = 0x0000_ffff,
        SECCOMP_USER_NOTIF_FLAG_CONTINUE = 0x1,
    }
}

#[cfg(test)]
mod tests {
    use super::PRCTL;

    #[test]
    fn options_and_seccomp_names_in_any_case() {
        assert_eq!(PRCTL.value("PR_SET_NAME"), Some(15));
        assert_eq!(PRCTL.value("pr_set_name"), Some(libc::PR_SET_NAME as u64));
        assert_eq!(PRCTL.value("pr_get_name"), Some(16));
        assert_eq!(PRCTL.value("PR_CAPBSET_READ"), Some(23));
        assert_eq!(
            PRCTL.value("seccomp_mode_filter"),
            Some(libc::SECCOMP_MODE_FILTER as u64)
        );
        assert_eq!(PRCTL.value("SECCOMP_RET_KILL_PROCESS"), Some(0x8000_0000));
        assert_eq!(PRCTL.name(15), Some("PR_SET_NAME"));
        assert_eq!(PRCTL.name(38), Some("PR_SET_NO_NEW_PRIVS"));
    }
}

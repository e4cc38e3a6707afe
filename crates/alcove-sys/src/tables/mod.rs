//! The constant tables, one module per kind.

mod errno;

pub use errno::ERRNO;

use crate::table::Table;

/// Every table, for tests and for tools that list them.
pub static ALL: &[&Table] = &[&ERRNO];

#[cfg(test)]
mod tests {
    use super::ALL;

    /// Every value written in a table is the one the `libc` crate has for
    /// that name on this target.
    #[test]
    fn every_entry_matches_libc() {
        for table in ALL {
            assert_eq!(table.entries().len(), table.libc.len(), "{}", table.what());
            for (c, libc_value) in table.entries().iter().zip(table.libc) {
                assert_eq!(
                    c.value,
                    *libc_value,
                    "{} {}: table says {:#x}, libc says {:#x}",
                    table.what(),
                    c.name,
                    c.value,
                    libc_value
                );
            }
        }
    }

    /// Every alias names an entry of its table.
    #[test]
    fn every_alias_resolves() {
        for table in ALL {
            for (alias, target) in table.aliases() {
                assert!(
                    table.value(target).is_some(),
                    "{}: {alias} -> {target}",
                    table.what()
                );
                assert_eq!(table.value(alias), table.value(target));
            }
        }
    }
}

//! Constant tables: names of this platform's constants and their numbers.
//!
//! Each table is written once, with [`table!`](crate::table!), as one list
//! of `NAME = value` entries with a `#[cfg]` where an entry exists only on
//! some targets. From that list come the lookups both ways and, in tests,
//! a check of every value against the `libc` crate.

use std::fmt;

/// One named constant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Constant {
    /// Its C name, as the headers spell it (`CLONE_NEWNS`).
    pub name: &'static str,
    /// Its value on this platform.
    pub value: u64,
}

/// A table of constants of one kind (clone flags, signals, ...).
pub struct Table {
    what: &'static str,
    entries: &'static [Constant],
    aliases: &'static [(&'static str, &'static str)],
    #[cfg(test)]
    pub(crate) libc: &'static [u64],
}

impl fmt::Debug for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Table")
            .field("what", &self.what)
            .field("entries", &self.entries.len())
            .finish()
    }
}

/// A name that is in no table it was looked up in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownName {
    /// What kind of constant was looked for.
    pub what: &'static str,
    /// The name.
    pub name: String,
}

impl fmt::Display for UnknownName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown {} name: {:?}", self.what, self.name)
    }
}

impl std::error::Error for UnknownName {}

impl Table {
    #[doc(hidden)]
    pub const fn new(
        what: &'static str,
        entries: &'static [Constant],
        aliases: &'static [(&'static str, &'static str)],
        #[cfg(test)] libc: &'static [u64],
    ) -> Self {
        Self {
            what,
            entries,
            aliases,
            #[cfg(test)]
            libc,
        }
    }

    /// What the table holds (`"clone flag"`), for error messages.
    pub fn what(&self) -> &'static str {
        self.what
    }

    /// Every constant, in table order.
    pub fn entries(&self) -> &'static [Constant] {
        self.entries
    }

    /// Extra names that stand for a constant of the table (the mount
    /// table's portable `rdonly` for `MS_RDONLY`): `(alias, C name)`.
    pub fn aliases(&self) -> &'static [(&'static str, &'static str)] {
        self.aliases
    }

    /// The value of a name. Names match whatever their case
    /// (`CLONE_NEWNS`, `clone_newns`), and so do aliases.
    pub fn value(&self, name: &str) -> Option<u64> {
        let name = self
            .aliases
            .iter()
            .find(|(alias, _)| alias.eq_ignore_ascii_case(name))
            .map_or(name, |&(_, target)| target);
        self.entries
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
            .map(|c| c.value)
    }

    /// Like [`value`](Self::value), with an error that names the name.
    pub fn lookup(&self, name: &str) -> Result<u64, UnknownName> {
        self.value(name).ok_or_else(|| UnknownName {
            what: self.what,
            name: name.to_owned(),
        })
    }

    /// The first name with this value, in table order.
    pub fn name(&self, value: u64) -> Option<&'static str> {
        self.entries
            .iter()
            .find(|c| c.value == value)
            .map(|c| c.name)
    }

    /// The names ORed together: the value of a list of flags.
    pub fn flags<S: AsRef<str>>(&self, names: &[S]) -> Result<u64, UnknownName> {
        names
            .iter()
            .try_fold(0, |acc, n| Ok(acc | self.lookup(n.as_ref())?))
    }
}

/// Declares a constant [`Table`]:
///
/// ```ignore
/// table! {
///     /// Signals.
///     pub static SIGNAL = "signal" {
///         SIGHUP = 1,
///         #[cfg(target_arch = "x86_64")]
///         SIGSTKFLT = 16,
///     }
///     aliases { hup = SIGHUP }
/// }
/// ```
///
/// Every entry's name must be a constant of the `libc` crate: a test
/// compares each value with it.
#[macro_export]
#[doc(hidden)]
macro_rules! table {
    (
        $(#[$doc:meta])*
        $vis:vis static $table:ident = $what:literal {
            $( $(#[cfg($cfg:meta)])* $name:ident = $value:expr ),* $(,)?
        }
        $( aliases { $( $alias:ident = $target:ident ),* $(,)? } )?
    ) => {
        $(#[$doc])*
        $vis static $table: $crate::table::Table = $crate::table::Table::new(
            $what,
            &[ $( $(#[cfg($cfg)])* $crate::table::Constant {
                name: stringify!($name),
                value: $value as u64,
            }, )* ],
            &[ $( $( (stringify!($alias), stringify!($target)), )* )? ],
            #[cfg(test)]
            &[ $( $(#[cfg($cfg)])* (::libc::$name as u64), )* ],
        );
    };
}

#[cfg(test)]
mod tests {
    crate::table! {
        static DEMO = "demo" {
            SIGHUP = 1,
            SIGINT = 2,
            SIGIOT = 6,
            SIGABRT = 6,
        }
        aliases { hangup = SIGHUP }
    }

    #[test]
    fn lookups_both_ways_any_case() {
        assert_eq!(DEMO.value("SIGINT"), Some(2));
        assert_eq!(DEMO.value("sigint"), Some(2));
        assert_eq!(DEMO.value("HangUp"), Some(1));
        assert_eq!(DEMO.value("SIGFOO"), None);
        assert_eq!(DEMO.name(6), Some("SIGIOT"), "first entry wins");
        assert_eq!(DEMO.flags(&["sighup", "sigint"]), Ok(3));
        let err = DEMO.flags(&["sighup", "nope"]).unwrap_err();
        assert_eq!(err.to_string(), "unknown demo name: \"nope\"");
        assert_eq!(DEMO.libc, &[1, 2, 6, 6]);
    }
}

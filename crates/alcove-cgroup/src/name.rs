//! Checking the names that become paths under a hierarchy: nothing a user
//! passes may lead out of the cgroup tree.

use crate::error::{Error, Result};

/// Checks a group name: a relative path of one or more components
/// (`alcove`, `alcove/sandbox1`), none of them empty, `.` or `..`, with no
/// NUL byte. A trailing slash is refused too: a group has one spelling.
///
/// ```
/// assert!(alcove_cgroup::check_group("alcove/sandbox1").is_ok());
/// assert!(alcove_cgroup::check_group("../etc").is_err());
/// assert!(alcove_cgroup::check_group("/sys/fs/cgroup").is_err());
/// ```
pub fn check_group(group: &str) -> Result<()> {
    let bad = |reason: &'static str| Error::Name {
        what: "group",
        name: group.to_owned(),
        reason,
    };
    if group.is_empty() {
        return Err(bad("it is empty"));
    }
    if group.contains('\0') {
        return Err(bad("it contains a NUL byte"));
    }
    if group.starts_with('/') {
        return Err(bad(
            "it is an absolute path: a group is relative to its hierarchy",
        ));
    }
    for component in group.split('/') {
        match component {
            "" => return Err(bad("it has an empty component (`//` or a trailing `/`)")),
            "." | ".." => {
                return Err(bad(
                    "it has a `.` or `..` component, which would leave the group",
                ));
            }
            _ => {}
        }
    }
    Ok(())
}

/// Checks the name of a file in a group (`memory.max`, `tasks`): one
/// non-empty component, no `/`, not `.` or `..`, no NUL byte.
///
/// ```
/// assert!(alcove_cgroup::check_key("memory.limit_in_bytes").is_ok());
/// assert!(alcove_cgroup::check_key("../tasks").is_err());
/// ```
pub fn check_key(key: &str) -> Result<()> {
    check_one("key", key)
}

/// Checks a controller name (`memory`, `name=systemd`): same rules as a
/// key, since `cgroup.subtree_control` takes it as a word.
pub(crate) fn check_controller(controller: &str) -> Result<()> {
    check_one("controller", controller)?;
    if controller.contains(char::is_whitespace) || controller.starts_with(['+', '-']) {
        return Err(Error::Name {
            what: "controller",
            name: controller.to_owned(),
            reason: "it contains a space or starts with `+` or `-`",
        });
    }
    Ok(())
}

fn check_one(what: &'static str, name: &str) -> Result<()> {
    let reason = if name.is_empty() {
        "it is empty"
    } else if name.contains('\0') {
        "it contains a NUL byte"
    } else if name.contains('/') {
        "it contains a `/`: it must name a file in the group itself"
    } else if name == "." || name == ".." {
        "it is `.` or `..`"
    } else {
        return Ok(());
    };
    Err(Error::Name {
        what,
        name: name.to_owned(),
        reason,
    })
}

/// The groups from the top down to `group`: `a/b/c` gives `a`, `a/b`,
/// `a/b/c`. `group` must be checked.
pub(crate) fn prefixes(group: &str) -> impl Iterator<Item = &str> {
    group
        .match_indices('/')
        .map(|(i, _)| &group[..i])
        .chain(std::iter::once(group))
}

/// The parent of a checked group, `""` being the hierarchy's root.
pub(crate) fn parent(group: &str) -> &str {
    group.rfind('/').map_or("", |i| &group[..i])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_group_names_pass() {
        for g in [
            "alcove",
            "alcove/sandbox",
            "a/b/c",
            "alcove-test-1",
            "a.b",
            "..a",
            "a..",
        ] {
            check_group(g).unwrap_or_else(|e| panic!("{g:?}: {e}"));
        }
    }

    #[test]
    fn names_that_leave_the_tree_are_refused_with_a_reason() {
        for (g, why) in [
            ("", "empty"),
            ("..", "`..`"),
            ("a/../../etc", "`..`"),
            ("./a", "`.`"),
            ("/sys/fs/cgroup/memory", "absolute"),
            ("/", "absolute"),
            ("a//b", "empty component"),
            ("a/", "empty component"),
            ("a\0b", "NUL"),
        ] {
            let e = check_group(g).expect_err(g).to_string();
            assert!(e.contains(why), "{g:?}: {e}");
            assert!(e.starts_with("bad cgroup group"), "{g:?}: {e}");
        }
    }

    #[test]
    fn keys_are_one_file_of_the_group() {
        check_key("memory.limit_in_bytes").unwrap();
        check_key("tasks").unwrap();
        for k in ["", ".", "..", "a/b", "../tasks", "/etc/passwd", "x\0"] {
            let e = check_key(k).expect_err(k).to_string();
            assert!(e.starts_with("bad cgroup key"), "{k:?}: {e}");
        }
    }

    #[test]
    fn controllers_are_one_word() {
        check_controller("memory").unwrap();
        check_controller("name=systemd").unwrap();
        for c in ["", "a b", "+memory", "-pids", "a/b", ".."] {
            check_controller(c).expect_err(c);
        }
    }

    #[test]
    fn prefixes_go_top_down() {
        assert_eq!(prefixes("a").collect::<Vec<_>>(), ["a"]);
        assert_eq!(prefixes("a/b/c").collect::<Vec<_>>(), ["a", "a/b", "a/b/c"]);
        assert_eq!(parent("a"), "");
        assert_eq!(parent("a/b/c"), "a/b");
    }
}

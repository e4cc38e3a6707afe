use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

/// Where the port's own stderr goes. (The stderr of the processes it forks
/// always comes back to the client, tagged with their path.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Stderr {
    /// The client's stderr (the seed's default: "the console").
    #[default]
    Inherit,
    /// Discarded.
    Null,
    /// Read by the client and delivered as stderr of the port, path `[]`.
    Capture,
}

/// How to start the port: the options of the seed's `alcove_drv:start/1`.
///
/// ```
/// use alcove_client::Options;
/// let opts = Options::default().exec("sudo -n").maxforkdepth(8);
/// assert_eq!(opts.exec_prefix(), ["sudo", "-n"]);
/// ```
#[derive(Debug, Clone)]
pub struct Options {
    pub(crate) exec: Vec<OsString>,
    pub(crate) progname: Option<PathBuf>,
    pub(crate) env: Option<Vec<(OsString, OsString)>>,
    pub(crate) stderr: Stderr,
    pub(crate) maxchild: Option<u32>,
    pub(crate) maxforkdepth: u32,
    pub(crate) exit_status: bool,
    pub(crate) sigchld: bool,
    pub(crate) termsig: bool,
    pub(crate) verbose: u32,
    pub(crate) timeout: Option<Duration>,
    pub(crate) shutdown_timeout: Duration,
}

/// Default of [`Options::shutdown_timeout`].
pub(crate) const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(10);

impl Default for Options {
    fn default() -> Self {
        Self {
            exec: Vec::new(),
            progname: None,
            env: None,
            stderr: Stderr::Inherit,
            maxchild: None,
            maxforkdepth: 16,
            exit_status: true,
            sigchld: true,
            termsig: true,
            verbose: 0,
            timeout: None,
            shutdown_timeout: DEFAULT_SHUTDOWN_TIMEOUT,
        }
    }
}

impl Options {
    /// A command that runs the port, split on spaces: `"sudo -n"`,
    /// `"ssh host sudo -n"`. Default: none.
    pub fn exec(mut self, prefix: &str) -> Self {
        self.exec = prefix.split_whitespace().map(OsString::from).collect();
        self
    }

    /// The exec prefix, split.
    pub fn exec_prefix(&self) -> Vec<&str> {
        self.exec.iter().filter_map(|s| s.to_str()).collect()
    }

    /// Path of the `alcove` binary. Default: `$ALCOVE_BIN`, then an
    /// `alcove` next to the running program (or one directory up, for
    /// tests and examples under `target/`), then `alcove` in `PATH`; in a
    /// source checkout of alcove-rs, it is built with cargo when missing.
    pub fn progname(mut self, path: impl Into<PathBuf>) -> Self {
        self.progname = Some(path.into());
        self
    }

    /// The port's environment, instead of the client's.
    pub fn env<K: Into<OsString>, V: Into<OsString>>(
        mut self,
        vars: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        self.env = Some(
            vars.into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        );
        self
    }

    /// Where the port's own stderr goes.
    pub fn stderr(mut self, stderr: Stderr) -> Self {
        self.stderr = stderr;
        self
    }

    /// How many children the port may have (`childlimit` of the port and
    /// its `maxchild`). Default: as many as its descriptor limit allows.
    pub fn maxchild(mut self, n: u32) -> Self {
        self.maxchild = Some(n);
        self
    }

    /// The longest fork path. Default 16.
    pub fn maxforkdepth(mut self, n: u32) -> Self {
        self.maxforkdepth = n;
        self
    }

    /// Report children's exit statuses as events. Default on.
    pub fn exit_status(mut self, on: bool) -> Self {
        self.exit_status = on;
        self
    }

    /// Report `SIGCHLD` from the parent when a child exits. Default on.
    pub fn sigchld(mut self, on: bool) -> Self {
        self.sigchld = on;
        self
    }

    /// Report the signal that killed a child as an event. Default on.
    pub fn termsig(mut self, on: bool) -> Self {
        self.termsig = on;
        self
    }

    /// Debug output of the loop processes on stderr. Default 0.
    pub fn verbose(mut self, level: u32) -> Self {
        self.verbose = level;
        self
    }

    /// How long dropping the last [`Drv`](crate::Drv) waits for the port to
    /// exit once its stdin is closed (it ends its tree first). A port that
    /// is still there then (stopped, or stuck in a call that blocks in the
    /// kernel) is sent SIGKILL, and waited for as long again; if it cannot
    /// be killed (started through `sudo`), the drop returns without it.
    /// Default: 10 s.
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }

    /// Default timeout of every call. Default: none (wait forever).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The port's arguments for these options.
    pub(crate) fn port_args(&self) -> Vec<String> {
        let flag = |b: bool| if b { "1" } else { "0" }.to_string();
        let mut args = vec![
            "--maxforkdepth".into(),
            self.maxforkdepth.to_string(),
            "--exit-status".into(),
            flag(self.exit_status),
            "--sigchld".into(),
            flag(self.sigchld),
            "--termsig".into(),
            flag(self.termsig),
            "--verbose".into(),
            self.verbose.to_string(),
        ];
        if let Some(n) = self.maxchild {
            args.extend(["--maxchild".into(), n.to_string()]);
        }
        args
    }
}

//! The driver's output: one record per benchmark, one line each, fields
//! separated by tabs, read by `cargo xtask bench` (which writes
//! `target/bench/results.json` and the markdown table from them).
//!
//! ```text
//! record <name> <params> <samples> <iterations> <median> <min> <max> <unit>
//!        <floor> <floor median> <ratio> <goal> <met>
//! ```
//!
//! `params` is `key=value` pairs joined by `,`; a missing number is `-`;
//! `goal` is `<=2`, `>=0.8`, `<1` or `-`; `met` is `yes`, `no` or `-`.

use crate::measure::Stats;

/// What a benchmark must reach: a bound on its ratio to the floor.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Goal {
    /// A cost: the ratio must be at most this.
    AtMost(f64),
    /// A rate: the ratio must be at least this.
    AtLeast(f64),
    /// The ratio must be strictly below this.
    Below(f64),
    /// Reported only.
    None,
}

impl Goal {
    /// Whether `ratio` meets the goal; `None` when there is no goal or no
    /// ratio.
    pub fn met(&self, ratio: Option<f64>) -> Option<bool> {
        let r = ratio?;
        match *self {
            Goal::AtMost(g) => Some(r <= g),
            Goal::AtLeast(g) => Some(r >= g),
            Goal::Below(g) => Some(r < g),
            Goal::None => None,
        }
    }

    fn text(&self) -> String {
        match self {
            Goal::AtMost(g) => format!("<={g}"),
            Goal::AtLeast(g) => format!(">={g}"),
            Goal::Below(g) => format!("<{g}"),
            Goal::None => "-".into(),
        }
    }
}

/// One benchmark's result.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// The benchmark, e.g. `getpid_depth`.
    pub name: String,
    /// Its parameters, e.g. `depth=4`, `cpu=pinned`.
    pub params: Vec<(String, String)>,
    /// Samples taken (after the warm-up).
    pub samples: usize,
    /// Operations (or bytes) measured over all samples.
    pub iterations: u64,
    /// Median, min and max of the samples, in `unit`.
    pub stats: Stats,
    /// `us` (per operation), `MiB/s`, `calls/s` or `KiB`.
    pub unit: String,
    /// What the floor is.
    pub floor: String,
    /// The floor's median, in `unit`.
    pub floor_median: Option<f64>,
    /// The goal on `median / floor_median`.
    pub goal: Goal,
}

impl Record {
    /// `median / floor_median`.
    pub fn ratio(&self) -> Option<f64> {
        let f = self.floor_median?;
        (f > 0.0).then(|| self.stats.median / f)
    }

    /// The record's line (without a newline).
    pub fn line(&self) -> String {
        let num = |x: Option<f64>| x.map_or_else(|| "-".to_owned(), |x| format!("{x:.6}"));
        let clean = |s: &str| s.replace(['\t', '\n', '\r'], " ");
        let params = self
            .params
            .iter()
            .map(|(k, v)| format!("{}={}", clean(k), clean(v)))
            .collect::<Vec<_>>()
            .join(",");
        let ratio = self.ratio();
        let met = match self.goal.met(ratio) {
            Some(true) => "yes",
            Some(false) => "no",
            None => "-",
        };
        [
            "record".to_owned(),
            clean(&self.name),
            if params.is_empty() {
                "-".into()
            } else {
                params
            },
            self.samples.to_string(),
            self.iterations.to_string(),
            num(Some(self.stats.median)),
            num(Some(self.stats.min)),
            num(Some(self.stats.max)),
            clean(&self.unit),
            clean(&self.floor),
            num(self.floor_median),
            num(ratio),
            self.goal.text(),
            met.to_owned(),
        ]
        .join("\t")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_is_one_tab_separated_line() {
        let r = Record {
            name: "getpid_depth".into(),
            params: vec![
                ("depth".into(), "4".into()),
                ("cpu".into(), "pinned".into()),
            ],
            samples: 7,
            iterations: 7000,
            stats: Stats {
                median: 30.0,
                min: 29.0,
                max: 31.5,
            },
            unit: "us".into(),
            floor: "pipe ping-pong x5".into(),
            floor_median: Some(20.0),
            goal: Goal::AtMost(2.0),
        };
        assert_eq!(r.ratio(), Some(1.5));
        assert_eq!(
            r.line(),
            "record\tgetpid_depth\tdepth=4,cpu=pinned\t7\t7000\t30.000000\t29.000000\t\
             31.500000\tus\tpipe ping-pong x5\t20.000000\t1.500000\t<=2\tyes"
        );
    }

    #[test]
    fn goals() {
        assert_eq!(Goal::AtMost(2.0).met(Some(2.0)), Some(true));
        assert_eq!(Goal::AtLeast(0.8).met(Some(0.7)), Some(false));
        assert_eq!(Goal::Below(1.0).met(Some(1.0)), Some(false));
        assert_eq!(Goal::None.met(Some(1.0)), None);
        assert_eq!(Goal::AtMost(1.1).met(None), None);
        assert_eq!(Goal::AtLeast(1.5).text(), ">=1.5");
    }
}

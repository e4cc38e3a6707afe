use alcove_client::{Drv, Options};
fn cs(pid: i32) -> (u64, u64) {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let g = |k: &str| {
        s.lines()
            .find(|l| l.starts_with(k))
            .unwrap()
            .split_whitespace()
            .nth(1)
            .unwrap()
            .parse::<u64>()
            .unwrap()
    };
    (
        g("voluntary_ctxt_switches"),
        g("nonvoluntary_ctxt_switches"),
    )
}
fn main() {
    let depth: usize = std::env::args().nth(1).map_or(4, |s| s.parse().unwrap());
    let n: usize = std::env::args()
        .nth(2)
        .map_or(20000, |s| s.parse().unwrap());
    let drv = Drv::start(Options::default()).unwrap();
    let mut path = vec![];
    for _ in 0..depth {
        let p = drv.fork(&path).unwrap();
        path.push(p);
    }
    let mut pids = vec![drv.getpid(&[]).unwrap().as_raw()];
    pids.extend(path.iter().map(|p| p.as_raw()));
    let before: Vec<_> = pids.iter().map(|&p| cs(p)).collect();
    let t = std::time::Instant::now();
    for _ in 0..n {
        drv.getpid(&path).unwrap();
    }
    println!("{:?} per op", t.elapsed() / n as u32);
    for (i, &p) in pids.iter().enumerate() {
        let a = cs(p);
        let b = before[i];
        println!(
            "depth {i}: vol {:.2} invol {:.2} per call",
            (a.0 - b.0) as f64 / n as f64,
            (a.1 - b.1) as f64 / n as f64
        );
    }
}

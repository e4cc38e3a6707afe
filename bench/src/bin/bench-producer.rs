//! `bench-producer N`: writes N zero bytes on its stdout, the output that
//! the stdout benchmark and its floor read.
#![forbid(unsafe_code)]

fn main() {
    let mut args = std::env::args().skip(1);
    let bytes = match (args.next().map(|a| a.parse::<u64>()), args.next()) {
        (Some(Ok(n)), None) => n,
        _ => {
            eprintln!("usage: bench-producer BYTES");
            std::process::exit(2);
        }
    };
    if let Err(e) = alcove_bench::floor::produce(bytes) {
        eprintln!("bench-producer: {e}");
        std::process::exit(1);
    }
}

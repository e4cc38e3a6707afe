//! `floor-fork`: fork + _exit (or + execv) + waitpid: the floor of a child's life.
//! See [`alcove_bench::floor::fork`].
#![forbid(unsafe_code)]

fn main() {
    alcove_bench::floor_main("floor-fork", alcove_bench::floor::fork);
}

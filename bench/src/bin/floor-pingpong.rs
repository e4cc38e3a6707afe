//! `floor-pingpong`: A pipe round trip between two processes: the floor of one hop of a call.
//! See [`alcove_bench::floor::pingpong`].
#![forbid(unsafe_code)]

fn main() {
    alcove_bench::floor_main("floor-pingpong", alcove_bench::floor::pingpong);
}

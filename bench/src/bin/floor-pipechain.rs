//! `floor-pipechain`: Bytes through a chain of pipes with one copying process per hop: the floor of stdout relayed up the tree.
//! See [`alcove_bench::floor::pipechain`].
#![forbid(unsafe_code)]

fn main() {
    alcove_bench::floor_main("floor-pipechain", alcove_bench::floor::pipechain);
}

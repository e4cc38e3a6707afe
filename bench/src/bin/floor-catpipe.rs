//! `floor-catpipe`: Bytes to cat and back through plain pipes: the floor of stdin and stdout of an exec'd cat.
//! See [`alcove_bench::floor::catpipe`].
#![forbid(unsafe_code)]

fn main() {
    alcove_bench::floor_main("floor-catpipe", alcove_bench::floor::catpipe);
}

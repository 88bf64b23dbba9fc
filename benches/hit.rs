//! Hit-path benchmarks (being written).

fn main() {}

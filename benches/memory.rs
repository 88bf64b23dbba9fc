//! Bytes per entry (being written).

fn main() {}

mod parse;
mod snapshots;

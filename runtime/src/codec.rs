//! The one place that knows how values are encoded (bincode 2, standard config), so the
//! encoding can be swapped without touching anything else. (Keys, hashed and never decoded,
//! have their own encoding: `key_bytes`.)

use bincode::enc::write::{SizeWriter, Writer};
use bincode::error::EncodeError;
use serde::Serialize;

const CONFIG: bincode::config::Configuration = bincode::config::standard();

/// Appends the encoding of `value` to `buf`.
pub(crate) fn encode_into<T: Serialize + ?Sized>(
    value: &T,
    buf: &mut Vec<u8>,
) -> Result<(), EncodeError> {
    bincode::serde::encode_into_writer(value, VecWriter(buf), CONFIG)
}

/// The encoded size of `value` in bytes, without allocating.
pub(crate) fn encoded_len<T: Serialize + ?Sized>(value: &T) -> Option<usize> {
    let mut size = SizeWriter::default();
    bincode::serde::encode_into_writer(value, &mut size, CONFIG).ok()?;
    Some(size.bytes_written)
}

struct VecWriter<'a>(&'a mut Vec<u8>);

impl Writer for VecWriter<'_> {
    fn write(&mut self, bytes: &[u8]) -> Result<(), EncodeError> {
        self.0.extend_from_slice(bytes);
        Ok(())
    }
}

/// Decodes a `T` from exactly `bytes`, refusing inputs longer than `limit` and any length prefix
/// that would make it allocate more than that. `None` for anything malformed or foreign.
pub(crate) fn decode_limited<T: serde::de::DeserializeOwned>(
    bytes: &[u8],
    limit: usize,
) -> Option<T> {
    /// The allocation ceiling bincode enforces while decoding (a corrupt length cannot ask more).
    const CEILING: usize = 64 * 1024 * 1024;
    if bytes.len() > limit.min(CEILING) {
        return None;
    }
    let (value, read) =
        bincode::serde::decode_from_slice(bytes, CONFIG.with_limit::<CEILING>()).ok()?;
    (read == bytes.len()).then_some(value)
}

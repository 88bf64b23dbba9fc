//! The one place that knows how values are encoded (bincode 2, standard config), so the
//! encoding can be swapped without touching anything else. (Keys, hashed and never decoded,
//! have their own encoding: `key_bytes`.)

use bincode::enc::write::{SizeWriter, Writer};
use bincode::error::EncodeError;
use serde::Serialize;

const CONFIG: bincode::config::Configuration = bincode::config::standard();

/// The allocation ceiling bincode enforces while decoding (a corrupt length cannot ask more).
const CEILING: usize = 64 * 1024 * 1024;

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
    if bytes.len() > limit.min(CEILING) {
        return None;
    }
    let (value, read) =
        bincode::serde::decode_from_slice(bytes, CONFIG.with_limit::<CEILING>()).ok()?;
    (read == bytes.len()).then_some(value)
}

/// A byte string's encoding, written at once: the same bytes as `encode_into` writes for a
/// `Vec<u8>` (its length as bincode's variable-length integer, then the bytes), which serde
/// has bincode write one element at a time.
pub(crate) fn encode_bytes(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + 9);
    let len = bytes.len() as u64;
    match len {
        0..=250 => out.push(len as u8),
        251..=0xffff => {
            out.push(251);
            out.extend_from_slice(&(len as u16).to_le_bytes());
        }
        0x1_0000..=0xffff_ffff => {
            out.push(252);
            out.extend_from_slice(&(len as u32).to_le_bytes());
        }
        _ => {
            out.push(253);
            out.extend_from_slice(&len.to_le_bytes());
        }
    }
    out.extend_from_slice(bytes);
    out
}

/// [`decode_limited`] of a `Vec<u8>`, read at once: a length as bincode writes it (the
/// shortest form), then exactly that many bytes. `None` for anything else. The bytes are
/// taken from `encoded` itself, its length prefix removed in place: nothing is allocated.
pub(crate) fn decode_bytes(mut encoded: Vec<u8>, limit: usize) -> Option<Vec<u8>> {
    let prefix = encoded.len() - bytes_body(&encoded, limit)?.len();
    encoded.drain(..prefix);
    Some(encoded)
}

/// The bytes a `Vec<u8>`'s encoding holds, after its length: see [`decode_bytes`].
fn bytes_body(bytes: &[u8], limit: usize) -> Option<&[u8]> {
    if bytes.len() > limit.min(CEILING) {
        return None;
    }
    let (&marker, rest) = bytes.split_first()?;
    let (len, body) = match marker {
        0..=250 => (u64::from(marker), rest),
        251 => {
            let (len, body) = rest.split_first_chunk::<2>()?;
            (u64::from(u16::from_le_bytes(*len)), body)
        }
        252 => {
            let (len, body) = rest.split_first_chunk::<4>()?;
            (u64::from(u32::from_le_bytes(*len)), body)
        }
        253 => {
            let (len, body) = rest.split_first_chunk::<8>()?;
            (u64::from_le_bytes(*len), body)
        }
        _ => return None,
    };
    (u64::try_from(body.len()).ok()? == len).then_some(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn by_serde(bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        encode_into(&bytes.to_vec(), &mut out).unwrap_or_default();
        out
    }

    #[test]
    fn byte_strings_encode_as_serde_encodes_them() {
        for len in [0, 1, 250, 251, 252, 300, 65_535, 65_536, 70_000] {
            let bytes: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let encoded = encode_bytes(&bytes);
            assert_eq!(encoded, by_serde(&bytes), "{len} bytes");
            assert_eq!(
                decode_bytes(encoded.clone(), usize::MAX),
                Some(bytes),
                "{len} bytes"
            );
        }
    }

    #[test]
    fn byte_strings_decode_as_serde_decodes_them() {
        let inputs: [&[u8]; 12] = [
            &[],
            &[3, 1, 2],
            &[3, 1, 2, 3, 4],
            &[251, 5],
            &[251, 2, 0, 7, 7],
            &[251, 3, 0, 7, 7],
            &[252, 1, 0, 0, 0, 9],
            &[253, 1, 0, 0, 0, 0, 0, 0, 0, 9],
            &[253, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 9],
            &[254, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9],
            &[255, 9],
            &[0],
        ];
        for input in inputs {
            let expected: Option<Vec<u8>> = decode_limited(input, usize::MAX);
            assert_eq!(
                decode_bytes(input.to_vec(), usize::MAX),
                expected,
                "{input:?}"
            );
        }
        assert_eq!(decode_bytes(vec![2, 1, 2], 2), None, "over the limit");
    }
}

//! The bytes a key is hashed from: one word for a short key, a buffer on the caller's stack for
//! a longer one, spilling into a reused per-thread one only for large arguments; and the serde
//! serializer that writes arguments into them. Keys are hashed, never decoded, so the encoding only has to be injective for a given
//! sequence of argument types: fixed-width little-endian integers, a length before every string,
//! byte string, sequence and map (patched in afterwards when serde does not know it up front),
//! a tag byte for `Option`, the variant index for enum variants, and a presence byte before
//! every struct field (`skip_serializing_if` may leave fields out).

mod serializer;
#[cfg(test)]
mod tests;

use serde::Serialize;
pub(crate) use serializer::KeyError;
use serializer::KeySerializer;
use std::cell::Cell;

/// Keys shorter than this are kept as one little-endian word (the form their hash takes).
pub(crate) const SHORT: usize = 16;

/// Reused spill buffers larger than this are dropped instead of kept: one oversized argument
/// must not pin its size in every thread for the life of the process.
pub(crate) const REUSED_BUFFER_LIMIT: usize = 4096;

thread_local! {
    /// The spill buffer of the keys built on this thread: no allocation once warm.
    static SPILL: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
}

/// A key's bytes so far.
///
/// Most keys are one or two small arguments: while a key is shorter than [`SHORT`] bytes its
/// bytes are kept in one word, little-endian, which is what the hash reads (an integer argument
/// is one shift and one or: no buffer is zeroed, copied or moved). A longer key moves to this
/// thread's reused buffer (its hash, xxh3, costs several times the move).
pub(crate) struct KeyBytes {
    /// The bytes of a short key, little-endian; unused once the key is long.
    word: u128,
    /// The length of a short key.
    len: usize,
    /// The bytes of a long key: this thread's reused buffer, taken.
    long: Option<Vec<u8>>,
}

/// A key, as its hash reads it.
pub(crate) enum KeyView<'a> {
    /// Shorter than [`SHORT`] bytes: the bytes little-endian, the length in the top byte (which
    /// the bytes never reach), so that two short keys never share a word.
    Short(u128),
    /// The bytes of a longer key.
    Long(&'a [u8]),
}

impl KeyBytes {
    #[inline]
    pub(crate) fn new() -> KeyBytes {
        KeyBytes::starting_with(None)
    }

    /// The bytes of a key that starts with `prefix` (an instantiation digest), if any.
    #[inline]
    pub(crate) fn starting_with(prefix: Option<[u8; 16]>) -> KeyBytes {
        let mut bytes = KeyBytes {
            word: 0,
            len: 0,
            long: None,
        };
        if let Some(prefix) = prefix {
            bytes.push(&prefix);
        }
        bytes
    }

    /// Appends `bytes`. Always inlined: an argument's width is known where it is encoded, and
    /// a short key's push is then a shift and an or.
    #[inline(always)]
    pub(crate) fn push(&mut self, bytes: &[u8]) {
        let end = self.len + bytes.len();
        if self.long.is_none() && end < SHORT {
            self.word |= le_word(bytes) << (self.len * 8);
            self.len = end;
        } else {
            // The buffer is passed and given back rather than reached through `self`, so that
            // a short key's bytes stay in registers.
            self.long = Some(push_long(self.long.take(), self.word, self.len, bytes));
        }
    }
    /// The key as its hash reads it.
    #[inline]
    pub(crate) fn view(&self) -> KeyView<'_> {
        match &self.long {
            Some(long) => KeyView::Long(long),
            None => KeyView::Short(self.word | (self.len as u128) << 120),
        }
    }

    /// Calls `read` with the key's bytes.
    pub(crate) fn with_slice<T>(&self, read: impl FnOnce(&[u8]) -> T) -> T {
        match &self.long {
            Some(long) => read(long),
            None => read(self.word.to_le_bytes().get(..self.len).unwrap_or_default()),
        }
    }

    pub(crate) fn position(&self) -> usize {
        match &self.long {
            Some(long) => long.len(),
            None => self.len,
        }
    }

    /// Writes `value` at `at`, where a placeholder of the same width was pushed.
    pub(super) fn patch_u64(&mut self, at: usize, value: u64) {
        match &mut self.long {
            Some(long) => {
                if let Some(slot) = long.get_mut(at..at + 8) {
                    slot.copy_from_slice(&value.to_le_bytes());
                }
            }
            None if at + 8 <= self.len => {
                let shift = at * 8;
                self.word =
                    self.word & !(u128::from(u64::MAX) << shift) | u128::from(value) << shift;
            }
            None => {}
        }
    }

    /// Appends the key encoding of `value`; `Err` if its `Serialize` failed.
    #[inline]
    pub(crate) fn encode<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), KeyError> {
        value.serialize(KeySerializer { out: self })
    }

    /// Gives a spill buffer back to this thread for the next large key. (Without this, as when
    /// a key is abandoned half-built, the buffer is simply freed.)
    #[inline]
    pub(crate) fn recycle(&mut self) {
        if let Some(long) = self.long.take() {
            recycle_spill(long);
        }
    }
}

/// Appends `bytes` to a long key's buffer; with none yet (a short key reaching [`SHORT`]
/// bytes), to this thread's buffer, after the short key's `len` bytes in `word`.
#[inline(never)]
fn push_long(long: Option<Vec<u8>>, word: u128, len: usize, bytes: &[u8]) -> Vec<u8> {
    let mut long = long.unwrap_or_else(|| {
        let mut long = SPILL.with(Cell::take);
        long.clear();
        long.extend_from_slice(word.to_le_bytes().get(..len).unwrap_or_default());
        long
    });
    long.extend_from_slice(bytes);
    long
}

/// `bytes` (fewer than [`SHORT`]) as a little-endian word, zero above them.
///
/// Read with overlapping loads rather than copied into a zeroed buffer: a copy of a length
/// known only at run time is a call to `memcpy`. Where two loads overlap they read the same
/// bytes into the same places, so or-ing them builds the same word. Inlined where the length is
/// known (an integer argument), it is one load.
#[inline(always)]
pub(crate) fn le_word(bytes: &[u8]) -> u128 {
    let low_up_to_8 = |bytes: &[u8]| -> u64 {
        match bytes.len() {
            0 => 0,
            1..=3 => {
                let (first, middle, last) =
                    (bytes[0], bytes[bytes.len() / 2], bytes[bytes.len() - 1]);
                u64::from(first)
                    | u64::from(middle) << (bytes.len() / 2 * 8)
                    | u64::from(last) << ((bytes.len() - 1) * 8)
            }
            4..=7 => {
                let head = u32_at(bytes, 0);
                let tail = u32_at(bytes, bytes.len() - 4);
                u64::from(head) | u64::from(tail) << ((bytes.len() - 4) * 8)
            }
            _ => u64_at(bytes, 0),
        }
    };
    let len = bytes.len();
    match len {
        0..=8 => u128::from(low_up_to_8(bytes)),
        _ => {
            // Bytes 8.. read as the last eight and shifted down past the overlap.
            let high = u64_at(bytes, len - 8) >> ((16 - len.min(16)) * 8);
            u128::from(u64_at(bytes, 0)) | u128::from(high) << 64
        }
    }
}

/// The little-endian `u32` at `at` (`at + 4 <= bytes.len()`, checked by the callers' lengths).
#[inline]
fn u32_at(bytes: &[u8], at: usize) -> u32 {
    let mut word = [0; 4];
    word.copy_from_slice(&bytes[at..at + 4]);
    u32::from_le_bytes(word)
}

/// The little-endian `u64` at `at` (`at + 8 <= bytes.len()`, checked by the callers' lengths).
#[inline]
fn u64_at(bytes: &[u8], at: usize) -> u64 {
    let mut word = [0; 8];
    word.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(word)
}

#[cold]
fn recycle_spill(spill: Vec<u8>) {
    if spill.capacity() <= REUSED_BUFFER_LIMIT {
        SPILL.with(|cell| cell.set(spill));
    }
}

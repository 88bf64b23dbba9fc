//! The bytes a key is hashed from: a buffer on the caller's stack that spills into a reused
//! per-thread one only for large arguments, and the serde serializer that writes arguments into
//! it. A key shorter than 16 bytes is read as one word (the form its hash takes). Keys are
//! hashed, never decoded, so the encoding only has to be injective for a given sequence of
//! argument types: fixed-width little-endian integers, a length before every string,
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

/// Bytes kept on the stack: a few arguments, strings included, fit.
const INLINE: usize = 64;

/// Keys shorter than this are hashed as one little-endian word.
const SHORT: usize = 16;

/// Reused spill buffers larger than this are dropped instead of kept: one oversized argument
/// must not pin its size in every thread for the life of the process.
pub(crate) const REUSED_BUFFER_LIMIT: usize = 4096;

thread_local! {
    /// The spill buffer of the keys built on this thread: no allocation once warm.
    static SPILL: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
}

/// A key's bytes so far.
///
/// Its bytes past `len` are zero while it is short ([`view`](Self::view) reads the first 16 as
/// the key's word). Never passed out of line on the hit path: where every argument has a known
/// width (integers), the compiler then keeps the whole buffer in registers and the word is the
/// arguments themselves; a key with a string is built in memory, as it must be.
pub(crate) struct KeyBytes {
    inline: [u8; INLINE],
    len: usize,
    spill: Option<Vec<u8>>,
}

impl KeyBytes {
    /// An empty key. (An instantiation's digest is no prefix of its bytes but part of its
    /// hash's keying: every offset into the buffer is then known where the arguments have known
    /// widths.)
    #[inline]
    pub(crate) fn new() -> KeyBytes {
        KeyBytes {
            inline: [0; INLINE],
            len: 0,
            spill: None,
        }
    }

    #[inline]
    pub(crate) fn push(&mut self, bytes: &[u8]) {
        if let Some(spill) = &mut self.spill {
            spill.extend_from_slice(bytes);
            return;
        }
        let end = self.len + bytes.len();
        match self.inline.get_mut(self.len..end) {
            Some(room) => {
                room.copy_from_slice(bytes);
                self.len = end;
            }
            None => self.spill_over().extend_from_slice(bytes),
        }
    }

    /// Moves to the per-thread spill buffer, once the bytes outgrow the inline ones.
    #[cold]
    fn spill_over(&mut self) -> &mut Vec<u8> {
        let mut spill = SPILL.with(Cell::take);
        spill.clear();
        spill.extend_from_slice(self.inline.get(..self.len).unwrap_or_default());
        self.spill.insert(spill)
    }

    pub(crate) fn as_slice(&self) -> &[u8] {
        match &self.spill {
            Some(spill) => spill,
            None => self.inline.get(..self.len).unwrap_or_default(),
        }
    }

    /// The key as its hash reads it.
    #[inline(always)]
    pub(crate) fn view(&self) -> KeyView<'_> {
        match (&self.spill, self.inline.first_chunk::<SHORT>()) {
            // Zero past `len`: the buffer starts zeroed and is only written up to `len`.
            (None, Some(word)) if self.len < SHORT => {
                KeyView::Short(u128::from_le_bytes(*word) | (self.len as u128) << 120)
            }
            _ => KeyView::Long(self.as_slice()),
        }
    }

    pub(crate) fn position(&self) -> usize {
        self.spill.as_ref().map_or(self.len, Vec::len)
    }

    /// Writes `value` at `at`, where a placeholder of the same width was pushed.
    pub(super) fn patch_u64(&mut self, at: usize, value: u64) {
        let bytes = value.to_le_bytes();
        let slot = match &mut self.spill {
            Some(spill) => spill.get_mut(at..at + 8),
            None => self.inline.get_mut(at..at + 8),
        };
        if let Some(slot) = slot {
            slot.copy_from_slice(&bytes);
        }
    }

    /// Appends the key encoding of `value`; `Err` if its `Serialize` failed.
    #[inline]
    pub(crate) fn encode<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), KeyError> {
        value.serialize(KeySerializer { out: self })
    }
}

impl KeyBytes {
    /// Gives a spill buffer back to this thread for the next large key. (Without this, as when
    /// a key is abandoned half-built, the buffer is simply freed.)
    #[inline]
    pub(crate) fn recycle(&mut self) {
        if let Some(spill) = self.spill.take() {
            recycle_spill(spill);
        }
    }
}

/// A key, as its hash reads it.
pub(crate) enum KeyView<'a> {
    /// Shorter than [`SHORT`] bytes: the bytes little-endian, the length in the top byte (which
    /// the bytes never reach), so that two short keys never share a word.
    Short(u128),
    /// The bytes of a longer key.
    Long(&'a [u8]),
}

#[cold]
fn recycle_spill(spill: Vec<u8>) {
    if spill.capacity() <= REUSED_BUFFER_LIMIT {
        SPILL.with(|cell| cell.set(spill));
    }
}

//! The bytes a key is hashed from: a buffer on the caller's stack that spills into a reused
//! per-thread one only for large arguments, and the serde serializer that writes arguments into
//! it. Keys are hashed, never decoded, so the encoding only has to be injective for a given
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

/// Bytes kept on the stack: the seed, an instantiation digest and a few arguments fit.
const INLINE: usize = 64;

/// Reused spill buffers larger than this are dropped instead of kept: one oversized argument
/// must not pin its size in every thread for the life of the process.
pub(crate) const REUSED_BUFFER_LIMIT: usize = 4096;

thread_local! {
    /// The spill buffer of the keys built on this thread: no allocation once warm.
    static SPILL: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
}

/// A key's bytes so far.
pub(crate) struct KeyBytes {
    inline: [u8; INLINE],
    len: usize,
    spill: Option<Vec<u8>>,
}

impl KeyBytes {
    #[inline]
    pub(crate) fn new() -> KeyBytes {
        KeyBytes::starting_with(None)
    }

    /// The bytes of a key that starts with `prefix` (an instantiation digest), if any.
    #[inline]
    pub(crate) fn starting_with(prefix: Option<[u8; 16]>) -> KeyBytes {
        let mut inline = [0; INLINE];
        let len = match prefix {
            Some(prefix) => {
                let (start, _) = inline.split_at_mut(prefix.len());
                start.copy_from_slice(&prefix);
                prefix.len()
            }
            None => 0,
        };
        KeyBytes {
            inline,
            len,
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

    pub(super) fn position(&self) -> usize {
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

#[cold]
fn recycle_spill(spill: Vec<u8>) {
    if spill.capacity() <= REUSED_BUFFER_LIMIT {
        SPILL.with(|cell| cell.set(spill));
    }
}

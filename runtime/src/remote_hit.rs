//! What a Redis hit carries back through the tier seam without an allocation: the generations
//! its value was stored under, and its type's fingerprint.

/// A stored value's schema fingerprint, as read: `None` if what was read is not 16 bytes long
/// (no fingerprint of ours). On the stack: a Redis hit compares it, and allocated nothing for
/// it.
pub(crate) type Schema = Option<[u8; 16]>;

/// The [`Schema`] `bytes` hold.
#[cfg(any(test, feature = "redis"))]
pub(crate) fn schema_of(bytes: &[u8]) -> Schema {
    bytes.try_into().ok()
}

/// How many bytes of generations a hit keeps on the stack: three tags' (the function's, the
/// epoch, one of the entry's), each counter up to 19 digits, and their commas.
const INLINE_GENERATIONS: usize = 64;

/// The generations a value was stored under (counters joined by commas), as a hit carries them:
/// on the stack when they fit (a hit only compares them, and drops them unless its value is
/// refused), else on the heap.
#[derive(Clone, Debug)]
pub(crate) enum Generations {
    Inline(u8, [u8; INLINE_GENERATIONS]),
    Heap(Vec<u8>),
}

impl Default for Generations {
    fn default() -> Self {
        Generations::Inline(0, [0; INLINE_GENERATIONS])
    }
}

impl Generations {
    /// Appends `bytes`, moving to the heap once they no longer fit.
    pub(crate) fn extend(&mut self, bytes: &[u8]) {
        match self {
            Generations::Inline(len, inline) => {
                let start = usize::from(*len);
                match inline.get_mut(start..start + bytes.len()) {
                    Some(room) => {
                        room.copy_from_slice(bytes);
                        // Within the array: fits in a `u8`.
                        *len = (start + bytes.len()) as u8;
                    }
                    None => {
                        let mut heap = Vec::with_capacity(start + bytes.len());
                        heap.extend_from_slice(&inline[..start]);
                        heap.extend_from_slice(bytes);
                        *self = Generations::Heap(heap);
                    }
                }
            }
            Generations::Heap(heap) => heap.extend_from_slice(bytes),
        }
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        match self {
            Generations::Inline(len, inline) => &inline[..usize::from(*len)],
            Generations::Heap(heap) => heap,
        }
    }

    pub(crate) fn into_vec(self) -> Vec<u8> {
        match self {
            Generations::Inline(..) => self.as_bytes().to_vec(),
            Generations::Heap(heap) => heap,
        }
    }
}

impl std::ops::Deref for Generations {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        self.as_bytes()
    }
}

/// The same generations, wherever they are kept.
impl PartialEq for Generations {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for Generations {}

impl From<Vec<u8>> for Generations {
    fn from(bytes: Vec<u8>) -> Self {
        Generations::Heap(bytes)
    }
}

impl From<&[u8]> for Generations {
    fn from(bytes: &[u8]) -> Self {
        let mut generations = Generations::default();
        generations.extend(bytes);
        generations
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generations_stay_inline_until_they_do_not_fit_then_move_whole() {
        let mut generations = Generations::default();
        generations.extend(b"1234567890123456789");
        generations.extend(b",");
        assert!(matches!(generations, Generations::Inline(20, _)));
        for _ in 0..3 {
            generations.extend(b"1234567890123456789,");
        }
        assert!(matches!(generations, Generations::Heap(_)));
        assert_eq!(
            generations.as_bytes(),
            "1234567890123456789,".repeat(4).as_bytes()
        );
        assert_eq!(generations.clone().into_vec(), generations.as_bytes());
        let inline = Generations::from(&b"3,4"[..]);
        assert_eq!(
            inline,
            Generations::from(b"3,4".to_vec()),
            "equal wherever kept"
        );
        assert_eq!(inline.into_vec(), b"3,4");
    }

    #[test]
    fn a_schema_is_sixteen_bytes_or_none() {
        assert_eq!(schema_of(b"0123456789abcdef"), Some(*b"0123456789abcdef"));
        assert_eq!(schema_of(b"not-our-type"), None);
    }
}

//! A key's 128-bit hash, keyed by its function's identity.
//!
//! Keys shorter than 16 bytes (one or two integers, a short string: most keys) are packed into
//! one 128-bit word, their length in its top byte, and put through a permutation keyed by the
//! identity: two short keys of one function never share a hash (two multiplications where xxh3
//! took its rounds; a hit's time measured within noise of xxh3's, in or out of line). Longer
//! keys are hashed with xxh3-128 seeded by the identity and masked with the rest of it, so that
//! two functions never share a key space (a 64-bit seed alone could, for one pair in 2⁶⁴).
//!
//! The hash names the key in memory and in the shared store alike: changing it orphans what
//! the shared store holds (read as misses, never as another key's value).

use crate::function::FunctionState;
use crate::key_bytes::{KeyBytes, KeyView};

/// What a key's hash is keyed by: its function's identity, or, for one instantiation of a
/// generic body, that identity with the instantiation's digest folded in (so that two
/// instantiations' keys are apart as two functions' are, and the digest is no prefix of the
/// key's bytes: their offsets stay known where the key is built).
///
/// One 128-bit word: a long key's xxh3 is seeded with its low half and masked with the whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Keying {
    mask: u128,
}

impl Keying {
    /// The keying of `function`'s keys.
    #[inline]
    pub(crate) fn of(function: &FunctionState) -> Keying {
        Keying {
            mask: function.key_mask,
        }
    }

    /// The keying of one instantiation's keys: `digest` (of its name) folded into the
    /// function's.
    pub(crate) fn instance(function: &FunctionState, digest: [u8; 16]) -> Keying {
        Keying {
            mask: function.key_mask ^ u128::from_le_bytes(digest),
        }
    }
}

/// The hash of a key being built.
#[inline(always)]
pub(crate) fn of_key(keying: Keying, key: &KeyBytes) -> u128 {
    match key.view() {
        KeyView::Short(word) => permute(keying, word),
        KeyView::Long(bytes) => of_long(keying, bytes),
    }
}

/// The hash of `bytes`: the same as [`of_key`] on a key of these bytes.
pub(crate) fn of_bytes(keying: Keying, bytes: &[u8]) -> u128 {
    match short_word(bytes) {
        Some(word) => permute(keying, word),
        None => of_long(keying, bytes),
    }
}

/// The word of a key shorter than 16 bytes: its bytes little-endian, its length in the top
/// byte (which its bytes never reach), so that two short keys never share a word. (A key being
/// built gives its word itself: [`KeyView::Short`].)
///
/// Read with overlapping loads rather than copied into a zeroed buffer: a copy of a length
/// known only at run time is a call to `memcpy`, about a quarter of the hash's instructions on
/// a hit's key (callgrind). Where two loads overlap they read the same bytes into the same
/// places, so or-ing them builds the same word.
#[inline]
fn short_word(bytes: &[u8]) -> Option<u128> {
    let len = bytes.len();
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
    let word = match len {
        0..=8 => u128::from(low_up_to_8(bytes)),
        9..=15 => {
            // Bytes 8.. of the key, read as the last eight and shifted down past the overlap.
            let high = u64_at(bytes, len - 8) >> ((16 - len) * 8);
            u128::from(u64_at(bytes, 0)) | u128::from(high) << 64
        }
        _ => return None,
    };
    Some(word | (len as u128) << 120)
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

fn of_long(keying: Keying, bytes: &[u8]) -> u128 {
    xxhash_rust::xxh3::xxh3_128_with_seed(bytes, keying.mask as u64) ^ keying.mask
}

/// A bijection of 128-bit words keyed by the function's identity: odd multipliers and
/// xor-shifts are each invertible, and the second key, mixed in after the first
/// multiplication, keeps two functions' permutations from being shifts of one another. The
/// low half (the engine's slot key) depends on every bit of the word.
#[inline]
fn permute(keying: Keying, word: u128) -> u128 {
    const FIRST: u128 = 0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835;
    const SECOND: u128 = 0xd6e8_feb8_6659_fd93_2545_f491_4f6c_dd1d;
    let key = keying.mask;
    let mixed = (word ^ key).wrapping_mul(FIRST);
    let mixed = (mixed ^ (mixed >> 64) ^ key.rotate_left(64)).wrapping_mul(SECOND);
    mixed ^ (mixed >> 64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn function(name: &str) -> Keying {
        Keying::of(&FunctionState::new(name.into(), 0, None))
    }

    fn builder_of(bytes: &[u8]) -> KeyBytes {
        let mut builder = KeyBytes::new();
        builder.push(bytes);
        builder
    }

    #[test]
    fn a_builder_and_its_bytes_hash_alike_at_every_length() {
        let f = function("m::f");
        let bytes: Vec<u8> = (1..=80).collect();
        for len in 0..=bytes.len() {
            let key = &bytes[..len];
            let mut builder = builder_of(key);
            assert_eq!(of_key(f, &builder), of_bytes(f, key), "{len} bytes");
            assert_eq!(builder.as_slice(), key, "{len} bytes");
            builder.recycle();
        }
    }

    #[test]
    fn an_instantiations_keys_are_apart_from_its_functions_and_each_others() {
        let state = FunctionState::new("m::f".into(), 0, None);
        let (plain, a, b) = (
            Keying::of(&state),
            Keying::instance(&state, [1; 16]),
            Keying::instance(&state, [2; 16]),
        );
        assert_eq!(a, Keying::instance(&state, [1; 16]));
        for key in [&b""[..], &7u64.to_le_bytes(), &[5; 40]] {
            let hashes = [of_bytes(plain, key), of_bytes(a, key), of_bytes(b, key)];
            assert_ne!(hashes[0], hashes[1], "{key:?}");
            assert_ne!(hashes[0], hashes[2], "{key:?}");
            assert_ne!(hashes[1], hashes[2], "{key:?}");
        }
    }

    #[test]
    fn a_key_pushed_a_byte_at_a_time_hashes_like_its_bytes() {
        let f = function("m::f");
        let bytes: Vec<u8> = (1..=40).collect();
        for len in 0..=bytes.len() {
            let mut builder = KeyBytes::new();
            for byte in &bytes[..len] {
                builder.push(std::slice::from_ref(byte));
            }
            assert_eq!(
                of_key(f, &builder),
                of_bytes(f, &bytes[..len]),
                "{len} bytes"
            );
            builder.recycle();
        }
    }

    #[test]
    fn short_keys_of_one_function_never_share_a_hash() {
        let f = function("m::f");
        let mut keys: Vec<Vec<u8>> = vec![vec![], vec![0; 15]];
        keys.extend((0..=u16::MAX).map(|n| n.to_le_bytes().to_vec()));
        keys.extend((0..=u8::MAX).map(|n| vec![n]));
        keys.extend((0..50_000u64).map(|n| n.to_le_bytes().to_vec()));
        keys.extend(
            (0..1_000u64).map(|n| [n.to_le_bytes(), n.to_be_bytes()].concat()[1..].to_vec()),
        );
        let keys: HashSet<Vec<u8>> = keys.into_iter().collect();
        let hashes: HashSet<u128> = keys.iter().map(|key| of_bytes(f, key)).collect();
        assert_eq!(hashes.len(), keys.len());
    }

    #[test]
    fn two_functions_hash_the_same_bytes_apart() {
        let (f, g) = (function("m::f"), function("m::g"));
        for key in [&b""[..], b"\x07", &7u64.to_le_bytes(), &[3; 16], &[5; 40]] {
            assert_ne!(of_bytes(f, key), of_bytes(g, key), "{key:?}");
        }
    }

    #[test]
    fn a_short_word_is_its_bytes_zero_padded_with_its_length_on_top() {
        let bytes: Vec<u8> = (0xa1..=0xb0).collect();
        for len in 0..16 {
            let key = &bytes[..len];
            let mut padded = [0u8; 16];
            padded[..len].copy_from_slice(key);
            let expected = u128::from_le_bytes(padded) | (len as u128) << 120;
            assert_eq!(short_word(key), Some(expected), "{len} bytes");
        }
    }

    #[test]
    fn keys_from_sixteen_bytes_go_through_xxh3() {
        let f = function("m::f");
        assert_eq!(short_word(&[1; 15]).map(|w| (w >> 120) as u8), Some(15));
        assert_eq!(short_word(&[1; 16]), None);
        let long = [9u8; 16];
        assert_eq!(of_bytes(f, &long), of_long(f, &long));
    }

    /// The engine takes the low half as the slot key, its shards and buckets from its low bits
    /// and its probe tags from its top 7: sequential ids spread evenly over all three.
    #[test]
    fn sequential_ids_spread_over_the_slot_keys_bits() {
        let f = function("m::f");
        let slots: Vec<u64> = (0..65_536u64)
            .map(|id| of_bytes(f, &id.to_le_bytes()) as u64)
            .collect();
        let spread = |bucket: &dyn Fn(u64) -> usize, buckets: usize| {
            let mut counts = vec![0usize; buckets];
            for slot in &slots {
                counts[bucket(*slot)] += 1;
            }
            let mean = slots.len() / buckets;
            let (min, max) = (counts.iter().min(), counts.iter().max());
            assert!(
                min >= Some(&(mean * 3 / 4)) && max <= Some(&(mean * 5 / 4)),
                "{min:?}..{max:?} around {mean}"
            );
        };
        spread(&|slot| (slot & 0xff) as usize, 256);
        spread(&|slot| (slot >> 57) as usize, 128);
        spread(&|slot| ((slot >> 20) & 0xff) as usize, 256);
    }
}

use super::*;
use serde::Serializer;
use std::collections::BTreeMap;

fn bytes_of<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
    let mut bytes = KeyBytes::new();
    bytes.encode(value).unwrap_or_else(|_| panic!("encodes"));
    let encoded = bytes.as_slice().to_vec();
    bytes.recycle();
    encoded
}

#[test]
fn integers_are_fixed_width_little_endian() {
    assert_eq!(bytes_of(&7u64), 7u64.to_le_bytes());
    assert_eq!(bytes_of(&-1i16), (-1i16).to_le_bytes());
    assert_eq!(bytes_of(&true), [1]);
}

#[test]
fn strings_and_sequences_are_length_prefixed() {
    // Without the lengths, ("ab", "c") and ("a", "bc") would be the same bytes.
    assert_ne!(bytes_of(&("ab", "c")), bytes_of(&("a", "bc")));
    assert_ne!(
        bytes_of(&(vec![1u8, 2], vec![3u8])),
        bytes_of(&(vec![1u8], vec![2u8, 3]))
    );
    assert_eq!(&bytes_of("hi")[..8], &2u64.to_le_bytes());
}

#[test]
fn options_and_variants_are_tagged() {
    assert_ne!(bytes_of(&None::<u8>), bytes_of(&Some(0u8)));
    assert_ne!(bytes_of(&Ok::<u8, u8>(1)), bytes_of(&Err::<u8, u8>(1)));
}

/// A sequence whose length serde does not know up front (an iterator): its length is patched
/// in afterwards, so it is encoded exactly like the same elements from a `Vec`.
struct Unsized(Vec<u32>);

impl Serialize for Unsized {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().filter(|_| true))
    }
}

#[test]
fn a_sequence_of_unknown_length_gets_its_length_afterwards() {
    assert_eq!(
        bytes_of(&Unsized(vec![1, 2, 3])),
        bytes_of(&vec![1u32, 2, 3])
    );
    assert_ne!(
        bytes_of(&(Unsized(vec![1]), Unsized(vec![2, 3]))),
        bytes_of(&(Unsized(vec![1, 2]), Unsized(vec![3])))
    );
    let map: BTreeMap<u8, &str> = [(1, "a"), (2, "b")].into();
    assert_eq!(&bytes_of(&map)[..8], &2u64.to_le_bytes());
}

#[test]
fn a_short_key_is_patched_in_place_and_grows_whole() {
    // Lengths patched while the key is short (read as one word).
    assert_eq!(bytes_of(&Unsized(vec![])), 0u64.to_le_bytes());
    let one = [&1u64.to_le_bytes()[..], &7u32.to_le_bytes()].concat();
    assert_eq!(bytes_of(&Unsized(vec![7])), one);
    // A key that reaches 16 bytes part-way through an argument keeps every byte, in order.
    let expected = [&[1u8][..], &2u64.to_le_bytes(), &3u64.to_le_bytes()].concat();
    assert_eq!(bytes_of(&(1u8, 2u64, 3u64)), expected);
    // And a length patched after the key reached 16 bytes lands where it was pushed.
    let patched = [&[1u8][..], &2u64.to_le_bytes(), &[9; 4], &[5; 4]].concat();
    assert_eq!(
        bytes_of(&(
            1u8,
            Unsized(vec![u32::from_le_bytes([9; 4]), u32::from_le_bytes([5; 4])])
        )),
        patched
    );
}

#[derive(serde::Serialize)]
struct Sparse {
    #[serde(skip_serializing_if = "Option::is_none")]
    a: Option<u8>,
    b: u8,
}

#[test]
fn skipped_struct_fields_keep_the_encoding_unambiguous() {
    let left = bytes_of(&Sparse { a: None, b: 1 });
    let right = bytes_of(&Sparse { a: Some(1), b: 1 });
    assert_ne!(left, right);
}

/// Formats into the key through `collect_str`, as `Display`-based `Serialize` impls do.
struct Shown(u32);

impl Serialize for Shown {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&format_args!("#{}", self.0))
    }
}

#[test]
fn displayed_values_are_written_straight_into_the_key() {
    assert_eq!(bytes_of(&Shown(42)), bytes_of("#42"));
}

#[test]
fn large_keys_spill_and_stay_whole() {
    let long = "x".repeat(1000);
    let bytes = bytes_of(&(1u64, long.as_str(), 2u64));
    assert_eq!(bytes.len(), 8 + 8 + 1000 + 8);
    assert_eq!(&bytes[..8], &1u64.to_le_bytes());
    assert_eq!(&bytes[bytes.len() - 8..], &2u64.to_le_bytes());
    // Patching a length after a spill lands in the spilled bytes.
    let spilled = bytes_of(&(long.as_str(), Unsized(vec![5, 6])));
    assert_eq!(&spilled[8 + 1000..8 + 1000 + 8], &2u64.to_le_bytes());
}

/// A `Serialize` impl that fails: the key is refused, not partial.
struct Failing;

impl Serialize for Failing {
    fn serialize<S: Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        Err(serde::ser::Error::custom("no"))
    }
}

#[test]
fn a_failing_argument_is_an_error() {
    let mut bytes = KeyBytes::new();
    assert!(bytes.encode(&Failing).is_err());
}

//! Lowercase hex digits written into a stack array: the names a Redis hit builds (the value's
//! key, the schema fingerprint it compares) without going through `fmt`'s machinery, which
//! showed in the client's profile.

/// The low `N` nibbles of `value` as `N` lowercase hex digits, most significant first (`N` at
/// most 32).
pub(crate) fn digits<const N: usize>(value: u128) -> [u8; N] {
    let mut all = [0u8; 32];
    all[..16].copy_from_slice(&sixteen((value >> 64) as u64));
    all[16..].copy_from_slice(&sixteen(value as u64));
    let mut digits = [0u8; N];
    digits.copy_from_slice(&all[32 - N..]);
    digits
}

/// 16 hex digits of `value` at once: each nibble spread into a byte of its own (nibble `i`
/// into byte `i`), then made a digit in every byte together (`'0'` added, and 39 more where
/// the nibble is 10 or more: `'a'` is 39 past `'9' + 1`). A loop over the nibbles cost about
/// 130 instructions a name, twice a Redis hit.
fn sixteen(value: u64) -> [u8; 16] {
    const BYTES: u128 = 0x0101_0101_0101_0101_0101_0101_0101_0101;
    let mut spread = u128::from(value);
    spread = (spread | (spread << 32)) & 0x0000_0000_ffff_ffff_0000_0000_ffff_ffff;
    spread = (spread | (spread << 16)) & 0x0000_ffff_0000_ffff_0000_ffff_0000_ffff;
    spread = (spread | (spread << 8)) & 0x00ff_00ff_00ff_00ff_00ff_00ff_00ff_00ff;
    spread = (spread | (spread << 4)) & (0x0f * BYTES);
    // No byte carries into the next: a nibble plus 6 is at most 21, a digit at most 102.
    let letters = ((spread + 0x06 * BYTES) >> 4) & BYTES;
    (spread + 0x30 * BYTES + letters * 39).to_be_bytes()
}

#[cfg(test)]
mod tests {
    #[test]
    fn digits_are_the_formatted_hex() {
        let value = 0x0123_4567_89ab_cdef_fedc_ba98_7654_3210_u128;
        assert_eq!(
            super::digits::<32>(value),
            *format!("{value:032x}").as_bytes()
        );
        let low = value as u64;
        assert_eq!(
            super::digits::<16>(value),
            *format!("{low:016x}").as_bytes()
        );
        assert_eq!(super::digits::<4>(0xa), *b"000a");
        for value in [0, u128::MAX, 0x9a9a_0f0f_f0f0_1234_5678_9abc_def0_0fed] {
            assert_eq!(
                super::digits::<32>(value),
                *format!("{value:032x}").as_bytes()
            );
        }
    }
}

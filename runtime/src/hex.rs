//! Lowercase hex digits written into a stack array: the names a Redis hit builds (the value's
//! key, the schema fingerprint it compares) without going through `fmt`'s machinery, which
//! showed in the client's profile.

/// The low `N` nibbles of `value` as `N` lowercase hex digits, most significant first.
pub(crate) fn digits<const N: usize>(value: u128) -> [u8; N] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut digits = [0u8; N];
    for (i, digit) in digits.iter_mut().enumerate() {
        let nibble = (value >> (4 * (N - 1 - i))) & 0xf;
        *digit = HEX[nibble as usize];
    }
    digits
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
    }
}

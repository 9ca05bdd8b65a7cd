//! Strict base64url decoding (RFC 4648 §5, no padding) for JWT segments and
//! JWK members: no base64 crate is in the dependency tree, and JOSE needs
//! only this one form.
//!
//! Refused: padding, whitespace, the standard alphabet's `+` and `/`, a
//! length of 1 modulo 4, and non-zero bits left over in the last character
//! (so every byte string has exactly one accepted encoding).

/// Decodes `text`; `None` if it is not canonical unpadded base64url.
pub fn decode(text: &[u8]) -> Option<Vec<u8>> {
    if text.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut chunks = text.chunks_exact(4);
    for chunk in &mut chunks {
        let n = sextets(chunk)?;
        out.extend_from_slice(&[(n >> 16) as u8, (n >> 8) as u8, n as u8]);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let n = sextets(rest)? << (6 * (4 - rest.len()));
        let bytes = [(n >> 16) as u8, (n >> 8) as u8];
        let keep = rest.len() - 1;
        // Bits below the kept bytes must be zero (canonical encoding).
        let dropped = match keep {
            1 => n & 0xffff,
            _ => n & 0xff,
        };
        if dropped != 0 {
            return None;
        }
        out.extend_from_slice(bytes.get(..keep)?);
    }
    Some(out)
}

/// Up to four characters as one big-endian group of sextets.
fn sextets(chunk: &[u8]) -> Option<u32> {
    chunk
        .iter()
        .try_fold(0u32, |n, &c| Some(n << 6 | u32::from(value(c)?)))
}

fn value(c: u8) -> Option<u8> {
    match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'-' => Some(62),
        b'_' => Some(63),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::decode;

    #[test]
    fn decodes_rfc_4648_vectors_without_padding() {
        let cases: [(&str, &str); 7] = [
            ("", ""),
            ("Zg", "f"),
            ("Zm8", "fo"),
            ("Zm9v", "foo"),
            ("Zm9vYg", "foob"),
            ("Zm9vYmE", "fooba"),
            ("Zm9vYmFy", "foobar"),
        ];
        for (encoded, plain) in cases {
            assert_eq!(
                decode(encoded.as_bytes()).as_deref(),
                Some(plain.as_bytes())
            );
        }
        assert_eq!(decode(b"-_8").as_deref(), Some(&[0xfb, 0xff][..]));
    }

    #[test]
    fn refuses_padding_other_alphabets_and_loose_bits() {
        for bad in ["Zg==", "Zm9v\n", "+/8", "Z", "Zh", "Zm9=", "Zm 9v", "Zm9vY"] {
            assert_eq!(decode(bad.as_bytes()), None, "{bad:?}");
        }
    }
}

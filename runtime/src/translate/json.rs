//! JSON plumbing shared by the translators: the top-level field walk that
//! feeds the policy tables, typed parsing of one field with its name in the
//! error, raw string literals (copied verbatim, never unescaped and
//! re-escaped), a JSON string escaper and a number writer for hand-built
//! stream events, and `data:` URLs. Not here: any protocol knowledge.

use std::borrow::Cow;

use serde::Deserialize;
use serde::de::{Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use super::TranslateError;

/// A JSON object's members in order, values unparsed.
pub struct Fields<'a>(pub Vec<(Cow<'a, str>, &'a RawValue)>);

/// A string (an object key, say), borrowed from the input unless it holds
/// escapes.
#[derive(Deserialize)]
pub struct Str<'a>(#[serde(borrow)] pub Cow<'a, str>);

/// For `#[serde(borrow, default, deserialize_with = "json::opt_str")]` on an
/// `Option<Cow<str>>` field: serde borrows a bare `Cow<str>` field, but one
/// inside an `Option` it always copies into a `String`.
pub fn opt_str<'de: 'a, 'a, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Cow<'a, str>>, D::Error> {
    Ok(Option::<Str<'de>>::deserialize(deserializer)?.map(|s| s.0))
}

impl<'de> Deserialize<'de> for Fields<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Members;
        impl<'de> Visitor<'de> for Members {
            type Value = Fields<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut members = Vec::with_capacity(16);
                while let Some(Str(key)) = map.next_key::<Str<'de>>()? {
                    members.push((key, map.next_value::<&'de RawValue>()?));
                }
                Ok(Fields(members))
            }
        }
        deserializer.deserialize_map(Members)
    }
}

/// The members of the JSON object `body`.
pub fn object(body: &[u8]) -> Result<Fields<'_>, TranslateError> {
    // One UTF-8 check for the body, not one per string.
    let text = std::str::from_utf8(body).map_err(|e| TranslateError::InvalidJson(e.to_string()))?;
    serde_json::from_str(text).map_err(|e| TranslateError::InvalidJson(e.to_string()))
}

/// `raw` parsed as `T`; a mismatch is a 400 naming `param`.
pub fn field<'a, T: Deserialize<'a>>(
    raw: &'a RawValue,
    param: &'static str,
) -> Result<T, TranslateError> {
    serde_json::from_str(raw.get())
        .map_err(|e| TranslateError::invalid(param, format!("`{param}` is not valid here: {e}")))
}

pub fn is_null(raw: &RawValue) -> bool {
    raw.get() == "null"
}

pub fn is_string(raw: &RawValue) -> bool {
    raw.get().starts_with('"')
}

/// `raw` when it is a JSON string.
pub fn string(raw: Option<&RawValue>) -> Option<&RawValue> {
    raw.filter(|raw| is_string(raw))
}

/// The escaped text between the quotes of a JSON string literal (empty for
/// anything else).
pub fn inner(raw: &RawValue) -> &str {
    let text = raw.get();
    if text.len() >= 2 && text.starts_with('"') {
        text.get(1..text.len() - 1).unwrap_or("")
    } else {
        ""
    }
}

/// A string literal that decodes to nothing but whitespace (`""` included).
/// Long literals are assumed to hold text.
pub fn is_blank(raw: &RawValue) -> bool {
    let inner = inner(raw);
    if inner.len() > 64 {
        return false;
    }
    // Text that opens with a visible ASCII character (not an escape) is not
    // blank: no need to decode it.
    if inner
        .as_bytes()
        .first()
        .is_some_and(|&b| b.is_ascii_graphic() && b != b'\\')
    {
        return false;
    }
    serde_json::from_str::<Cow<'_, str>>(raw.get()).is_ok_and(|text| text.trim().is_empty())
}

/// One JSON string literal holding the concatenation of string literals
/// (their escaped forms concatenate into the escaped concatenation).
pub fn concat(parts: &[&RawValue]) -> Result<Box<RawValue>, TranslateError> {
    join(parts, "")
}

/// [`concat`] with `separator` (already escaped) between the parts.
pub fn join(parts: &[&RawValue], separator: &str) -> Result<Box<RawValue>, TranslateError> {
    let size = parts
        .iter()
        .map(|p| p.get().len() + separator.len())
        .sum::<usize>();
    let mut text = String::with_capacity(size + 2);
    text.push('"');
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            text.push_str(separator);
        }
        text.push_str(inner(part));
    }
    text.push('"');
    RawValue::from_string(text).map_err(|e| TranslateError::invalid("content", e.to_string()))
}

/// A JSON string literal for `text`.
pub fn string_literal(text: &str) -> Result<Box<RawValue>, TranslateError> {
    let mut out = Vec::with_capacity(text.len() + 2);
    push_str(&mut out, text);
    String::from_utf8(out)
        .ok()
        .and_then(|s| RawValue::from_string(s).ok())
        .ok_or_else(|| TranslateError::invalid("content", "text is not representable"))
}

/// Appends `text` as a JSON string literal.
pub fn push_str(out: &mut Vec<u8>, text: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bytes = text.as_bytes();
    // Most text needs no escape: one branch-free pass (vectorised), one copy.
    if !bytes.iter().fold(false, |any, &b| {
        any | (b < 0x20) | (b == b'"') | (b == b'\\')
    }) {
        out.reserve(bytes.len() + 2);
        out.push(b'"');
        out.extend_from_slice(bytes);
        out.push(b'"');
        return;
    }
    out.push(b'"');
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        if escape.is_empty() {
            out.extend_from_slice(b"\\u00");
            out.push(HEX[usize::from(b >> 4)]);
            out.push(HEX[usize::from(b & 0xf)]);
        } else {
            out.extend_from_slice(escape);
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// Appends `n` in decimal (two digits per division).
pub fn push_u64(out: &mut Vec<u8>, mut n: u64) {
    const PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819202122232425262728293031323334353637383940414243444546474849\
                                5051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899";
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    while n >= 100 {
        let pair = (n % 100) as usize * 2;
        n /= 100;
        at -= 2;
        digits[at..at + 2].copy_from_slice(&PAIRS[pair..pair + 2]);
    }
    if n >= 10 {
        let pair = n as usize * 2;
        at -= 2;
        digits[at..at + 2].copy_from_slice(&PAIRS[pair..pair + 2]);
    } else {
        at -= 1;
        digits[at] = b'0' + n as u8;
    }
    out.extend_from_slice(&digits[at..]);
}

/// The first element of a JSON array (the rest skipped without building
/// them); `None` for `null` or `[]`.
pub struct First<T>(pub Option<T>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for First<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FirstOf<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for FirstOf<T> {
            type Value = First<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an array")
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(First(None))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let first = seq.next_element::<T>()?;
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(First(first))
            }
        }
        deserializer.deserialize_any(FirstOf(std::marker::PhantomData))
    }
}

impl<T> Default for First<T> {
    fn default() -> Self {
        Self(None)
    }
}

/// A slice of a `Cow` string, borrowed when the string is.
pub fn slice<'a>(text: &Cow<'a, str>, range: std::ops::Range<usize>) -> Cow<'a, str> {
    match text {
        Cow::Borrowed(s) => Cow::Borrowed(s.get(range).unwrap_or("")),
        Cow::Owned(s) => Cow::Owned(s.get(range).unwrap_or("").to_owned()),
    }
}

/// Splits `data:<media type>;base64,<data>` into (media type, data) ranges.
pub fn data_url(url: &str) -> Option<(std::ops::Range<usize>, std::ops::Range<usize>)> {
    let rest = url.strip_prefix("data:")?;
    let comma = rest.find(',')?;
    let media = rest.get(..comma)?.strip_suffix(";base64")?;
    let media_start = 5;
    Some((
        media_start..media_start + media.len(),
        media_start + comma + 1..url.len(),
    ))
}

/// The image media types Anthropic accepts.
pub fn is_image_media(media: &str) -> bool {
    matches!(
        media,
        "image/jpeg" | "image/png" | "image/gif" | "image/webp"
    )
}

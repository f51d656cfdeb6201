//! The start of a text someone else sent, cut to what it costs once stored: records are kept as
//! JSON text, where a control character takes six bytes and a byte that is not UTF-8 becomes
//! U+FFFD (three), so a cut by raw bytes would not bound the record.

/// The bytes `c` takes inside a JSON string (as serde_json writes it).
fn json_len(c: char) -> usize {
    match c {
        '"' | '\\' | '\n' | '\r' | '\t' | '\u{8}' | '\u{c}' => 2,
        c if u32::from(c) < 0x20 => 6,
        c => c.len_utf8(),
    }
}

/// The longest start of `text` that takes at most `budget` bytes inside a JSON string, and
/// whether anything was cut.
pub fn cut_json(text: &str, budget: usize) -> (&str, bool) {
    let mut used = 0;
    for (at, c) in text.char_indices() {
        used += json_len(c);
        if used > budget {
            return (&text[..at], true);
        }
    }
    (text, false)
}

/// `bytes` decoded as UTF-8 (invalid sequences replaced), cut to `budget` JSON bytes; and
/// whether anything was cut.
pub fn excerpt(bytes: &[u8], budget: usize) -> (String, bool) {
    let text = String::from_utf8_lossy(bytes);
    let (kept, cut) = cut_json(&text, budget);
    (kept.to_string(), cut)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn every_character_costs_what_serde_json_writes() {
        for code in (0u32..0x300).chain([0x2028, 0xfffd, 0x1f600]) {
            let Some(c) = char::from_u32(code) else {
                continue;
            };
            let written = serde_json::to_string(&c.to_string()).unwrap().len() - 2;
            assert_eq!(json_len(c), written, "U+{code:04X}");
        }
    }

    #[test]
    fn binary_is_cut_by_its_stored_size_on_a_character_boundary() {
        let binary: Vec<u8> = (0..=255u8).cycle().take(10_000).collect();
        let (kept, cut) = excerpt(&binary, 1000);
        assert!(cut);
        let stored = serde_json::to_string(&kept).unwrap().len() - 2;
        assert!((990..=1000).contains(&stored), "{stored}");
        assert_eq!(excerpt(b"ok", 1000), ("ok".to_string(), false));
        assert_eq!(cut_json("h\u{e9}llo", 2), ("h", true));
    }

    proptest! {
        #[test]
        fn an_excerpt_never_passes_its_budget(bytes in proptest::collection::vec(any::<u8>(), 0..600), budget in 0usize..400) {
            let (kept, cut) = excerpt(&bytes, budget);
            let stored = serde_json::to_string(&kept).unwrap().len() - 2;
            prop_assert!(stored <= budget);
            prop_assert_eq!(cut, kept != String::from_utf8_lossy(&bytes));
        }
    }
}

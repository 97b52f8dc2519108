//! Property tests of the parsers that take what customers and the internet send: serial
//! numbers, JSON bodies and company names. Pure: no emulator needed.

use proptest::collection::vec;
use proptest::prelude::*;
use serde_json::Value;
use shared::domain::company::{normalize_company, same_company};
use shared::domain::serial::ALPHABET;
use shared::domain::{Serial, SerialError};
use shared::http::{ApiError, JsonBody, MAX_BODY_BYTES};
use unicode_normalization::UnicodeNormalization;

fn symbol(v: u8) -> char {
    ALPHABET[v as usize] as char
}

/// A valid serial: 9 random symbols and the one check character that fits. That exactly
/// one of the 32 fits is part of the property.
fn serial() -> impl Strategy<Value = Serial> {
    vec(0u8..32, Serial::RANDOM_LEN).prop_map(|body| {
        let body: String = body.into_iter().map(symbol).collect();
        let fits: Vec<Serial> =
            ALPHABET.iter().filter_map(|&c| Serial::parse(&format!("{body}{}", c as char)).ok()).collect();
        assert_eq!(fits.len(), 1, "{body}: {fits:?} fit as check characters");
        fits.into_iter().next().unwrap()
    })
}

const OTHER_CHARS: &[char] = &[' ', '-', 'I', 'L', 'O', 'U', 'i', 'o', '_', '/', '%', 'Ñ', 'é', '\u{301}', '\0', '０'];

/// Strings near serials: the alphabet in both cases, separators, the excluded letters,
/// other ASCII and some non-ASCII, of lengths around 10.
fn serial_like() -> impl Strategy<Value = String> {
    vec(
        prop_oneof![
            4 => (0u8..32).prop_map(symbol),
            2 => (0u8..32).prop_map(|v| symbol(v).to_ascii_lowercase()),
            1 => prop::sample::select(OTHER_CHARS.to_vec()),
            1 => any::<char>(),
        ],
        0..16,
    )
    .prop_map(|cs| cs.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn parsing_any_string_never_panics(s in any::<String>(), near in serial_like()) {
        let _ = Serial::parse(&s);
        if let Ok(serial) = Serial::parse(&near) {
            // Whatever passes is canonical: 10 symbols of the alphabet that parse to themselves.
            prop_assert_eq!(serial.as_str().len(), Serial::LEN);
            prop_assert!(serial.as_str().bytes().all(|b| ALPHABET.contains(&b)));
            prop_assert_eq!(Serial::parse(serial.as_str()), Ok(serial.clone()));
        }
    }

    #[test]
    fn serials_survive_lower_case_spaces_and_dashes(
        s in serial(),
        lower in vec(any::<bool>(), Serial::LEN),
        seps in vec(prop::sample::select(vec!["", "", " ", "-", "  ", " - ", "--"]), Serial::LEN + 1),
    ) {
        let mut typed = String::new();
        for (i, c) in s.as_str().chars().enumerate() {
            typed.push_str(seps[i]);
            typed.push(if lower[i] { c.to_ascii_lowercase() } else { c });
        }
        typed.push_str(seps[Serial::LEN]);
        prop_assert_eq!(Serial::parse(&typed), Ok(s.clone()), "typed as {:?}", typed);
        prop_assert_eq!(Serial::parse(&s.as_str().to_lowercase()), Ok(s.clone()));
    }

    #[test]
    fn any_single_character_substitution_is_rejected(
        s in serial(),
        pos in 0..Serial::LEN,
        other in 1u8..32,
        junk in any::<char>().prop_filter("not a serial symbol or separator", |c| {
            !ALPHABET.contains(&(c.to_ascii_uppercase() as u8)) || !c.is_ascii()
        }).prop_filter("not a separator", |c| *c != ' ' && *c != '-'),
    ) {
        let chars: Vec<char> = s.as_str().chars().collect();
        let value = ALPHABET.iter().position(|&a| a as char == chars[pos]).unwrap() as u8;
        let mut typo = chars.clone();
        typo[pos] = symbol((value + other) % 32); // any other symbol
        let typo: String = typo.into_iter().collect();
        prop_assert_eq!(Serial::parse(&typo), Err(SerialError::Check), "{} passed for {}", typo, s);
        prop_assert_eq!(Serial::parse(&typo.to_lowercase()), Err(SerialError::Check));
        let mut bad = chars;
        bad[pos] = junk;
        let bad: String = bad.into_iter().collect();
        prop_assert_eq!(Serial::parse(&bad), Err(SerialError::Character(junk)));
    }
}

/// JSON values of every kind, nested a little.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
        any::<String>().prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 32, 6, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(any::<String>(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// What `JsonBody::from_bytes` must answer for `bytes`.
fn check_body(bytes: &[u8]) -> Result<(), TestCaseError> {
    match JsonBody::from_bytes(bytes) {
        Ok(_) => {
            prop_assert!(bytes.len() <= MAX_BODY_BYTES);
            let parsed: Result<Value, _> = serde_json::from_slice(bytes);
            prop_assert!(matches!(parsed, Ok(Value::Object(_))), "accepted a body that is not an object");
        }
        Err(ApiError::PayloadTooLarge) => prop_assert!(bytes.len() > MAX_BODY_BYTES),
        Err(e @ ApiError::InvalidRequest(_)) => {
            prop_assert_eq!(e.code(), "invalid_request");
            let parsed: Result<Value, _> = serde_json::from_slice(bytes);
            prop_assert!(!matches!(parsed, Ok(Value::Object(_))) || bytes.len() > MAX_BODY_BYTES);
        }
        Err(other) => prop_assert!(false, "unexpected error {:?}", other),
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn json_bodies_never_panic_and_are_objects_or_refused(bytes in vec(any::<u8>(), 0..64)) {
        check_body(&bytes)?;
    }

    #[test]
    fn json_documents_are_accepted_only_as_objects(v in json_value(), pad in 0usize..4) {
        let mut bytes = serde_json::to_vec(&v).unwrap();
        bytes.extend(std::iter::repeat_n(b' ', pad));
        check_body(&bytes)?;
        prop_assert_eq!(JsonBody::from_bytes(&bytes).is_ok(), v.is_object());
    }

    #[test]
    fn bodies_around_the_size_limit(extra in 0usize..64, fill in any::<u8>()) {
        // An object padded to just under, at and over 16 KiB.
        let len = MAX_BODY_BYTES - 32 + extra;
        let mut bytes = b"{\"email\": \"".to_vec();
        bytes.extend(std::iter::repeat_n(b'a' + fill % 26, len - bytes.len() - 2));
        bytes.extend(b"\"}");
        check_body(&bytes)?;
        prop_assert_eq!(JsonBody::from_bytes(&bytes).is_ok(), len <= MAX_BODY_BYTES);
        let mut junk = vec![fill; len];
        junk[0] = b'{';
        check_body(&junk)?;
    }
}

/// One letter of a company name as typed: its base, an accent, its case, and whether the
/// accent comes precomposed ("á") or as a combining mark ("a\u{301}").
#[derive(Debug, Clone)]
struct Letter {
    base: char,
    accent: Option<char>,
    upper: bool,
    precomposed: bool,
    punctuation_after: Option<char>,
}

impl Letter {
    fn dressed(&self) -> String {
        let mut s: String = self.base.to_string();
        if let Some(mark) = self.accent {
            s.push(mark);
        }
        let mut s: String = if self.precomposed { s.nfc().collect() } else { s };
        if self.upper {
            s = s.to_uppercase();
        }
        s.extend(self.punctuation_after);
        s
    }
}

fn letter() -> impl Strategy<Value = Letter> {
    (
        prop::sample::select("abcdefghijklmnopqrstuvwxyz0123456789".chars().collect::<Vec<_>>()),
        prop::option::weighted(0.3, prop::sample::select(vec!['\u{301}', '\u{300}', '\u{308}', '\u{303}', '\u{302}'])),
        any::<bool>(),
        any::<bool>(),
        prop::option::weighted(0.15, prop::sample::select(vec!['.', ',', '-', '&', '\'', '"', '(', ')', '/'])),
    )
        .prop_map(|(base, accent, upper, precomposed, punctuation_after)| Letter {
            base,
            accent,
            upper,
            precomposed,
            punctuation_after,
        })
}

/// A company name as registered (plain words) and as someone typed it (case, accents,
/// punctuation and runs of spaces of their own).
fn company() -> impl Strategy<Value = (String, String)> {
    (vec(vec(letter(), 1..8), 1..5), vec(prop::sample::select(vec![" ", "  ", "\t", " \u{a0}", "   "]), 6)).prop_map(
        |(words, gaps)| {
            let plain: Vec<String> = words.iter().map(|w| w.iter().map(|l| l.base).collect()).collect();
            let mut typed = gaps[5].to_string();
            for (i, w) in words.iter().enumerate() {
                if i > 0 {
                    typed.push_str(gaps[i % 5]);
                }
                typed.extend(w.iter().map(Letter::dressed));
            }
            typed.push_str(gaps[0]);
            (plain.join(" "), typed)
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn normalizing_a_company_twice_changes_nothing(s in any::<String>(), (plain, typed) in company()) {
        for s in [s, plain, typed] {
            let once = normalize_company(&s);
            prop_assert_eq!(normalize_company(&once), once.clone(), "for {:?}", s);
        }
    }

    #[test]
    fn company_names_match_whatever_the_case_accents_punctuation_and_spaces((plain, typed) in company()) {
        prop_assert_eq!(normalize_company(&typed), normalize_company(&plain), "typed {:?}", typed);
        prop_assert!(same_company(&typed, &plain));
        prop_assert_eq!(normalize_company(&typed.to_uppercase()), normalize_company(&typed.to_lowercase()));
        let (nfd, nfc): (String, String) = (typed.nfd().collect(), typed.nfc().collect());
        prop_assert_eq!(normalize_company(&nfd), normalize_company(&nfc));
    }
}

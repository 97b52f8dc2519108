//! Company names (razón social) as the desktop program's activation assistant sends them.
//! They match ignoring case, accents, punctuation and repeated spaces:
//! "Comercial Ñandú, S.A. de C.V." is "comercial nandu sa de cv".

use unicode_normalization::UnicodeNormalization;

pub fn normalize_company(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut pending_space = false;
    // NFKD splits "ñ" into "n" plus a combining tilde, which is then dropped.
    for c in name.nfkd() {
        if c.is_alphanumeric() && !unicode_normalization::char::is_combining_mark(c) {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.extend(c.to_lowercase());
        } else if c.is_whitespace() {
            pending_space = true;
        }
        // Accents (combining marks) and punctuation are dropped without separating
        // words: "S.A." is "sa".
    }
    out
}

pub fn same_company(a: &str, b: &str) -> bool {
    let a = normalize_company(a);
    !a.is_empty() && a == normalize_company(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn company_names_match_ignoring_case_accents_punctuation_and_spaces() {
        assert!(same_company("Comercial Ñandú, S.A. de C.V.", "comercial nandu sa de cv"));
        assert!(same_company("Comercial Ruiz SA de CV", "  COMERCIAL   RUIZ, S.A. DE C.V. "));
        assert!(same_company("Distribuidora Pérez-Gómez", "distribuidora perezgomez"));
    }

    #[test]
    fn different_companies_do_not_match() {
        assert!(!same_company("Comercial Ruiz SA de CV", "Comercial Ruiz SA"));
        assert!(!same_company("", ""));
        assert!(!same_company("...", "---"));
    }
}

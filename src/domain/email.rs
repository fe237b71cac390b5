//! An e-mail address, one way: a department's address in the config and the sender of a mail
//! that reaches the center's inbox are compared as the same string, so both go through here
//! (trimmed, lower-cased). Plausible, not RFC 5322 in full: the city's IT department types
//! these, and a typo must be caught at config load, not when the first forward bounces.

/// The longest address SMTP carries (RFC 5321: a path of 256 octets, brackets included).
pub const MAX_ADDRESS: usize = 254;

/// The address lower-cased, or why it is not one.
pub fn address(raw: &str) -> Result<String, String> {
    let a = raw.trim();
    if a.is_empty() {
        return Err("empty".into());
    }
    if a.len() > MAX_ADDRESS {
        return Err(format!("longer than {MAX_ADDRESS} characters"));
    }
    if a.chars()
        .any(|c| c.is_whitespace() || c.is_control() || "<>()[],;:\"\\".contains(c))
    {
        return Err(
            "spaces, brackets, quotes, commas and control characters are not allowed".into(),
        );
    }
    let Some((local, domain)) = a.split_once('@') else {
        return Err("no `@`".into());
    };
    if local.is_empty() || local.len() > 64 {
        return Err("nothing (or over 64 characters) before `@`".into());
    }
    if domain.contains('@') {
        return Err("more than one `@`".into());
    }
    let labels: Vec<&str> = domain.split('.').collect();
    let good_label = |l: &&str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_alphanumeric() || c == '-')
    };
    if labels.len() < 2 || !labels.iter().all(good_label) {
        return Err(format!("`{domain}` is not a domain name like city.example"));
    }
    Ok(a.to_lowercase())
}

/// The domain of an address already checked by `address` (what our Message-IDs end with).
pub fn domain_of(address: &str) -> &str {
    address.rsplit_once('@').map_or(address, |(_, d)| d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plausible_addresses_are_kept_lower_cased() {
        assert_eq!(
            address(" Dispatch@City.Example ").unwrap(),
            "dispatch@city.example"
        );
        assert_eq!(address("жкх@город.рф").unwrap(), "жкх@город.рф");
        assert_eq!(domain_of("a@mcu.city.example"), "mcu.city.example");
    }

    #[test]
    fn typos_are_refused_with_a_reason() {
        for bad in [
            "",
            "dispatch",
            "dispatch@",
            "@city.example",
            "dispatch@city",
            "a@@city.example",
            "a b@city.example",
            "Диспетчер <a@city.example>",
            "a@city..example",
            "a@-city.example",
            "a@city.example\u{1b}[2J",
        ] {
            assert!(address(bad).is_err(), "{bad:?} passed");
        }
        assert!(address(&format!("{}@city.example", "a".repeat(300))).is_err());
    }
}

//! Server accounts: who may push and pull, and as whom. A token is shown once, when the
//! account is made; the store keeps only its SHA-256, so a copied database file or backup
//! gives nobody a way in.

use base64::Engine;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use super::engine::{Access, Account, AccountUpdate, Principal, Role, ServerError, Transactional};

/// Marks our tokens so secret scanners and people can tell what leaked.
pub const TOKEN_PREFIX: &str = "mcu_";

/// A fresh token: 32 bytes from the OS, base64url without padding, prefixed.
pub fn new_token() -> Result<String, ServerError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| ServerError::Storage(format!("no random bytes from the OS: {e}")))?;
    Ok(format!(
        "{TOKEN_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    ))
}

/// What is stored and looked up. A plain fast hash, no salt or stretching: the token has
/// 256 bits of entropy, so there is no dictionary to defend against, and a per-request
/// lookup stays cheap. Comparing by indexed lookup leaks nothing useful through timing: an
/// attacker would have to choose inputs by their SHA-256.
pub fn hash_token(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    let mut hex = String::with_capacity(64);
    for b in digest {
        hex.push_str(&format!("{b:02x}"));
    }
    hex
}

/// Names become the actor of every change, in the audit trail and on screens: one printable
/// word, so a name can't be spoofed with look-alike spacing or be mistaken for two.
pub fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.chars().count() > 64 {
        return Err("a user name is 1 to 64 characters".into());
    }
    if name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "user name `{name}`: no spaces or control characters"
        ));
    }
    Ok(())
}

/// Scope ids are city names: one printable word, bounded, so a name can't flood `/metrics`'
/// labels or be mistaken for another.
pub fn check_scope(scope: &str) -> Result<(), String> {
    if scope.is_empty() || scope.chars().count() > 100 {
        return Err("a scope is 1 to 100 characters".into());
    }
    if scope.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("scope `{scope}`: no spaces or control characters"));
    }
    Ok(())
}

/// Creates the account reaching `scopes` (and, for a department account, working for
/// `departments`) and returns its token, or `None` when the name is taken.
pub fn add<S: Transactional>(
    store: &S,
    name: &str,
    role: Role,
    scopes: &[String],
    departments: &[String],
    now: DateTime<Utc>,
) -> Result<Option<String>, ServerError> {
    let token = new_token()?;
    let hash = hash_token(&token);
    let added = store.in_tx(|tx| {
        if !tx.add_account(name, role, &hash, now)? {
            return Ok(false);
        }
        for s in scopes {
            tx.grant_scope(name, s)?;
        }
        for d in departments {
            tx.grant_department(name, d)?;
        }
        Ok(true)
    })?;
    Ok(added.then_some(token))
}

/// Changes an account; false when there is none by that name.
pub fn update<S: Transactional>(
    store: &S,
    name: &str,
    u: &AccountUpdate,
) -> Result<bool, ServerError> {
    store.in_tx(|tx| tx.update_account(name, u))
}

/// A new token for the account, printed once; the old one is refused from now on.
pub fn rotate<S: Transactional>(store: &S, name: &str) -> Result<Option<String>, ServerError> {
    let token = new_token()?;
    let u = AccountUpdate {
        token_hash: Some(hash_token(&token)),
        ..AccountUpdate::default()
    };
    Ok(update(store, name, &u)?.then_some(token))
}

/// Lets the account reach `scope` too; false when there is no such account.
pub fn grant<S: Transactional>(store: &S, name: &str, scope: &str) -> Result<bool, ServerError> {
    store.in_tx(|tx| {
        if tx.account_access(name)?.is_none() {
            return Ok(false);
        }
        tx.grant_scope(name, scope)?;
        Ok(true)
    })
}

/// Lets a department account work for `department` too; false when there is no such
/// account.
pub fn grant_department<S: Transactional>(
    store: &S,
    name: &str,
    department: &str,
) -> Result<bool, ServerError> {
    store.in_tx(|tx| {
        if tx.account_access(name)?.is_none() {
            return Ok(false);
        }
        tx.grant_department(name, department)?;
        Ok(true)
    })
}

/// The bearer of `token` and what they may reach, read together.
pub fn gate<S: Transactional>(
    store: &S,
    token: &str,
) -> Result<Option<(Principal, Access)>, ServerError> {
    let hash = hash_token(token);
    store.in_snapshot(|tx| {
        let Some(who) = tx.account_by_token_hash(&hash)? else {
            return Ok(None);
        };
        let access = tx.account_access(&who.user)?.unwrap_or(Access {
            disabled: true,
            scopes: vec![],
            departments: vec![],
        });
        Ok(Some((who, access)))
    })
}

pub fn list<S: Transactional>(store: &S) -> Result<Vec<Account>, ServerError> {
    store.in_snapshot(|tx| tx.accounts())
}

/// Who the bearer of `token` is, if anyone.
pub fn authenticate<S: Transactional>(
    store: &S,
    token: &str,
) -> Result<Option<Principal>, ServerError> {
    let hash = hash_token(token);
    store.in_snapshot(|tx| tx.account_by_token_hash(&hash))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::sqlite::SqliteStore;

    #[test]
    fn tokens_are_prefixed_random_and_url_safe() {
        let a = new_token().unwrap();
        let b = new_token().unwrap();
        assert_ne!(a, b);
        let body = a.strip_prefix(TOKEN_PREFIX).expect("prefix");
        // 32 bytes in unpadded base64 are 43 characters.
        assert_eq!(body.len(), 43);
        assert!(
            body.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
    }

    #[test]
    fn the_hash_is_sha256_hex() {
        assert_eq!(
            hash_token("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn names() {
        assert!(check_name("anna").is_ok());
        assert!(check_name("анна.петрова").is_ok());
        for bad in ["", "anna petrova", "tab\there", "nl\n", &"x".repeat(65)] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn add_authenticate_list_and_refuse_a_taken_name() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("s.sqlite3")).unwrap();
        let now = crate::testkit::contract::now();
        let city = ["krasnodar".to_string()];
        let anna = add(&store, "anna", Role::Operator, &city, &[], now)
            .unwrap()
            .unwrap();
        let lena = add(&store, "lena", Role::Lead, &city, &[], now)
            .unwrap()
            .unwrap();
        assert_eq!(
            add(&store, "anna", Role::Admin, &city, &[], now).unwrap(),
            None
        );
        let who = authenticate(&store, &lena).unwrap().unwrap();
        assert_eq!((who.user.as_str(), who.role), ("lena", Role::Lead));
        assert_eq!(
            authenticate(&store, &anna).unwrap().unwrap().role,
            Role::Operator
        );
        assert_eq!(authenticate(&store, "mcu_nope").unwrap(), None);
        assert_eq!(authenticate(&store, "").unwrap(), None);
        let all = list(&store).unwrap();
        let names: Vec<(&str, Role)> = all.iter().map(|a| (a.name.as_str(), a.role)).collect();
        assert_eq!(names, [("anna", Role::Operator), ("lena", Role::Lead)]);
        assert_eq!(all[0].created_at, now);
    }
}

//! Accounts in the SQLite store: who holds which token, their role, the scopes (cities) and
//! departments they reach, and when they were last seen.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use super::{Tx, err, ms};
use crate::server::engine::{
    Access, Account, AccountTx, AccountUpdate, Principal, Role, ServerError,
};

impl Tx<'_> {
    fn scopes_of(&self, name: &str) -> Result<Vec<String>, ServerError> {
        let mut st = self
            .0
            .prepare_cached("SELECT scope_id FROM account_scope WHERE name = ?1 ORDER BY scope_id")
            .map_err(err)?;
        let rows = st.query_map([name], |r| r.get(0)).map_err(err)?;
        rows.collect::<Result<_, _>>().map_err(err)
    }

    fn departments_of(&self, name: &str) -> Result<Vec<String>, ServerError> {
        let mut st = self
            .0
            .prepare_cached(
                "SELECT department FROM account_department WHERE name = ?1 ORDER BY department",
            )
            .map_err(err)?;
        let rows = st.query_map([name], |r| r.get(0)).map_err(err)?;
        rows.collect::<Result<_, _>>().map_err(err)
    }
}

impl AccountTx for Tx<'_> {
    fn add_account(
        &mut self,
        name: &str,
        role: Role,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, ServerError> {
        // Only a taken name is "no"; a clash on the token hash stays an error (it would mean a
        // broken random source, not a user's mistake).
        let n = self
            .0
            .execute(
                "INSERT INTO account(name, role, token_hash, created_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(name) DO NOTHING",
                params![name, role.as_str(), token_hash, ms(now)],
            )
            .map_err(err)?;
        Ok(n == 1)
    }

    fn account_by_token_hash(
        &mut self,
        token_hash: &str,
    ) -> Result<Option<Principal>, ServerError> {
        let row: Option<(String, String)> = self
            .0
            .query_row(
                "SELECT name, role FROM account WHERE token_hash = ?1",
                [token_hash],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(err)?;
        row.map(|(user, role)| {
            Ok(Principal {
                role: crate::server::engine::stored_role(&user, &role)?,
                user,
                departments: None,
            })
        })
        .transpose()
    }

    fn accounts(&mut self) -> Result<Vec<Account>, ServerError> {
        let mut st = self
            .0
            .prepare_cached(
                "SELECT name, role, created_at, disabled, last_seen FROM account ORDER BY name",
            )
            .map_err(err)?;
        let rows = st
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, bool>(3)?,
                    r.get::<_, Option<i64>>(4)?,
                ))
            })
            .map_err(err)?;
        let mut out = vec![];
        for row in rows {
            let (name, role, at, disabled, seen) = row.map_err(err)?;
            out.push(Account {
                role: crate::server::engine::stored_role(&name, &role)?,
                created_at: DateTime::from_timestamp_millis(at).ok_or_else(|| {
                    ServerError::Corrupt(format!("account `{name}`: created_at {at}"))
                })?,
                disabled,
                last_seen: seen.and_then(DateTime::from_timestamp_millis),
                scopes: vec![],
                departments: vec![],
                name,
            });
        }
        drop(st);
        for a in &mut out {
            a.scopes = self.scopes_of(&a.name)?;
            a.departments = self.departments_of(&a.name)?;
        }
        Ok(out)
    }

    fn account_access(&mut self, name: &str) -> Result<Option<Access>, ServerError> {
        let disabled: Option<bool> = self
            .0
            .query_row(
                "SELECT disabled FROM account WHERE name = ?1",
                [name],
                |r| r.get(0),
            )
            .optional()
            .map_err(err)?;
        let Some(disabled) = disabled else {
            return Ok(None);
        };
        Ok(Some(Access {
            disabled,
            scopes: self.scopes_of(name)?,
            departments: self.departments_of(name)?,
        }))
    }

    fn grant_scope(&mut self, name: &str, scope: &str) -> Result<(), ServerError> {
        self.0
            .execute(
                "INSERT INTO account_scope(name, scope_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                params![name, scope],
            )
            .map_err(err)?;
        Ok(())
    }

    fn grant_department(&mut self, name: &str, department: &str) -> Result<(), ServerError> {
        self.0
            .execute(
                "INSERT INTO account_department(name, department) VALUES (?1, ?2)
                   ON CONFLICT DO NOTHING",
                params![name, department],
            )
            .map_err(err)?;
        Ok(())
    }

    fn update_account(&mut self, name: &str, u: &AccountUpdate) -> Result<bool, ServerError> {
        let n = self
            .0
            .execute(
                "UPDATE account SET role = COALESCE(?2, role), disabled = COALESCE(?3, disabled),
                   token_hash = COALESCE(?4, token_hash) WHERE name = ?1",
                params![name, u.role.map(|r| r.as_str()), u.disabled, u.token_hash],
            )
            .map_err(err)?;
        Ok(n == 1)
    }

    fn touch_account(&mut self, name: &str, now: DateTime<Utc>) -> Result<(), ServerError> {
        self.0
            .execute(
                "UPDATE account SET last_seen = ?2 WHERE name = ?1",
                params![name, ms(now)],
            )
            .map_err(err)?;
        Ok(())
    }
}

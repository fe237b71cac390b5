//! Accounts in the PostgreSQL store: who holds which token, their role, the scopes (cities)
//! and departments they reach, and when they were last seen.

use chrono::{DateTime, Utc};

use super::{Tx, ms, pg};
use crate::server::engine::{
    Access, Account, AccountTx, AccountUpdate, Principal, Role, ServerError, stored_role,
};

impl Tx<'_> {
    fn scopes_of(&mut self, name: &str) -> Result<Vec<String>, ServerError> {
        let rows = self
            .rt
            .block_on(self.tx.query(
                "SELECT scope_id FROM account_scope WHERE name = $1 ORDER BY scope_id",
                &[&name],
            ))
            .map_err(pg)?;
        Ok(rows.into_iter().map(|r| r.get(0)).collect())
    }

    fn departments_of(&mut self, name: &str) -> Result<Vec<String>, ServerError> {
        let rows = self
            .rt
            .block_on(self.tx.query(
                "SELECT department FROM account_department WHERE name = $1 ORDER BY department",
                &[&name],
            ))
            .map_err(pg)?;
        Ok(rows.into_iter().map(|r| r.get(0)).collect())
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
        let n = self.exec(
            "INSERT INTO account(name, role, token_hash, created_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT(name) DO NOTHING",
            &[&name, &role.as_str(), &token_hash, &ms(now)],
        )?;
        Ok(n == 1)
    }

    fn account_by_token_hash(
        &mut self,
        token_hash: &str,
    ) -> Result<Option<Principal>, ServerError> {
        let row = self.opt(
            "SELECT name, role FROM account WHERE token_hash = $1",
            &[&token_hash],
        )?;
        row.map(|r| {
            let user: String = r.get(0);
            let role: String = r.get(1);
            Ok(Principal {
                role: stored_role(&user, &role)?,
                user,
                departments: None,
            })
        })
        .transpose()
    }

    fn accounts(&mut self) -> Result<Vec<Account>, ServerError> {
        let rows = self
            .rt
            .block_on(self.tx.query(
                "SELECT name, role, created_at, disabled, last_seen FROM account ORDER BY name",
                &[],
            ))
            .map_err(pg)?;
        let mut out = rows
            .into_iter()
            .map(|r| {
                let name: String = r.get(0);
                let role: String = r.get(1);
                let at: i64 = r.get(2);
                let seen: Option<i64> = r.get(4);
                Ok(Account {
                    role: stored_role(&name, &role)?,
                    created_at: DateTime::from_timestamp_millis(at).ok_or_else(|| {
                        ServerError::Corrupt(format!("account `{name}`: created_at {at}"))
                    })?,
                    disabled: r.get(3),
                    last_seen: seen.and_then(DateTime::from_timestamp_millis),
                    scopes: vec![],
                    departments: vec![],
                    name,
                })
            })
            .collect::<Result<Vec<Account>, ServerError>>()?;
        for a in &mut out {
            a.scopes = self.scopes_of(&a.name)?;
            a.departments = self.departments_of(&a.name)?;
        }
        Ok(out)
    }

    fn account_access(&mut self, name: &str) -> Result<Option<Access>, ServerError> {
        let Some(row) = self.opt("SELECT disabled FROM account WHERE name = $1", &[&name])? else {
            return Ok(None);
        };
        Ok(Some(Access {
            disabled: row.get(0),
            scopes: self.scopes_of(name)?,
            departments: self.departments_of(name)?,
        }))
    }

    fn grant_scope(&mut self, name: &str, scope: &str) -> Result<(), ServerError> {
        self.exec(
            "INSERT INTO account_scope(name, scope_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &[&name, &scope],
        )?;
        Ok(())
    }

    fn grant_department(&mut self, name: &str, department: &str) -> Result<(), ServerError> {
        self.exec(
            "INSERT INTO account_department(name, department) VALUES ($1, $2)
               ON CONFLICT DO NOTHING",
            &[&name, &department],
        )?;
        Ok(())
    }

    fn update_account(&mut self, name: &str, u: &AccountUpdate) -> Result<bool, ServerError> {
        let role = u.role.map(|r| r.as_str());
        let n = self.exec(
            "UPDATE account SET role = COALESCE($2, role), disabled = COALESCE($3, disabled),
               token_hash = COALESCE($4, token_hash) WHERE name = $1",
            &[&name, &role, &u.disabled, &u.token_hash],
        )?;
        Ok(n == 1)
    }

    fn touch_account(&mut self, name: &str, now: DateTime<Utc>) -> Result<(), ServerError> {
        self.exec(
            "UPDATE account SET last_seen = $2 WHERE name = $1",
            &[&name, &ms(now)],
        )?;
        Ok(())
    }
}

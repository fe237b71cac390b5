-- Department accounts (see schema_sqlite_5.sql).
CREATE TABLE account_department(
  name TEXT NOT NULL,
  department TEXT NOT NULL,
  PRIMARY KEY(name, department)
);

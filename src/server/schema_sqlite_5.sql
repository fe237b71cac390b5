-- Department accounts (#21): the catalog departments an account of role `department` works
-- for. Its pulls carry only requests forwarded to these, and it may push only their answers,
-- notes and returns (server/engine/department.rs).
CREATE TABLE account_department(
  name TEXT NOT NULL,
  department TEXT NOT NULL,
  PRIMARY KEY(name, department)
) WITHOUT ROWID;

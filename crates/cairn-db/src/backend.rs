//! The two databases behind one small interface: statements written once with `$1`
//! placeholders (PostgreSQL's; rewritten to `?1` for SQLite), values as [`Value`], rows as
//! `Vec<Value>`, and one bulk path per database (SQLite: one prepared insert; PostgreSQL:
//! binary `COPY`).

use std::collections::HashMap;

use postgres::binary_copy::BinaryCopyInWriter;
use postgres::types::{IsNull, ToSql, Type};

use crate::Error;

/// A value bound to or read from a statement.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Value {
    Null,
    Int(i64),
    Text(String),
    Blob(Vec<u8>),
}

impl Value {
    pub fn int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }
    pub fn text(&self) -> Option<&str> {
        match self {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }
    pub fn into_text(self) -> Option<String> {
        match self {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }
    pub fn blob(&self) -> Option<&[u8]> {
        match self {
            Value::Blob(b) => Some(b),
            _ => None,
        }
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}
impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Text(s.to_owned())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Text(s)
    }
}
impl From<Vec<u8>> for Value {
    fn from(b: Vec<u8>) -> Self {
        Value::Blob(b)
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(o: Option<T>) -> Self {
        o.map_or(Value::Null, Into::into)
    }
}

/// Column types for the bulk path (PostgreSQL's binary COPY needs them).
#[derive(Clone, Copy, Debug)]
pub enum Col {
    Int,
    Text,
}

pub enum Conn {
    Sqlite(rusqlite::Connection),
    Postgres {
        client: Box<postgres::Client>,
        statements: HashMap<String, postgres::Statement>,
    },
}

/// `$1` → `?1`, outside string literals (the statements here have none with `$`).
fn sqlite_sql(sql: &str) -> String {
    sql.replace('$', "?")
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match self {
            Value::Null => ValueRef::Null,
            Value::Int(i) => ValueRef::Integer(*i),
            Value::Text(s) => ValueRef::Text(s.as_bytes()),
            Value::Blob(b) => ValueRef::Blob(b),
        }))
    }
}

impl ToSql for Value {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut postgres::types::private::BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(i) if *ty == Type::INT4 => i32::try_from(*i)?.to_sql(ty, out),
            Value::Int(i) if *ty == Type::BOOL => (*i != 0).to_sql(ty, out),
            Value::Int(i) => i.to_sql(ty, out),
            Value::Text(s) => s.to_sql(ty, out),
            Value::Blob(b) => b.to_sql(ty, out),
        }
    }
    fn accepts(_: &Type) -> bool {
        true
    }
    postgres::types::to_sql_checked!();
}

fn pg_value(row: &postgres::Row, i: usize) -> Result<Value, Error> {
    let ty = row.columns()[i].type_();
    let v = if *ty == Type::INT8 {
        row.try_get::<_, Option<i64>>(i)?.map(Value::Int)
    } else if *ty == Type::INT4 {
        row.try_get::<_, Option<i32>>(i)?
            .map(|v| Value::Int(v.into()))
    } else if *ty == Type::INT2 {
        row.try_get::<_, Option<i16>>(i)?
            .map(|v| Value::Int(v.into()))
    } else if *ty == Type::BOOL {
        row.try_get::<_, Option<bool>>(i)?
            .map(|v| Value::Int(v.into()))
    } else if *ty == Type::BYTEA {
        row.try_get::<_, Option<Vec<u8>>>(i)?.map(Value::Blob)
    } else {
        row.try_get::<_, Option<String>>(i)?.map(Value::Text)
    };
    Ok(v.unwrap_or(Value::Null))
}

fn sqlite_value(v: rusqlite::types::ValueRef<'_>) -> Value {
    use rusqlite::types::ValueRef;
    match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::Int(i),
        ValueRef::Real(f) => Value::Int(f as i64),
        ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => Value::Blob(b.to_vec()),
    }
}

impl Conn {
    pub fn is_postgres(&self) -> bool {
        matches!(self, Conn::Postgres { .. })
    }

    fn pg_statement(
        client: &mut postgres::Client,
        statements: &mut HashMap<String, postgres::Statement>,
        sql: &str,
    ) -> Result<postgres::Statement, Error> {
        if let Some(s) = statements.get(sql) {
            return Ok(s.clone());
        }
        let s = client.prepare(sql)?;
        statements.insert(sql.to_owned(), s.clone());
        Ok(s)
    }

    /// Starts a write transaction: SQLite takes its write lock now (`BEGIN IMMEDIATE`), so
    /// two writers wait for each other at the start instead of failing at the first write.
    pub fn begin_write(&mut self) -> Result<(), Error> {
        self.batch(if self.is_postgres() {
            "BEGIN"
        } else {
            "BEGIN IMMEDIATE"
        })
    }

    /// Ends the transaction [`Conn::begin_write`] started: commits on `Ok`, rolls back on
    /// `Err` (whose error is the one returned).
    pub fn finish<T>(&mut self, r: Result<T, Error>) -> Result<T, Error> {
        match r {
            Ok(v) => self.batch("COMMIT").map(|()| v),
            Err(e) => {
                let _ = self.batch("ROLLBACK");
                Err(e)
            }
        }
    }

    /// Several statements with no parameters (DDL, `BEGIN`, `COMMIT`).
    pub fn batch(&mut self, sql: &str) -> Result<(), Error> {
        match self {
            Conn::Sqlite(c) => c.execute_batch(sql)?,
            Conn::Postgres { client, .. } => client.batch_execute(sql)?,
        }
        Ok(())
    }

    pub fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, Error> {
        match self {
            Conn::Sqlite(c) => {
                let mut st = c.prepare_cached(&sqlite_sql(sql))?;
                Ok(st.execute(rusqlite::params_from_iter(params.iter()))? as u64)
            }
            Conn::Postgres { client, statements } => {
                let st = Self::pg_statement(client, statements, sql)?;
                let p: Vec<&(dyn ToSql + Sync)> =
                    params.iter().map(|v| v as &(dyn ToSql + Sync)).collect();
                Ok(client.execute(&st, &p)?)
            }
        }
    }

    pub fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Vec<Value>>, Error> {
        match self {
            Conn::Sqlite(c) => {
                let mut st = c.prepare_cached(&sqlite_sql(sql))?;
                let n = st.column_count();
                let mut rows = st.query(rusqlite::params_from_iter(params.iter()))?;
                let mut out = Vec::new();
                while let Some(r) = rows.next()? {
                    let mut row = Vec::with_capacity(n);
                    for i in 0..n {
                        row.push(sqlite_value(r.get_ref(i)?));
                    }
                    out.push(row);
                }
                Ok(out)
            }
            Conn::Postgres { client, statements } => {
                let st = Self::pg_statement(client, statements, sql)?;
                let p: Vec<&(dyn ToSql + Sync)> =
                    params.iter().map(|v| v as &(dyn ToSql + Sync)).collect();
                let rows = client.query(&st, &p)?;
                rows.iter()
                    .map(|r| (0..r.len()).map(|i| pg_value(r, i)).collect())
                    .collect()
            }
        }
    }

    /// Appends rows that are known to be new (inside the caller's transaction).
    pub fn bulk_insert(
        &mut self,
        table: &str,
        cols: &[(&str, Col)],
        rows: &[Vec<Value>],
    ) -> Result<(), Error> {
        if rows.is_empty() {
            return Ok(());
        }
        let names: Vec<&str> = cols.iter().map(|c| c.0).collect();
        match self {
            Conn::Sqlite(c) => {
                let marks: Vec<String> = (1..=cols.len()).map(|i| format!("?{i}")).collect();
                let sql = format!(
                    "INSERT INTO {table} ({}) VALUES ({})",
                    names.join(", "),
                    marks.join(", ")
                );
                let mut st = c.prepare_cached(&sql)?;
                for r in rows {
                    st.execute(rusqlite::params_from_iter(r.iter()))?;
                }
                Ok(())
            }
            Conn::Postgres { client, .. } => {
                let types: Vec<Type> = cols
                    .iter()
                    .map(|c| match c.1 {
                        Col::Int => Type::INT8,
                        Col::Text => Type::TEXT,
                    })
                    .collect();
                let sink = client.copy_in(&format!(
                    "COPY {table} ({}) FROM STDIN BINARY",
                    names.join(", ")
                ))?;
                let mut w = BinaryCopyInWriter::new(sink, &types);
                for r in rows {
                    let p: Vec<&(dyn ToSql + Sync)> =
                        r.iter().map(|v| v as &(dyn ToSql + Sync)).collect();
                    w.write(&p)?;
                }
                w.finish()?;
                Ok(())
            }
        }
    }
}

//! One database connection, SQLite or PostgreSQL, behind the small part of
//! rusqlite's API the store uses.
//!
//! The store's SQL is written once, in the dialect both engines share
//! (`?N` placeholders, `ON CONFLICT … DO UPDATE`, `RETURNING`, `COUNT(*)
//! FILTER (WHERE …)`), and [`translate`] rewrites what PostgreSQL spells
//! differently: `?N` becomes `$N`; in `CREATE TABLE`, SQLite's type names
//! become PostgreSQL's (`INTEGER` → `BIGINT`, `REAL` → `DOUBLE PRECISION`,
//! `BLOB` → `BYTEA`), text columns sort bytewise (`COLLATE "C"`, SQLite's
//! order) and every table gets the `rowid` SQLite gives it. SQLite's
//! `json_each` and `json_extract` exist on PostgreSQL as functions of the
//! same name and meaning ([`PG_COMPAT`]).
//!
//! PostgreSQL is reached through the synchronous `postgres` client, which
//! runs its own small runtime; a connection therefore lives on a thread of
//! its own and is driven through a channel, so the store can be called from
//! inside an async runtime (as the CLI's scan and the server do), just as
//! SQLite can.

use std::cell::Cell;
use std::collections::HashMap;
use std::sync::mpsc;

use bytes::{BufMut, BytesMut};
use postgres::types::{FromSql as PgFromSql, IsNull, ToSql as PgToSql, Type};

/// A database error, from either engine.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// SQLite failed.
    #[error("{0}")]
    Sqlite(#[from] rusqlite::Error),
    /// PostgreSQL failed (`code` is the SQLSTATE, when the server sent one).
    #[error("postgresql: {message}")]
    Postgres {
        /// What went wrong.
        message: String,
        /// The SQLSTATE code.
        code: Option<String>,
    },
    /// A query that must return a row returned none.
    #[error("query returned no rows")]
    NoRows,
    /// A column's value is not of the type read.
    #[error("column {index}: cannot read {found} as {wanted}")]
    Type {
        /// The column's position.
        index: usize,
        /// What the column holds.
        found: String,
        /// The type asked for.
        wanted: &'static str,
    },
    /// The thread driving a PostgreSQL connection stopped.
    #[error("postgresql connection closed")]
    Closed,
    /// TLS to PostgreSQL could not be set up as the URL asks
    /// ([`crate::tls`]).
    #[error("postgresql tls: {0}")]
    Tls(String),
}

impl DbError {
    pub(crate) fn postgres(e: &postgres::Error) -> Self {
        match e.as_db_error() {
            Some(db) => Self::Postgres {
                message: format!("{}: {}", db.code().code(), db.message()),
                code: Some(db.code().code().to_owned()),
            },
            None => {
                // The driver's message names the step ("error performing
                // TLS handshake"); its causes say what went wrong.
                let mut message = e.to_string();
                let mut cause = std::error::Error::source(e);
                while let Some(c) = cause {
                    message = format!("{message}: {c}");
                    cause = c.source();
                }
                Self::Postgres {
                    message,
                    code: e.code().map(|c| c.code().to_owned()),
                }
            }
        }
    }

    /// The PostgreSQL SQLSTATE, if the server sent one.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Postgres { code, .. } => code.as_deref(),
            _ => None,
        }
    }

    /// Whether this is a unique or primary-key violation.
    pub fn is_unique_violation(&self) -> bool {
        match self {
            Self::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => {
                e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                    || e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
            }
            Self::Postgres { code, .. } => code.as_deref() == Some("23505"),
            _ => false,
        }
    }
}

/// Result alias for this module.
pub type DbResult<T> = Result<T, DbError>;

/// Which engine a connection talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// An embedded SQLite file.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

/// A value bound to a placeholder or read from a column.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// SQL `NULL`.
    Null,
    /// A 64-bit integer (booleans are `0` and `1`, as in SQLite).
    Integer(i64),
    /// A double.
    Real(f64),
    /// Text.
    Text(String),
    /// Bytes.
    Blob(Vec<u8>),
}

impl Value {
    fn kind(&self) -> &'static str {
        match self {
            Self::Null => "null",
            Self::Integer(_) => "integer",
            Self::Real(_) => "real",
            Self::Text(_) => "text",
            Self::Blob(_) => "blob",
        }
    }
}

/// A Rust value that binds to a placeholder.
pub trait ToSql {
    /// The value to bind.
    fn to_value(&self) -> Value;
}

impl ToSql for Value {
    fn to_value(&self) -> Value {
        self.clone()
    }
}
impl ToSql for str {
    fn to_value(&self) -> Value {
        Value::Text(self.to_owned())
    }
}
impl ToSql for String {
    fn to_value(&self) -> Value {
        Value::Text(self.clone())
    }
}
impl ToSql for [u8] {
    fn to_value(&self) -> Value {
        Value::Blob(self.to_vec())
    }
}
impl ToSql for Vec<u8> {
    fn to_value(&self) -> Value {
        Value::Blob(self.clone())
    }
}
impl ToSql for bool {
    fn to_value(&self) -> Value {
        Value::Integer(i64::from(*self))
    }
}
impl ToSql for f64 {
    fn to_value(&self) -> Value {
        Value::Real(*self)
    }
}
macro_rules! int_to_sql {
    ($($t:ty),*) => {$(
        impl ToSql for $t {
            fn to_value(&self) -> Value {
                Value::Integer(i64::from(*self))
            }
        }
    )*};
}
int_to_sql!(i8, i16, i32, i64, u8, u16, u32);
macro_rules! wide_int_to_sql {
    ($($t:ty),*) => {$(
        impl ToSql for $t {
            /// Values beyond `i64::MAX` bind as `i64::MAX` (counts and
            /// sizes never get there).
            fn to_value(&self) -> Value {
                Value::Integer(i64::try_from(*self).unwrap_or(i64::MAX))
            }
        }
    )*};
}
wide_int_to_sql!(u64, usize);
impl<T: ToSql + ?Sized> ToSql for &T {
    fn to_value(&self) -> Value {
        (**self).to_value()
    }
}
impl<T: ToSql> ToSql for Option<T> {
    fn to_value(&self) -> Value {
        self.as_ref().map_or(Value::Null, ToSql::to_value)
    }
}

impl From<String> for Value {
    fn from(v: String) -> Self {
        Self::Text(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Self::Text(v.to_owned())
    }
}
impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Self::Integer(v)
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Self::Null, Into::into)
    }
}

/// A statement's parameters.
pub trait Params {
    /// The values, in placeholder order.
    fn values(self) -> Vec<Value>;
}

impl Params for &[&dyn ToSql] {
    fn values(self) -> Vec<Value> {
        self.iter().map(|p| p.to_value()).collect()
    }
}
impl<const N: usize> Params for &[&dyn ToSql; N] {
    fn values(self) -> Vec<Value> {
        self.iter().map(|p| p.to_value()).collect()
    }
}
impl Params for [&dyn ToSql; 0] {
    fn values(self) -> Vec<Value> {
        Vec::new()
    }
}
macro_rules! array_params {
    ($($n:literal),*) => {$(
        impl<T: ToSql> Params for [T; $n] {
            fn values(self) -> Vec<Value> {
                self.iter().map(ToSql::to_value).collect()
            }
        }
    )*};
}
array_params!(1, 2, 3, 4, 5, 6, 7, 8);

/// Parameters from an iterator (rusqlite's `params_from_iter`).
pub struct ParamsFromIter<I>(I);

/// Binds each item of `iter` in turn.
pub fn params_from_iter<I>(iter: I) -> ParamsFromIter<I>
where
    I: IntoIterator,
    I::Item: ToSql,
{
    ParamsFromIter(iter)
}

impl<I> Params for ParamsFromIter<I>
where
    I: IntoIterator,
    I::Item: ToSql,
{
    fn values(self) -> Vec<Value> {
        self.0.into_iter().map(|p| p.to_value()).collect()
    }
}

/// Parameters as a slice of [`ToSql`] references, like rusqlite's macro.
macro_rules! params {
    () => {
        &[] as &[&dyn $crate::db::ToSql]
    };
    ($($p:expr),+ $(,)?) => {
        &[$(&$p as &dyn $crate::db::ToSql),+] as &[&dyn $crate::db::ToSql]
    };
}
pub(crate) use params;

/// A Rust value read from a column.
pub trait FromSql: Sized {
    /// Converts a column's value; `Err` names what it held.
    fn from_value(value: Value) -> Result<Self, Value>;
    /// The type's name, for errors.
    const NAME: &'static str;
}

impl FromSql for Value {
    const NAME: &'static str = "value";
    fn from_value(value: Value) -> Result<Self, Value> {
        Ok(value)
    }
}
impl FromSql for String {
    const NAME: &'static str = "text";
    fn from_value(value: Value) -> Result<Self, Value> {
        match value {
            Value::Text(s) => Ok(s),
            other => Err(other),
        }
    }
}
impl FromSql for Vec<u8> {
    const NAME: &'static str = "blob";
    fn from_value(value: Value) -> Result<Self, Value> {
        match value {
            Value::Blob(b) => Ok(b),
            Value::Text(s) => Ok(s.into_bytes()),
            other => Err(other),
        }
    }
}
impl FromSql for i64 {
    const NAME: &'static str = "integer";
    fn from_value(value: Value) -> Result<Self, Value> {
        match value {
            Value::Integer(i) => Ok(i),
            // What PostgreSQL's `json_extract` (text) gives for a number.
            Value::Text(ref s) => s.parse().map_err(|_| value.clone()),
            other => Err(other),
        }
    }
}
impl FromSql for f64 {
    const NAME: &'static str = "real";
    fn from_value(value: Value) -> Result<Self, Value> {
        match value {
            Value::Real(f) => Ok(f),
            #[expect(
                clippy::cast_precision_loss,
                reason = "SQLite reads integers as reals the same way"
            )]
            Value::Integer(i) => Ok(i as f64),
            Value::Text(ref s) => s.parse().map_err(|_| value.clone()),
            other => Err(other),
        }
    }
}
impl FromSql for bool {
    const NAME: &'static str = "boolean";
    fn from_value(value: Value) -> Result<Self, Value> {
        match value {
            Value::Integer(i) => Ok(i != 0),
            other => Err(other),
        }
    }
}
macro_rules! int_from_sql {
    ($($t:ty),*) => {$(
        impl FromSql for $t {
            const NAME: &'static str = stringify!($t);
            fn from_value(value: Value) -> Result<Self, Value> {
                let i = i64::from_value(value)?;
                <$t>::try_from(i).map_err(|_| Value::Integer(i))
            }
        }
    )*};
}
int_from_sql!(i32, u32, u64, usize);
impl<T: FromSql> FromSql for Option<T> {
    const NAME: &'static str = T::NAME;
    fn from_value(value: Value) -> Result<Self, Value> {
        match value {
            Value::Null => Ok(None),
            other => T::from_value(other).map(Some),
        }
    }
}

/// One row of a result.
pub enum Row<'r> {
    /// A SQLite row.
    Sqlite(&'r rusqlite::Row<'r>),
    /// A PostgreSQL row.
    Postgres(&'r postgres::Row),
}

impl Row<'_> {
    /// The value of column `index` as a `T`.
    pub fn get<T: FromSql>(&self, index: usize) -> DbResult<T> {
        let value = self.value(index)?;
        T::from_value(value).map_err(|found| DbError::Type {
            index,
            found: found.kind().to_owned(),
            wanted: T::NAME,
        })
    }

    fn value(&self, index: usize) -> DbResult<Value> {
        match self {
            Self::Sqlite(row) => {
                use rusqlite::types::ValueRef;
                Ok(match row.get_ref(index)? {
                    ValueRef::Null => Value::Null,
                    ValueRef::Integer(i) => Value::Integer(i),
                    ValueRef::Real(f) => Value::Real(f),
                    ValueRef::Text(t) => Value::Text(
                        std::str::from_utf8(t)
                            .map_err(|e| DbError::Sqlite(rusqlite::Error::Utf8Error(index, e)))?
                            .to_owned(),
                    ),
                    ValueRef::Blob(b) => Value::Blob(b.to_vec()),
                })
            }
            Self::Postgres(row) => {
                let ty =
                    row.columns()
                        .get(index)
                        .map(|c| c.type_().clone())
                        .ok_or(DbError::Type {
                            index,
                            found: "no such column".to_owned(),
                            wanted: "value",
                        })?;
                let raw: Raw<'_> = row.try_get(index).map_err(|e| DbError::postgres(&e))?;
                pg_decode(&ty, raw.0).map_err(|found| DbError::Type {
                    index,
                    found,
                    wanted: "value",
                })
            }
        }
    }
}

/// A column's bytes in PostgreSQL's binary format.
struct Raw<'a>(Option<&'a [u8]>);

impl<'a> PgFromSql<'a> for Raw<'a> {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Self(Some(raw)))
    }

    fn from_sql_null(_: &Type) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Self(None))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

fn be<const N: usize>(raw: &[u8]) -> Result<[u8; N], String> {
    raw.try_into()
        .map_err(|_| format!("{} bytes where {N} were expected", raw.len()))
}

/// Decodes a PostgreSQL binary value into the value SQLite would hold.
fn pg_decode(ty: &Type, raw: Option<&[u8]>) -> Result<Value, String> {
    let Some(raw) = raw else {
        return Ok(Value::Null);
    };
    let text = |raw: &[u8]| {
        std::str::from_utf8(raw)
            .map(|s| Value::Text(s.to_owned()))
            .map_err(|e| e.to_string())
    };
    Ok(match *ty {
        Type::INT2 => Value::Integer(i64::from(i16::from_be_bytes(be(raw)?))),
        Type::INT4 => Value::Integer(i64::from(i32::from_be_bytes(be(raw)?))),
        Type::INT8 => Value::Integer(i64::from_be_bytes(be(raw)?)),
        Type::OID => Value::Integer(i64::from(u32::from_be_bytes(be(raw)?))),
        Type::FLOAT4 => Value::Real(f64::from(f32::from_be_bytes(be(raw)?))),
        Type::FLOAT8 => Value::Real(f64::from_be_bytes(be(raw)?)),
        Type::BOOL => Value::Integer(i64::from(raw.first().copied().unwrap_or(0) != 0)),
        Type::BYTEA => Value::Blob(raw.to_vec()),
        Type::NUMERIC => numeric(raw)?,
        Type::JSONB => text(raw.get(1..).unwrap_or_default())?,
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN | Type::JSON => {
            text(raw)?
        }
        ref other => return Err(format!("postgresql type `{other}`")),
    })
}

/// Decodes a binary `NUMERIC` (what `SUM` of integers gives): an integer
/// when it has no fractional digits and fits, else a double.
fn numeric(raw: &[u8]) -> Result<Value, String> {
    let word = |i: usize| -> Result<i16, String> {
        raw.get(i * 2..i * 2 + 2)
            .and_then(|b| <[u8; 2]>::try_from(b).ok())
            .map(i16::from_be_bytes)
            .ok_or_else(|| "a truncated numeric".to_owned())
    };
    let ndigits = usize::try_from(word(0)?).map_err(|e| e.to_string())?;
    let weight = i32::from(word(1)?);
    #[expect(clippy::cast_sign_loss, reason = "the sign word is a bit pattern")]
    let sign = word(2)? as u16;
    let dscale = word(3)?;
    if sign == 0xC000 {
        return Ok(Value::Real(f64::NAN));
    }
    let mut int: Option<i128> = Some(0);
    let mut real = 0f64;
    let mut fits = dscale == 0;
    for i in 0..ndigits {
        let digit = word(4 + i)?;
        let power = weight - i32::try_from(i).map_err(|e| e.to_string())?;
        real += f64::from(digit) * 10000f64.powi(power);
        match u32::try_from(power) {
            Ok(power) => {
                int = int.and_then(|acc| {
                    10000i128
                        .checked_pow(power)
                        .and_then(|p| p.checked_mul(i128::from(digit)))
                        .and_then(|t| acc.checked_add(t))
                });
            }
            Err(_) => fits = fits && digit == 0,
        }
    }
    if sign == 0x4000 {
        int = int.map(|i| -i);
        real = -real;
    }
    Ok(match int.and_then(|i| i64::try_from(i).ok()) {
        Some(i) if fits => Value::Integer(i),
        _ => Value::Real(real),
    })
}

impl PgToSql for Value {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        let mismatch = || -> Box<dyn std::error::Error + Sync + Send> {
            format!("cannot bind {} to a `{ty}` parameter", self.kind()).into()
        };
        let textual = matches!(
            *ty,
            Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN | Type::JSON
        );
        match self {
            Self::Null => return Ok(IsNull::Yes),
            Self::Integer(i) => match *ty {
                Type::INT8 => out.put_i64(*i),
                Type::INT4 => out.put_i32(i32::try_from(*i)?),
                Type::INT2 => out.put_i16(i16::try_from(*i)?),
                #[expect(clippy::cast_precision_loss, reason = "as SQLite compares them")]
                Type::FLOAT8 => out.put_f64(*i as f64),
                Type::BOOL => out.put_u8(u8::from(*i != 0)),
                Type::NUMERIC => numeric_put(*i, out),
                _ if textual => out.put_slice(i.to_string().as_bytes()),
                _ => return Err(mismatch()),
            },
            Self::Real(f) => match *ty {
                Type::FLOAT8 => out.put_f64(*f),
                #[expect(clippy::cast_possible_truncation, reason = "a float4 parameter")]
                Type::FLOAT4 => out.put_f32(*f as f32),
                _ if textual => out.put_slice(f.to_string().as_bytes()),
                _ => return Err(mismatch()),
            },
            // PostgreSQL text cannot hold NUL (see `PG_COMPAT`).
            Self::Text(s) if s.contains('\0') => {
                return Self::Text(s.replace('\0', "\u{fffd}")).to_sql(ty, out);
            }
            Self::Text(s) => match *ty {
                Type::JSONB => {
                    out.put_u8(1);
                    out.put_slice(s.as_bytes());
                }
                Type::INT8 => out.put_i64(s.parse().map_err(|_| mismatch())?),
                Type::BYTEA => out.put_slice(s.as_bytes()),
                _ if textual => out.put_slice(s.as_bytes()),
                _ => return Err(mismatch()),
            },
            Self::Blob(b) => match *ty {
                Type::BYTEA => out.put_slice(b),
                _ => return Err(mismatch()),
            },
        }
        Ok(IsNull::No)
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    postgres::types::to_sql_checked!();
}

/// Encodes an integer as a binary `NUMERIC`.
fn numeric_put(i: i64, out: &mut BytesMut) {
    let mut digits = Vec::new();
    let mut rest = i.unsigned_abs();
    while rest > 0 {
        digits.push(i16::try_from(rest % 10000).unwrap_or(0));
        rest /= 10000;
    }
    digits.reverse();
    let n = i16::try_from(digits.len()).unwrap_or(0);
    out.put_i16(n);
    out.put_i16(n - 1);
    out.put_u16(if i < 0 { 0x4000 } else { 0 });
    out.put_i16(0);
    for d in digits {
        out.put_i16(d);
    }
}

/// Functions SQLite has that the store's SQL uses, defined on PostgreSQL
/// with the same names and results (as text). PostgreSQL text cannot hold
/// NUL: a JSON `\u0000` reads as U+FFFD, as NUL in a bound parameter does.
pub const PG_COMPAT: &str = r#"
CREATE OR REPLACE FUNCTION json_each(doc text) RETURNS TABLE (key text, value text)
LANGUAGE sql IMMUTABLE AS $$
    SELECT (e.o - 1)::text, e.v
      FROM json_array_elements_text(CASE WHEN json_typeof(doc::json) = 'array'
                THEN replace(doc, '\u0000', '\ufffd')::json ELSE '[]'::json END)
           WITH ORDINALITY AS e (v, o)
    UNION ALL
    SELECT e.k, e.v
      FROM json_each_text(CASE WHEN json_typeof(doc::json) = 'object'
                THEN replace(doc, '\u0000', '\ufffd')::json ELSE '{}'::json END) AS e (k, v)
$$;
CREATE OR REPLACE FUNCTION json_extract(doc text, path text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT doc::json #>> string_to_array(substr(path, 3), '.')
$$;
"#;

/// Rewrites the store's SQL for PostgreSQL (see the module's comment).
pub fn translate(sql: &str) -> String {
    // The statement's first two words, past any leading `--` comments (a
    // commented `CREATE TABLE` is still one: it gets `COLLATE "C"` text
    // columns and a `rowid` like the others).
    let code = sql
        .lines()
        .skip_while(|l| {
            let t = l.trim();
            t.is_empty() || t.starts_with("--")
        })
        .collect::<Vec<_>>()
        .join("\n");
    let head: String = code
        .split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" ")
        .to_ascii_uppercase();
    let ddl = head == "CREATE TABLE" || head == "ALTER TABLE";
    let create = head == "CREATE TABLE";
    let mut out = String::with_capacity(sql.len() + 32);
    let mut chars = sql.char_indices().peekable();
    let mut max_index = 0usize;
    let mut words: Vec<String> = Vec::new();
    while let Some((i, c)) = chars.next() {
        match c {
            '\'' | '"' => {
                out.push(c);
                for (_, d) in chars.by_ref() {
                    out.push(d);
                    if d == c {
                        break;
                    }
                }
            }
            '-' if sql[i..].starts_with("--") => {
                for (_, d) in chars.by_ref() {
                    if d == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            '?' => {
                let mut n = String::new();
                while let Some(&(_, d)) = chars.peek()
                    && d.is_ascii_digit()
                {
                    n.push(d);
                    chars.next();
                }
                if n.is_empty() {
                    n = (max_index + 1).to_string();
                }
                max_index = max_index.max(n.parse().unwrap_or(0));
                out.push('$');
                out.push_str(&n);
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let mut word = String::from(c);
                while let Some(&(_, d)) = chars.peek()
                    && (d.is_ascii_alphanumeric() || d == '_')
                {
                    word.push(d);
                    chars.next();
                }
                let upper = word.to_ascii_uppercase();
                let prev = words.last().map(String::as_str);
                let replaced = match upper.as_str() {
                    "INTEGER" | "BOOLEAN" => "BIGINT",
                    "REAL" => "DOUBLE PRECISION",
                    "BLOB" => "BYTEA",
                    "AUTOINCREMENT" => "",
                    "ROWID" if prev == Some("WITHOUT") => "",
                    "WITHOUT" if ddl => "",
                    "IFNULL" => "COALESCE",
                    "TEXT" if ddl => "TEXT COLLATE \"C\"",
                    _ => {
                        out.push_str(&word);
                        words.push(upper);
                        continue;
                    }
                };
                out.push_str(replaced);
                words.push(upper);
            }
            _ => out.push(c),
        }
    }
    if create {
        // `INTEGER PRIMARY KEY` assigns itself in SQLite.
        out = out.replace("BIGINT PRIMARY KEY", "BIGSERIAL PRIMARY KEY");
        add_rowid(&mut out);
    }
    out
}

/// Gives each created table a `rowid` (insertion order, as in SQLite)
/// unless it names one.
fn add_rowid(sql: &mut String) {
    if sql.to_ascii_lowercase().contains("rowid") {
        return;
    }
    // The column list's closing parenthesis: the first one back at depth
    // zero (a `PARTITION BY RANGE (…)` after it has its own).
    let mut depth = 0i32;
    let mut close = None;
    let mut in_quote: Option<char> = None;
    for (i, c) in sql.char_indices() {
        match (in_quote, c) {
            (Some(q), c) if c == q => in_quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => in_quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') => {
                depth -= 1;
                if depth == 0 {
                    close = Some(i);
                    break;
                }
            }
            _ => {}
        }
    }
    if let Some(i) = close {
        sql.insert_str(i, ",\n    rowid BIGSERIAL");
    }
}

/// Splits a script into statements at top-level semicolons (quotes,
/// comments and `$$` bodies kept whole).
fn statements(script: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut in_quote: Option<char> = None;
    let mut in_dollar = false;
    let mut in_comment = false;
    let mut chars = script.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let next = chars.peek().map(|&(_, d)| d);
        if in_comment {
            in_comment = c != '\n';
        } else if in_dollar {
            if c == '$' && next == Some('$') {
                in_dollar = false;
                chars.next();
            }
        } else if let Some(q) = in_quote {
            if c == q {
                in_quote = None;
            }
        } else if c == '$' && next == Some('$') {
            in_dollar = true;
            chars.next();
        } else if c == '-' && next == Some('-') {
            in_comment = true;
        } else if c == '\'' || c == '"' {
            in_quote = Some(c);
        } else if c == ';' {
            out.push(&script[start..i]);
            start = i + 1;
        }
    }
    out.push(&script[start..]);
    out.into_iter().filter(|s| !s.trim().is_empty()).collect()
}

type PgJob = Box<dyn FnOnce(&mut PgState) + Send>;

/// What the connection's thread owns.
struct PgState {
    client: postgres::Client,
    prepared: HashMap<String, postgres::Statement>,
}

impl PgState {
    fn statement(&mut self, sql: &str) -> DbResult<postgres::Statement> {
        if let Some(s) = self.prepared.get(sql) {
            return Ok(s.clone());
        }
        let translated = translate(sql);
        let s = self
            .client
            .prepare(&translated)
            .map_err(|e| DbError::postgres(&e))?;
        if self.prepared.len() > 512 {
            self.prepared.clear();
        }
        self.prepared.insert(sql.to_owned(), s.clone());
        Ok(s)
    }

    fn bind(values: &[Value]) -> Vec<&(dyn PgToSql + Sync)> {
        values.iter().map(|v| v as &(dyn PgToSql + Sync)).collect()
    }

    fn query(&mut self, sql: &str, values: &[Value]) -> DbResult<Vec<postgres::Row>> {
        let statement = self.statement(sql)?;
        self.client
            .query(&statement, &Self::bind(values))
            .map_err(|e| DbError::postgres(&e))
    }

    fn execute(&mut self, sql: &str, values: &[Value]) -> DbResult<usize> {
        let statement = self.statement(sql)?;
        let n = self
            .client
            .execute(&statement, &Self::bind(values))
            .map_err(|e| DbError::postgres(&e))?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }

    fn batch(&mut self, script: &str) -> DbResult<()> {
        for statement in statements(script) {
            let sql = translate(statement);
            self.client
                .batch_execute(&sql)
                .map_err(|e| DbError::postgres(&e))?;
        }
        Ok(())
    }
}

/// A PostgreSQL connection driven on a thread of its own.
pub struct PgConn {
    jobs: mpsc::Sender<PgJob>,
    /// Open transactions and savepoints.
    depth: Cell<u32>,
}

impl std::fmt::Debug for PgConn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgConn")
            .field("depth", &self.depth)
            .finish()
    }
}

impl PgConn {
    /// Connects to `url` (`postgres://…`), with TLS as its `sslmode` and
    /// `sslrootcert` say ([`crate::tls`]).
    pub fn connect(url: &str) -> DbResult<Self> {
        let (jobs, queue) = mpsc::channel::<PgJob>();
        let (ready, connected) = mpsc::channel::<DbResult<()>>();
        let url = url.to_owned();
        std::thread::Builder::new()
            .name("rampart-postgres".to_owned())
            .spawn(move || {
                let mut client = match crate::tls::connect(&url) {
                    Ok(client) => client,
                    Err(e) => {
                        let _ = ready.send(Err(e));
                        return;
                    }
                };
                // No JIT: the store's statements are short reads and
                // writes, and a plan estimated as expensive (a large
                // table) is compiled first, for 100-400 ms each time,
                // which was most of the API's p99 at 10 M assessments.
                if let Err(e) = client.batch_execute("SET jit = off") {
                    let _ = ready.send(Err(DbError::postgres(&e)));
                    return;
                }
                let _ = ready.send(Ok(()));
                let mut state = PgState {
                    client,
                    prepared: HashMap::new(),
                };
                for job in queue {
                    job(&mut state);
                }
            })
            .map_err(|e| DbError::Postgres {
                message: format!("cannot start a connection thread: {e}"),
                code: None,
            })?;
        connected.recv().map_err(|_| DbError::Closed)??;
        Ok(Self {
            jobs,
            depth: Cell::new(0),
        })
    }

    /// Runs `f` on the connection's thread and waits for its result.
    fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut PgState) -> DbResult<T> + Send + 'static,
    ) -> DbResult<T> {
        let (reply, answer) = mpsc::sync_channel(1);
        self.jobs
            .send(Box::new(move |state| {
                let _ = reply.send(f(state));
            }))
            .map_err(|_| DbError::Closed)?;
        answer.recv().map_err(|_| DbError::Closed)?
    }
}

/// A connection to either engine.
#[derive(Debug)]
pub enum Conn {
    /// SQLite.
    Sqlite(rusqlite::Connection),
    /// PostgreSQL.
    Postgres(PgConn),
}

impl Conn {
    /// The engine.
    pub fn backend(&self) -> Backend {
        match self {
            Self::Sqlite(_) => Backend::Sqlite,
            Self::Postgres(_) => Backend::Postgres,
        }
    }

    /// Runs a statement; the number of rows it changed.
    pub fn execute(&self, sql: &str, params: impl Params) -> DbResult<usize> {
        let values = params.values();
        match self {
            Self::Sqlite(c) => Ok(c.execute(sql, rusqlite::params_from_iter(values.iter()))?),
            Self::Postgres(c) => {
                let sql = sql.to_owned();
                c.run(move |s| s.execute(&sql, &values))
            }
        }
    }

    /// Runs a script of statements without parameters.
    pub fn execute_batch(&self, script: &str) -> DbResult<()> {
        match self {
            Self::Sqlite(c) => Ok(c.execute_batch(script)?),
            Self::Postgres(c) => {
                let script = script.to_owned();
                c.run(move |s| s.batch(&script))
            }
        }
    }

    /// Runs a script written in PostgreSQL's own SQL, untranslated (DDL
    /// that SQLite has no form of, such as partitions). Only for a
    /// PostgreSQL store: on SQLite it runs as it is.
    pub fn execute_native(&self, script: &str) -> DbResult<()> {
        match self {
            Self::Sqlite(c) => Ok(c.execute_batch(script)?),
            Self::Postgres(c) => {
                let script = script.to_owned();
                c.run(move |s| {
                    s.client
                        .batch_execute(&script)
                        .map_err(|e| DbError::postgres(&e))
                })
            }
        }
    }

    /// The first row's mapping; [`DbError::NoRows`] when there is none.
    pub fn query_row<T>(
        &self,
        sql: &str,
        params: impl Params,
        f: impl FnOnce(&Row<'_>) -> DbResult<T>,
    ) -> DbResult<T> {
        let mut statement = self.prepare(sql)?;
        let mut rows = statement.query(params)?;
        match rows.next()? {
            Some(row) => f(&row),
            None => Err(DbError::NoRows),
        }
    }

    /// A statement to run (several times, perhaps).
    pub fn prepare(&self, sql: &str) -> DbResult<Statement<'_>> {
        match self {
            Self::Sqlite(c) => Ok(Statement::Sqlite(c.prepare(sql)?)),
            Self::Postgres(c) => Ok(Statement::Postgres {
                conn: c,
                sql: sql.to_owned(),
            }),
        }
    }

    /// [`prepare`](Self::prepare), kept for reuse (both engines cache).
    pub fn prepare_cached(&self, sql: &str) -> DbResult<Statement<'_>> {
        match self {
            Self::Sqlite(c) => Ok(Statement::SqliteCached(c.prepare_cached(sql)?)),
            Self::Postgres(_) => self.prepare(sql),
        }
    }

    /// Whether no transaction is open.
    pub fn is_autocommit(&self) -> bool {
        match self {
            Self::Sqlite(c) => c.is_autocommit(),
            Self::Postgres(c) => c.depth.get() == 0,
        }
    }

    /// Whether `table` has `column` (for migrations that add columns).
    pub fn has_column(&self, table: &str, column: &str) -> DbResult<bool> {
        match self {
            Self::Sqlite(c) => {
                let mut stmt = c.prepare(&format!("PRAGMA table_info({table})"))?;
                let names = stmt
                    .query_map([], |r| r.get::<_, String>(1))?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                Ok(names.iter().any(|n| n == column))
            }
            Self::Postgres(_) => Ok(self
                .query_row(
                    "SELECT COUNT(*) FROM information_schema.columns
                     WHERE table_schema = current_schema() AND table_name = ?1 AND column_name = ?2",
                    [table, column],
                    |r| r.get::<i64>(0),
                )?
                > 0),
        }
    }

    /// Starts a write transaction: SQLite's `BEGIN IMMEDIATE` (the write
    /// lock up front); on PostgreSQL `BEGIN` and a transaction-scoped
    /// advisory lock on the schema, so writers queue the same way. Inside
    /// a transaction, a savepoint.
    pub fn begin_write(&self) -> DbResult<Transaction<'_>> {
        Ok(Transaction {
            conn: self,
            savepoint: self.begin()?,
            done: false,
        })
    }

    /// Begins a top-level write transaction without a guard (for
    /// [`Store::write`](crate::Store::write), which hands the connection to
    /// a closure); end it with [`finish`](Self::finish).
    pub fn begin_unguarded(&self) -> DbResult<()> {
        self.begin().map(drop)
    }

    /// [`begin_write`](Self::begin_write)'s statements; the savepoint's
    /// name when it opened one. Nested savepoints share the name on both
    /// engines: a release or rollback to it ends the innermost.
    fn begin(&self) -> DbResult<Option<&'static str>> {
        const SAVEPOINT: &str = "rampart_savepoint";
        let top = self.is_autocommit();
        let sql = match (top, self.backend()) {
            (false, _) => format!("SAVEPOINT {SAVEPOINT}"),
            (true, Backend::Sqlite) => "BEGIN IMMEDIATE".to_owned(),
            (true, Backend::Postgres) => {
                "BEGIN; SELECT pg_advisory_xact_lock(hashtext(current_schema()));".to_owned()
            }
        };
        self.execute_batch(&sql)?;
        if let Self::Postgres(c) = self {
            c.depth.set(c.depth.get() + 1);
        }
        Ok((!top).then_some(SAVEPOINT))
    }

    /// Commits (or rolls back) what [`begin_unguarded`](Self::begin_unguarded) began.
    pub fn finish(&self, commit: bool) -> DbResult<()> {
        self.end(if commit { "COMMIT" } else { "ROLLBACK" }.to_owned())
    }

    fn end(&self, sql: String) -> DbResult<()> {
        match self {
            Self::Sqlite(c) => Ok(c.execute_batch(&sql)?),
            Self::Postgres(c) => {
                c.depth.set(c.depth.get().saturating_sub(1));
                c.run(move |s| {
                    s.client
                        .batch_execute(&sql)
                        .map_err(|e| DbError::postgres(&e))
                })
            }
        }
    }
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match self {
            Self::Null => ValueRef::Null,
            Self::Integer(i) => ValueRef::Integer(*i),
            Self::Real(f) => ValueRef::Real(*f),
            Self::Text(s) => ValueRef::Text(s.as_bytes()),
            Self::Blob(b) => ValueRef::Blob(b),
        }))
    }
}

/// An open write transaction (or savepoint): rolled back when dropped
/// without [`commit`](Self::commit).
pub struct Transaction<'c> {
    conn: &'c Conn,
    savepoint: Option<&'static str>,
    done: bool,
}

impl std::ops::Deref for Transaction<'_> {
    type Target = Conn;

    fn deref(&self) -> &Conn {
        self.conn
    }
}

impl Transaction<'_> {
    /// Makes the writes permanent (or part of the enclosing transaction).
    pub fn commit(mut self) -> DbResult<()> {
        self.done = true;
        match &self.savepoint {
            None => self.conn.end("COMMIT".to_owned()),
            Some(name) => self.conn.end(format!("RELEASE SAVEPOINT {name}")),
        }
    }
}

impl Drop for Transaction<'_> {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let sql = match &self.savepoint {
            None => "ROLLBACK".to_owned(),
            Some(name) => format!("ROLLBACK TO SAVEPOINT {name}; RELEASE SAVEPOINT {name}"),
        };
        let _ = self.conn.end(sql);
    }
}

/// A prepared statement.
pub enum Statement<'c> {
    /// SQLite's.
    Sqlite(rusqlite::Statement<'c>),
    /// SQLite's, from the connection's cache.
    SqliteCached(rusqlite::CachedStatement<'c>),
    /// PostgreSQL's (prepared on first use, cached by the connection).
    Postgres {
        /// The connection.
        conn: &'c PgConn,
        /// The statement, as written for SQLite.
        sql: String,
    },
}

impl<'c> Statement<'c> {
    fn sqlite(&mut self) -> Option<&mut rusqlite::Statement<'c>> {
        match self {
            Self::Sqlite(s) => Some(s),
            Self::SqliteCached(s) => Some(s),
            Self::Postgres { .. } => None,
        }
    }

    /// Runs the statement; the number of rows it changed.
    pub fn execute(&mut self, params: impl Params) -> DbResult<usize> {
        let values = params.values();
        if let Some(s) = self.sqlite() {
            return Ok(s.execute(rusqlite::params_from_iter(values.iter()))?);
        }
        let Self::Postgres { conn, sql } = self else {
            return Err(DbError::Closed);
        };
        let sql = sql.clone();
        conn.run(move |s| s.execute(&sql, &values))
    }

    /// The rows, one at a time.
    pub fn query(&mut self, params: impl Params) -> DbResult<Rows<'_>> {
        let values = params.values();
        if let Self::Postgres { conn, sql } = self {
            let sql = sql.clone();
            let rows = conn.run(move |s| s.query(&sql, &values))?;
            return Ok(Rows::Postgres(rows.into_iter(), None));
        }
        match self {
            Self::Sqlite(s) => Ok(Rows::Sqlite(
                s.query(rusqlite::params_from_iter(values.iter()))?,
            )),
            Self::SqliteCached(s) => Ok(Rows::Sqlite(
                s.query(rusqlite::params_from_iter(values.iter()))?,
            )),
            Self::Postgres { .. } => Err(DbError::Closed),
        }
    }

    /// Each row mapped by `f`.
    pub fn query_map<T, F>(&mut self, params: impl Params, f: F) -> DbResult<MappedRows<'_, F>>
    where
        F: FnMut(&Row<'_>) -> DbResult<T>,
    {
        Ok(MappedRows {
            rows: self.query(params)?,
            f,
        })
    }

    /// Whether the query returns a row.
    pub fn exists(&mut self, params: impl Params) -> DbResult<bool> {
        Ok(self.query(params)?.next()?.is_some())
    }
}

/// A query's rows.
pub enum Rows<'s> {
    /// SQLite's, read as they come.
    Sqlite(rusqlite::Rows<'s>),
    /// PostgreSQL's, all read, and the current one.
    Postgres(std::vec::IntoIter<postgres::Row>, Option<postgres::Row>),
}

impl Rows<'_> {
    /// The next row, if any (rusqlite's name for it).
    #[expect(
        clippy::should_implement_trait,
        reason = "a lending iterator: each row borrows the result set"
    )]
    pub fn next(&mut self) -> DbResult<Option<Row<'_>>> {
        match self {
            Self::Sqlite(rows) => Ok(rows.next()?.map(Row::Sqlite)),
            Self::Postgres(rows, current) => {
                *current = rows.next();
                Ok(current.as_ref().map(Row::Postgres))
            }
        }
    }
}

/// Rows mapped by a function, as an iterator.
pub struct MappedRows<'s, F> {
    rows: Rows<'s>,
    f: F,
}

impl<T, F> Iterator for MappedRows<'_, F>
where
    F: FnMut(&Row<'_>) -> DbResult<T>,
{
    type Item = DbResult<T>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.rows.next() {
            Ok(Some(row)) => Some((self.f)(&row)),
            Ok(None) => None,
            Err(e) => Some(Err(e)),
        }
    }
}

/// `.optional()` on a single-row result, as in rusqlite.
pub trait OptionalExtension<T> {
    /// `None` when the query returned no row.
    fn optional(self) -> DbResult<Option<T>>;
}

impl<T> OptionalExtension<T> for DbResult<T> {
    fn optional(self) -> DbResult<Option<T>> {
        match self {
            Ok(v) => Ok(Some(v)),
            Err(DbError::NoRows | DbError::Sqlite(rusqlite::Error::QueryReturnedNoRows)) => {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }
}

/// Quotes an identifier for either engine.
pub fn quote_ident(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 2);
    out.push('"');
    for c in name.chars() {
        if c == '"' {
            out.push('"');
        }
        out.push(c);
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_and_types_are_rewritten_outside_quotes() {
        assert_eq!(
            translate("SELECT a FROM t WHERE b = ?1 AND c = '?2' AND d = ?"),
            "SELECT a FROM t WHERE b = $1 AND c = '?2' AND d = $2"
        );
        let ddl = translate(
            "CREATE TABLE IF NOT EXISTS x (id INTEGER PRIMARY KEY AUTOINCREMENT, n INTEGER NOT NULL, b BLOB, r REAL, t TEXT NOT NULL DEFAULT 'TEXT')",
        );
        assert_eq!(
            ddl,
            "CREATE TABLE IF NOT EXISTS x (id BIGSERIAL PRIMARY KEY , n BIGINT NOT NULL, b BYTEA, r DOUBLE PRECISION, t TEXT COLLATE \"C\" NOT NULL DEFAULT 'TEXT',\n    rowid BIGSERIAL)"
        );
        assert_eq!(
            translate("SELECT IFNULL(x, 0) FROM t -- a ? comment\nWHERE y = ?2"),
            "SELECT COALESCE(x, 0) FROM t \nWHERE y = $2"
        );
        assert_eq!(
            translate("-- what it holds\n-- and why\nCREATE TABLE c (k TEXT)"),
            "\n\nCREATE TABLE c (k TEXT COLLATE \"C\",\n    rowid BIGSERIAL)",
            "a leading comment does not hide the DDL"
        );
        assert_eq!(
            translate("CREATE TABLE v (k TEXT PRIMARY KEY) WITHOUT ROWID"),
            "CREATE TABLE v (k TEXT COLLATE \"C\" PRIMARY KEY,\n    rowid BIGSERIAL)  "
        );
    }

    #[test]
    fn scripts_split_at_top_level_semicolons() {
        let parts = statements("CREATE TABLE a (x TEXT DEFAULT ';'); -- c;\nSELECT 1;; $$ ; $$");
        assert_eq!(parts.len(), 3, "{parts:?}");
    }

    #[test]
    fn numerics_decode_as_sqlite_would() {
        let mut buf = BytesMut::new();
        numeric_put(1_234_567_890, &mut buf);
        assert_eq!(numeric(&buf).unwrap(), Value::Integer(1_234_567_890));
        let mut buf = BytesMut::new();
        numeric_put(-42, &mut buf);
        assert_eq!(numeric(&buf).unwrap(), Value::Integer(-42));
        let mut buf = BytesMut::new();
        numeric_put(0, &mut buf);
        assert_eq!(numeric(&buf).unwrap(), Value::Integer(0));
        // 2.5: one digit before the point (weight 0), 5000 after, scale 1.
        let raw = [0u8, 2, 0, 0, 0, 0, 0, 1, 0, 2, 0x13, 0x88];
        assert_eq!(numeric(&raw).unwrap(), Value::Real(2.5));
    }
}

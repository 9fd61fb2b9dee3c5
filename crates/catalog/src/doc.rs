//! Compact, read-only JSON documents: how the inventory keeps each asset's
//! properties during evaluation.
//!
//! A `serde_json::Value` tree spends most of its memory on structure: every
//! object is a B-tree node of several hundred bytes and every string its
//! own allocation, about 6 KB in memory for an asset whose JSON is 600
//! bytes. A [`Doc`] is one byte buffer a little smaller than the JSON text,
//! and [`Node`] reads it in place without allocating, with the accessors of
//! `Value` (`get`, `as_str`, `as_array`, …), so a million assets fit in
//! about a gigabyte.
//!
//! Encoding (one value; numbers little-endian):
//!
//! | tag | value | then |
//! |-----|-------|------|
//! | 0 | null | — |
//! | 1, 2 | false, true | — |
//! | 3 | non-negative integer | LEB128 `u64` |
//! | 4 | negative integer `n` | LEB128 of `!n as u64` |
//! | 5 | other number | 8 bytes `f64` |
//! | 6 | string | LEB128 length, UTF-8 bytes |
//! | 7 | array | `u32` count, `u32` byte length of the items, items |
//! | 8 | object | `u32` count, `u32` byte length of the entries, entries (LEB128 key length, key, value) |
//!
//! The byte lengths let a reader skip a whole array or object, so looking a
//! key up reads only the keys before it and their values' headers.

use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

const NULL: u8 = 0;
const FALSE: u8 = 1;
const TRUE: u8 = 2;
const POS: u8 = 3;
const NEG: u8 = 4;
const FLOAT: u8 = 5;
const STR: u8 = 6;
const ARR: u8 = 7;
const OBJ: u8 = 8;

/// Bytes of an array or object header after the tag: count and byte length.
const HEADER: usize = 8;

/// Why a value could not be encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocError {
    /// An array or object is larger than the encoding's 4 GiB limit.
    #[error("a JSON array or object of `{0}` bytes is larger than a document can hold")]
    TooLarge(usize),
    /// The JSON text could not be read.
    #[error("invalid JSON: {0}")]
    Json(String),
}

/// One JSON value in the compact encoding (see the module documentation).
#[derive(Clone, PartialEq, Eq)]
pub struct Doc(Box<[u8]>);

impl Doc {
    /// Encodes `value`.
    pub fn from_value(value: &Value) -> Result<Self, DocError> {
        let mut out = Vec::new();
        encode(value, &mut out)?;
        Ok(Self(out.into_boxed_slice()))
    }

    /// Encodes JSON text without building a `Value` first.
    pub fn from_json(text: &str) -> Result<Self, DocError> {
        let mut out = Vec::with_capacity(text.len());
        let mut de = serde_json::Deserializer::from_str(text);
        Encoder { out: &mut out }
            .deserialize(&mut de)
            .map_err(|e| DocError::Json(e.to_string()))?;
        de.end().map_err(|e| DocError::Json(e.to_string()))?;
        Ok(Self(out.into_boxed_slice()))
    }

    /// JSON `null`.
    pub fn null() -> Self {
        Self(Box::new([NULL]))
    }

    /// The document's value.
    pub fn root(&self) -> Node<'_> {
        Node { buf: &self.0 }
    }

    /// Bytes the encoding takes.
    pub fn encoded_len(&self) -> usize {
        self.0.len()
    }
}

impl fmt::Debug for Doc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.root(), f)
    }
}

fn put_varint(mut n: u64, out: &mut Vec<u8>) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn put_str(s: &str, out: &mut Vec<u8>) {
    put_varint(s.len() as u64, out);
    out.extend_from_slice(s.as_bytes());
}

/// Writes a container header with room for count and length; returns where
/// the header's count starts.
fn open(tag: u8, out: &mut Vec<u8>) -> usize {
    out.push(tag);
    let at = out.len();
    out.extend_from_slice(&[0; HEADER]);
    at
}

/// Fills in the header [`open`] wrote.
fn close(at: usize, count: usize, out: &mut [u8]) -> Result<(), DocError> {
    let body = out.len() - at - HEADER;
    let len = u32::try_from(body).map_err(|_| DocError::TooLarge(body))?;
    let count = u32::try_from(count).map_err(|_| DocError::TooLarge(body))?;
    if let Some(header) = out.get_mut(at..at + HEADER) {
        let (c, l) = header.split_at_mut(4);
        c.copy_from_slice(&count.to_le_bytes());
        l.copy_from_slice(&len.to_le_bytes());
    }
    Ok(())
}

fn put_number(n: &serde_json::Number, out: &mut Vec<u8>) {
    if let Some(u) = n.as_u64() {
        out.push(POS);
        put_varint(u, out);
    } else if let Some(i) = n.as_i64() {
        out.push(NEG);
        put_varint(!i as u64, out);
    } else {
        out.push(FLOAT);
        out.extend_from_slice(&n.as_f64().unwrap_or(0.0).to_le_bytes());
    }
}

fn encode(value: &Value, out: &mut Vec<u8>) -> Result<(), DocError> {
    match value {
        Value::Null => out.push(NULL),
        Value::Bool(false) => out.push(FALSE),
        Value::Bool(true) => out.push(TRUE),
        Value::Number(n) => put_number(n, out),
        Value::String(s) => {
            out.push(STR);
            put_str(s, out);
        }
        Value::Array(items) => {
            let at = open(ARR, out);
            for item in items {
                encode(item, out)?;
            }
            close(at, items.len(), out)?;
        }
        Value::Object(map) => {
            let at = open(OBJ, out);
            for (key, item) in map {
                put_str(key, out);
                encode(item, out)?;
            }
            close(at, map.len(), out)?;
        }
    }
    Ok(())
}

/// Encodes a value straight from a deserializer.
struct Encoder<'w> {
    out: &'w mut Vec<u8>,
}

impl<'de> DeserializeSeed<'de> for Encoder<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Encoder<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.out.push(NULL);
        Ok(())
    }

    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        self.visit_unit()
    }

    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
        self.out.push(if v { TRUE } else { FALSE });
        Ok(())
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        self.out.push(POS);
        put_varint(v, self.out);
        Ok(())
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        match u64::try_from(v) {
            Ok(u) => self.visit_u64(u),
            Err(_) => {
                self.out.push(NEG);
                put_varint(!v as u64, self.out);
                Ok(())
            }
        }
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        // As `serde_json::Value` does: a non-finite number is null.
        match serde_json::Number::from_f64(v) {
            Some(n) => put_number(&n, self.out),
            None => self.out.push(NULL),
        }
        Ok(())
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        self.out.push(STR);
        put_str(v, self.out);
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let at = open(ARR, self.out);
        let mut count = 0;
        while seq.next_element_seed(Encoder { out: self.out })?.is_some() {
            count += 1;
        }
        close(at, count, self.out).map_err(de::Error::custom)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let at = open(OBJ, self.out);
        let mut count = 0;
        while map.next_key_seed(KeyEncoder { out: self.out })?.is_some() {
            map.next_value_seed(Encoder { out: self.out })?;
            count += 1;
        }
        close(at, count, self.out).map_err(de::Error::custom)
    }
}

/// Encodes an object key.
struct KeyEncoder<'w> {
    out: &'w mut Vec<u8>,
}

impl<'de> DeserializeSeed<'de> for KeyEncoder<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl Visitor<'_> for KeyEncoder<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        put_str(v, self.out);
        Ok(())
    }
}

/// Reads a LEB128 number at the start of `buf`: the number and the bytes it took.
fn varint(buf: &[u8]) -> Option<(u64, usize)> {
    let mut n = 0u64;
    for (i, &b) in buf.iter().enumerate().take(10) {
        n |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Some((n, i + 1));
        }
    }
    None
}

fn u32_at(buf: &[u8], at: usize) -> Option<usize> {
    let bytes: [u8; 4] = buf.get(at..at + 4)?.try_into().ok()?;
    Some(u32::from_le_bytes(bytes) as usize)
}

/// A length-prefixed byte string at the start of `buf`: its bytes and the
/// bytes the prefix and string took.
fn prefixed(buf: &[u8]) -> Option<(&[u8], usize)> {
    let (len, n) = varint(buf)?;
    let len = usize::try_from(len).ok()?;
    let bytes = buf.get(n..n.checked_add(len)?)?;
    Some((bytes, n + len))
}

/// The number of bytes the value at the start of `buf` takes.
fn extent(buf: &[u8]) -> Option<usize> {
    match *buf.first()? {
        NULL | FALSE | TRUE => Some(1),
        POS | NEG => Some(1 + varint(buf.get(1..)?)?.1),
        FLOAT => Some(9),
        STR => Some(1 + prefixed(buf.get(1..)?)?.1),
        ARR | OBJ => Some(1 + HEADER + u32_at(buf, 5)?),
        _ => None,
    }
}

/// A container's count and its items' bytes (`buf` starts at the tag).
fn body(buf: &[u8]) -> Option<(usize, &[u8])> {
    let count = u32_at(buf, 1)?;
    let len = u32_at(buf, 5)?;
    Some((count, buf.get(1 + HEADER..1 + HEADER + len)?))
}

/// A read-only view of one value in a [`Doc`], with `serde_json::Value`'s
/// accessors. Copying a `Node` copies a reference.
#[derive(Clone, Copy)]
pub struct Node<'a> {
    /// Starts at the value's tag (and may run past the value).
    buf: &'a [u8],
}

/// What a [`Node`] holds, for matching on its shape.
#[derive(Debug, Clone, Copy)]
pub enum Kind<'a> {
    /// JSON `null`.
    Null,
    /// A boolean.
    Bool(bool),
    /// A number (see [`Node::as_i64`], [`Node::as_f64`]).
    Number,
    /// A string.
    String(&'a str),
    /// An array.
    Array(Array<'a>),
    /// An object.
    Object(Object<'a>),
}

/// How a [`Node`] can be indexed: by object key or array position.
pub trait Index {
    /// The value at this index in `node`, if any.
    fn index_into<'a>(&self, node: Node<'a>) -> Option<Node<'a>>;
}

impl Index for str {
    fn index_into<'a>(&self, node: Node<'a>) -> Option<Node<'a>> {
        node.as_object()?.get(self)
    }
}

impl Index for String {
    fn index_into<'a>(&self, node: Node<'a>) -> Option<Node<'a>> {
        self.as_str().index_into(node)
    }
}

impl Index for usize {
    fn index_into<'a>(&self, node: Node<'a>) -> Option<Node<'a>> {
        node.as_array()?.get(*self)
    }
}

impl<T: Index + ?Sized> Index for &T {
    fn index_into<'a>(&self, node: Node<'a>) -> Option<Node<'a>> {
        (**self).index_into(node)
    }
}

impl<'a> Node<'a> {
    fn tag(self) -> u8 {
        self.buf.first().copied().unwrap_or(NULL)
    }

    /// The value's shape.
    pub fn kind(self) -> Kind<'a> {
        match self.tag() {
            FALSE => Kind::Bool(false),
            TRUE => Kind::Bool(true),
            POS | NEG | FLOAT => Kind::Number,
            STR => self.as_str().map_or(Kind::Null, Kind::String),
            ARR => self.as_array().map_or(Kind::Null, Kind::Array),
            OBJ => self.as_object().map_or(Kind::Null, Kind::Object),
            _ => Kind::Null,
        }
    }

    /// The value at an object key or array position, as `Value::get`.
    pub fn get<I: Index>(self, index: I) -> Option<Node<'a>> {
        index.index_into(self)
    }

    /// The value at a JSON Pointer (RFC 6901), as `Value::pointer`.
    pub fn pointer(self, pointer: &str) -> Option<Node<'a>> {
        if pointer.is_empty() {
            return Some(self);
        }
        let rest = pointer.strip_prefix('/')?;
        let mut node = self;
        for token in rest.split('/') {
            let token = token.replace("~1", "/").replace("~0", "~");
            node = match node.tag() {
                OBJ => node.as_object()?.get(&token)?,
                ARR => node.as_array()?.get(token.parse().ok()?)?,
                _ => return None,
            };
        }
        Some(node)
    }

    /// Whether the value is `null`.
    pub fn is_null(self) -> bool {
        self.tag() == NULL
    }

    /// Whether the value is a boolean.
    pub fn is_boolean(self) -> bool {
        matches!(self.tag(), FALSE | TRUE)
    }

    /// Whether the value is a number.
    pub fn is_number(self) -> bool {
        matches!(self.tag(), POS | NEG | FLOAT)
    }

    /// Whether the value is a string.
    pub fn is_string(self) -> bool {
        self.tag() == STR
    }

    /// Whether the value is an array.
    pub fn is_array(self) -> bool {
        self.tag() == ARR
    }

    /// Whether the value is an object.
    pub fn is_object(self) -> bool {
        self.tag() == OBJ
    }

    /// The boolean, if the value is one.
    pub fn as_bool(self) -> Option<bool> {
        match self.tag() {
            FALSE => Some(false),
            TRUE => Some(true),
            _ => None,
        }
    }

    /// The string, if the value is one.
    pub fn as_str(self) -> Option<&'a str> {
        if self.tag() != STR {
            return None;
        }
        let (bytes, _) = prefixed(self.buf.get(1..)?)?;
        std::str::from_utf8(bytes).ok()
    }

    /// The number as `i64`, if it is an integer that fits.
    pub fn as_i64(self) -> Option<i64> {
        let (n, _) = varint(self.buf.get(1..)?)?;
        match self.tag() {
            POS => i64::try_from(n).ok(),
            NEG => Some(!(n as i64)),
            _ => None,
        }
    }

    /// The number as `u64`, if it is a non-negative integer.
    pub fn as_u64(self) -> Option<u64> {
        match self.tag() {
            POS => Some(varint(self.buf.get(1..)?)?.0),
            _ => None,
        }
    }

    /// The number as `f64`, if the value is a number.
    pub fn as_f64(self) -> Option<f64> {
        match self.tag() {
            POS => self.as_u64().map(|n| n as f64),
            NEG => self.as_i64().map(|n| n as f64),
            FLOAT => {
                let bytes: [u8; 8] = self.buf.get(1..9)?.try_into().ok()?;
                Some(f64::from_le_bytes(bytes))
            }
            _ => None,
        }
    }

    /// The array, if the value is one.
    pub fn as_array(self) -> Option<Array<'a>> {
        if self.tag() != ARR {
            return None;
        }
        let (count, items) = body(self.buf)?;
        Some(Array { count, items })
    }

    /// The object, if the value is one.
    pub fn as_object(self) -> Option<Object<'a>> {
        if self.tag() != OBJ {
            return None;
        }
        let (count, entries) = body(self.buf)?;
        Some(Object { count, entries })
    }

    /// The value as an owned `serde_json::Value`.
    pub fn to_value(self) -> Value {
        match self.tag() {
            FALSE => Value::Bool(false),
            TRUE => Value::Bool(true),
            POS => self.as_u64().map_or(Value::Null, Value::from),
            NEG => self.as_i64().map_or(Value::Null, Value::from),
            FLOAT => self
                .as_f64()
                .and_then(serde_json::Number::from_f64)
                .map_or(Value::Null, Value::Number),
            STR => self.as_str().map_or(Value::Null, Value::from),
            ARR => Value::Array(
                self.as_array()
                    .into_iter()
                    .flatten()
                    .map(Node::to_value)
                    .collect(),
            ),
            OBJ => Value::Object(
                self.as_object()
                    .into_iter()
                    .flatten()
                    .map(|(k, v)| (k.to_owned(), v.to_value()))
                    .collect(),
            ),
            _ => Value::Null,
        }
    }
}

impl fmt::Debug for Node<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Compact JSON text, as `Value`'s `Display`.
impl fmt::Display for Node<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.to_value(), f)
    }
}

impl PartialEq for Node<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.to_value() == other.to_value()
    }
}

impl PartialEq<Value> for Node<'_> {
    fn eq(&self, other: &Value) -> bool {
        self.to_value() == *other
    }
}

/// The items of an array [`Node`], as `&Vec<Value>` offers them.
#[derive(Clone, Copy, Default)]
pub struct Array<'a> {
    count: usize,
    items: &'a [u8],
}

impl<'a> Array<'a> {
    /// How many items.
    pub fn len(self) -> usize {
        self.count
    }

    /// Whether there are none.
    pub fn is_empty(self) -> bool {
        self.count == 0
    }

    /// The items in order.
    pub fn iter(self) -> Items<'a> {
        Items {
            left: self.count,
            rest: self.items,
        }
    }

    /// The item at `index`.
    pub fn get(self, index: usize) -> Option<Node<'a>> {
        self.iter().nth(index)
    }

    /// The first item.
    pub fn first(self) -> Option<Node<'a>> {
        self.iter().next()
    }

    /// The last item.
    pub fn last(self) -> Option<Node<'a>> {
        self.iter().last()
    }
}

impl fmt::Debug for Array<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<'a> IntoIterator for Array<'a> {
    type Item = Node<'a>;
    type IntoIter = Items<'a>;

    fn into_iter(self) -> Items<'a> {
        self.iter()
    }
}

/// Iterator over an [`Array`]'s items.
#[derive(Debug, Clone)]
pub struct Items<'a> {
    left: usize,
    rest: &'a [u8],
}

impl<'a> Iterator for Items<'a> {
    type Item = Node<'a>;

    fn next(&mut self) -> Option<Node<'a>> {
        if self.left == 0 {
            return None;
        }
        let len = extent(self.rest)?;
        let (item, rest) = self.rest.split_at_checked(len)?;
        self.rest = rest;
        self.left -= 1;
        Some(Node { buf: item })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl ExactSizeIterator for Items<'_> {}

/// The entries of an object [`Node`], as `&Map<String, Value>` offers them.
#[derive(Clone, Copy)]
pub struct Object<'a> {
    count: usize,
    entries: &'a [u8],
}

impl<'a> Object<'a> {
    /// How many entries.
    pub fn len(self) -> usize {
        self.count
    }

    /// Whether there are none.
    pub fn is_empty(self) -> bool {
        self.count == 0
    }

    /// The entries, key and value, in the document's order.
    pub fn iter(self) -> Entries<'a> {
        Entries {
            left: self.count,
            rest: self.entries,
        }
    }

    /// The value at `key`.
    pub fn get(self, key: &str) -> Option<Node<'a>> {
        let key = key.as_bytes();
        let mut rest = self.entries;
        for _ in 0..self.count {
            let (k, n) = prefixed(rest)?;
            let value = rest.get(n..)?;
            let len = extent(value)?;
            if k == key {
                return value.get(..len).map(|buf| Node { buf });
            }
            rest = value.get(len..)?;
        }
        None
    }

    /// Whether there is a value at `key`.
    pub fn contains_key(self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// The keys.
    pub fn keys(self) -> impl Iterator<Item = &'a str> {
        self.iter().map(|(k, _)| k)
    }

    /// The values.
    pub fn values(self) -> impl Iterator<Item = Node<'a>> {
        self.iter().map(|(_, v)| v)
    }
}

impl fmt::Debug for Object<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<'a> IntoIterator for Object<'a> {
    type Item = (&'a str, Node<'a>);
    type IntoIter = Entries<'a>;

    fn into_iter(self) -> Entries<'a> {
        self.iter()
    }
}

/// Iterator over an [`Object`]'s entries.
#[derive(Debug, Clone)]
pub struct Entries<'a> {
    left: usize,
    rest: &'a [u8],
}

impl<'a> Iterator for Entries<'a> {
    type Item = (&'a str, Node<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        let (key, n) = prefixed(self.rest)?;
        let value = self.rest.get(n..)?;
        let (item, rest) = value.split_at_checked(extent(value)?)?;
        self.rest = rest;
        self.left -= 1;
        Some((std::str::from_utf8(key).ok()?, Node { buf: item }))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl ExactSizeIterator for Entries<'_> {}

/// Helpers for tests that hand rules JSON written with `json!`.
#[cfg(test)]
pub(crate) mod testing {
    use super::{Doc, Node};

    /// A node of `value`'s document, which lives until the test ends.
    pub(crate) fn node(value: &serde_json::Value) -> Node<'static> {
        Box::leak(Box::new(Doc::from_value(value).unwrap())).root()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> Value {
        json!({
            "name": "web",
            "count": 3,
            "negative": -12,
            "big": u64::MAX,
            "min": i64::MIN,
            "ratio": 0.25,
            "on": true,
            "off": false,
            "nothing": null,
            "rules": [{"fromPort": 22, "cidr": "0.0.0.0/0"}, {"fromPort": 443}, [], {}],
            "nested": {"a": {"b": ["x", "y"]}, "a/b": 1, "t~": 2},
            "unicode": "naïve – ✓",
            "empty": ""
        })
    }

    #[test]
    fn round_trips_every_kind_of_value() {
        let value = sample();
        let doc = Doc::from_value(&value).unwrap();
        assert_eq!(doc.root().to_value(), value);
        let text = serde_json::to_string(&value).unwrap();
        assert_eq!(Doc::from_json(&text).unwrap(), doc);
        assert!(doc.encoded_len() < text.len());
    }

    #[test]
    fn reads_like_serde_json_value() {
        let value = sample();
        let doc = Doc::from_value(&value).unwrap();
        let root = doc.root();
        assert_eq!(root.get("name").and_then(Node::as_str), Some("web"));
        assert_eq!(root.get("count").and_then(Node::as_i64), Some(3));
        assert_eq!(root.get("count").and_then(Node::as_u64), Some(3));
        assert_eq!(root.get("negative").and_then(Node::as_i64), Some(-12));
        assert_eq!(root.get("negative").and_then(Node::as_u64), None);
        assert_eq!(root.get("big").and_then(Node::as_u64), Some(u64::MAX));
        assert_eq!(root.get("big").and_then(Node::as_i64), None);
        assert_eq!(root.get("min").and_then(Node::as_i64), Some(i64::MIN));
        assert_eq!(root.get("ratio").and_then(Node::as_f64), Some(0.25));
        assert_eq!(root.get("ratio").and_then(Node::as_i64), None);
        assert_eq!(root.get("on").and_then(Node::as_bool), Some(true));
        assert_eq!(root.get("off").and_then(Node::as_bool), Some(false));
        assert!(root.get("nothing").is_some_and(Node::is_null));
        assert!(root.get("missing").is_none());
        assert!(root.get("name").and_then(|n| n.get("x")).is_none());
        let rules = root.get("rules").and_then(Node::as_array).unwrap();
        assert_eq!(rules.len(), 4);
        assert_eq!(rules.iter().len(), 4);
        assert_eq!(
            rules
                .first()
                .and_then(|r| r.get("cidr"))
                .and_then(Node::as_str),
            Some("0.0.0.0/0")
        );
        assert_eq!(
            rules
                .get(1)
                .and_then(|r| r.get("fromPort"))
                .and_then(Node::as_i64),
            Some(443)
        );
        assert!(rules.get(4).is_none());
        assert_eq!(root.get("rules").and_then(|r| r.get(1)), rules.get(1));
        assert_eq!(
            root.pointer("/nested/a/b/1").and_then(Node::as_str),
            Some("y")
        );
        assert_eq!(root.pointer("/nested/a~1b").and_then(Node::as_i64), Some(1));
        assert_eq!(root.pointer("/nested/t~0").and_then(Node::as_i64), Some(2));
        assert_eq!(root.pointer(""), Some(root));
        assert!(root.pointer("nested").is_none());
        let nested = root.get("nested").and_then(Node::as_object).unwrap();
        assert_eq!(nested.keys().collect::<Vec<_>>(), ["a", "a/b", "t~"]);
        assert!(nested.contains_key("a"));
        assert!(!nested.contains_key("b"));
        assert_eq!(
            root.get("unicode").and_then(Node::as_str),
            Some("naïve – ✓")
        );
        assert_eq!(root.get("empty").and_then(Node::as_str), Some(""));
        assert!(matches!(root.get("rules").map(Node::kind), Some(Kind::Array(a)) if a.len() == 4));
        assert!(matches!(
            root.get("name").map(Node::kind),
            Some(Kind::String("web"))
        ));
        assert_eq!(root.get("count").unwrap(), json!(3));
        assert_eq!(
            format!("{}", root.get("nested").unwrap()),
            r#"{"a":{"b":["x","y"]},"a/b":1,"t~":2}"#
        );
    }

    /// A small deterministic generator of JSON values (xorshift).
    struct Gen(u64);

    impl Gen {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }

        fn string(&mut self) -> String {
            const PIECES: [&str; 10] = ["a", "Z", "0", "_", " ", "\"", "\\", "\n", "é", "✓"];
            (0..self.below(12))
                .map(|_| PIECES[self.below(PIECES.len() as u64) as usize])
                .collect()
        }

        fn value(&mut self, depth: u32) -> Value {
            let leaf = depth == 0 || self.below(4) == 0;
            // Containers two times in three where one may be.
            let kind = if !leaf && self.below(3) != 0 {
                7 + self.below(2)
            } else {
                self.below(7)
            };
            match kind {
                0 => Value::Null,
                1 => Value::Bool(self.below(2) == 0),
                2 => json!(self.next()),
                3 => json!(-((self.next() >> 1) as i64) - 1),
                4 => json!((self.next() % 100_000) as f64 / 64.0 + 0.5),
                5 => [json!(i64::MIN), json!(i64::MAX), json!(u64::MAX), json!(0)]
                    [self.below(4) as usize]
                    .clone(),
                6 => Value::String(self.string()),
                7 => Value::Array((0..self.below(6)).map(|_| self.value(depth - 1)).collect()),
                _ => Value::Object(
                    (0..self.below(6))
                        .map(|_| (self.string(), self.value(depth - 1)))
                        .collect(),
                ),
            }
        }
    }

    /// Every read of `node` agrees with the same read of `value`.
    fn agrees(node: Node<'_>, value: &Value) {
        assert_eq!(node.to_value(), *value);
        assert_eq!(node.is_null(), value.is_null());
        assert_eq!(node.as_bool(), value.as_bool());
        assert_eq!(node.as_str(), value.as_str());
        assert_eq!(node.as_i64(), value.as_i64());
        assert_eq!(node.as_u64(), value.as_u64());
        assert_eq!(node.as_f64(), value.as_f64());
        match value {
            Value::Array(items) => {
                let array = node.as_array().unwrap();
                assert_eq!(array.len(), items.len());
                for (i, item) in items.iter().enumerate() {
                    agrees(node.get(i).unwrap(), item);
                }
                assert!(node.get(items.len()).is_none());
            }
            Value::Object(map) => {
                assert_eq!(node.as_object().unwrap().len(), map.len());
                for (key, item) in map {
                    agrees(node.get(key.as_str()).unwrap(), item);
                }
                assert!(node.get("\u{0}absent").is_none());
            }
            _ => assert!(node.as_array().is_none() && node.as_object().is_none()),
        }
    }

    #[test]
    fn random_documents_read_like_their_values() {
        let mut random = Gen(0x9E37_79B9_7F4A_7C15);
        let (mut containers, mut bytes) = (0, 0);
        for _ in 0..2_000 {
            let value = random.value(4);
            let doc = Doc::from_value(&value).unwrap();
            agrees(doc.root(), &value);
            let text = serde_json::to_string(&value).unwrap();
            assert_eq!(Doc::from_json(&text).unwrap(), doc, "{text}");
            containers += usize::from(value.is_array() || value.is_object());
            bytes += text.len();
        }
        // The generator makes nested documents, not only scalars.
        assert!(containers > 500 && bytes > 50_000, "{containers} {bytes}");
    }

    #[test]
    fn json_text_keeps_its_key_order_and_rejects_bad_input() {
        let doc = Doc::from_json(r#"{"b": 1, "a": [1.5, -2, "s", null]}"#).unwrap();
        let keys: Vec<_> = doc.root().as_object().unwrap().keys().collect();
        assert_eq!(keys, ["b", "a"]);
        assert_eq!(
            doc.root().to_value(),
            json!({"a": [1.5, -2, "s", null], "b": 1})
        );
        assert!(matches!(Doc::from_json("{"), Err(DocError::Json(_))));
        assert!(matches!(Doc::from_json("{} x"), Err(DocError::Json(_))));
        assert!(Doc::null().root().is_null());
    }
}

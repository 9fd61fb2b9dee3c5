//! A Sigma detection evaluator for the subset Rampart's rules use.
//!
//! Supported: named selections that are a map (every field must match) or a
//! list of maps (any map); a field's list of values (any value, or every
//! value with `|all`); plain values with Sigma's `*` and `?` wildcards,
//! matched case-insensitively; the modifiers `contains`, `startswith`,
//! `endswith`, `all`, `re` (case-sensitive; `(?i)` inside for
//! insensitive), `cased`, `exists`, `cidr`, `gt`, `gte`, `lt`, `lte`,
//! `fieldref` (equal to a value of the named field); `null`
//! for an absent field; and conditions with `and`, `or`, `not`,
//! parentheses, `1 of`/`any of`/`all of` a name, a `name*` pattern or
//! `them`. Keyword (unnamed) searches, correlations and other modifiers
//! are refused when the rule loads, never ignored.
//!
//! Field names go through a [`FieldMap`] (Sigma's field names for a log
//! source → paths into the event); a field may map to several paths, and
//! every path enters arrays, so a field matches when any member matches.

use std::net::IpAddr;

use regex_lite::Regex;
use serde_json::Value;
use serde_yaml_ng::Value as Yaml;

use crate::DetectError;
use crate::path::FieldPath;

/// Sigma field names → paths in the event body, for one log source.
pub trait FieldMap {
    /// The paths `field` stands for, or `None` when the field is a path
    /// itself.
    fn paths(&self, field: &str) -> Option<Vec<String>>;
}

/// A compiled `detection` block.
#[derive(Debug)]
pub struct Detection {
    selections: Vec<Selection>,
    condition: Cond,
}

impl Detection {
    /// Compiles a rule's `detection` mapping for `rule` (the rule's id, for
    /// errors).
    pub fn compile(
        rule: &str,
        detection: &Yaml,
        fields: &dyn FieldMap,
    ) -> Result<Self, DetectError> {
        let bad = |reason: String| DetectError::Rule {
            rule: rule.to_owned(),
            reason,
        };
        let Yaml::Mapping(map) = detection else {
            return Err(bad("`detection` is not a mapping".to_owned()));
        };
        let mut names = Vec::new();
        let mut selections = Vec::new();
        let mut condition = None;
        for (key, value) in map {
            let Some(key) = key.as_str() else {
                return Err(bad("a `detection` key is not a string".to_owned()));
            };
            match key {
                "condition" => {
                    condition = Some(
                        value
                            .as_str()
                            .ok_or_else(|| bad("`condition` must be one string".to_owned()))?,
                    );
                }
                "timeframe" => {
                    return Err(bad(
                        "`timeframe` is not supported: use a threshold rule".to_owned()
                    ));
                }
                name => {
                    let selection = Selection::compile(value, fields)
                        .map_err(|reason| bad(format!("selection `{name}`: {reason}")))?;
                    names.push(name.to_owned());
                    selections.push(selection);
                }
            }
        }
        let text = condition.ok_or_else(|| bad("no `condition`".to_owned()))?;
        let condition = parse_condition(text, &names)
            .map_err(|reason| bad(format!("condition `{text}`: {reason}")))?;
        Ok(Self {
            selections,
            condition,
        })
    }

    /// Whether `body` matches.
    pub fn matches(&self, body: &Value) -> bool {
        self.condition.eval(&self.selections, body)
    }

    /// The values (lower case) one of which the field at `path` must equal
    /// for the detection to match, when the condition makes that plain
    /// (a selection required by the condition tests `path` for equality
    /// in every one of its maps). Lets the engine skip a rule by one
    /// comparison; `None` when it cannot tell.
    pub fn required_values(&self, path: &str) -> Option<Vec<String>> {
        self.condition.required(&self.selections, path)
    }
}

#[derive(Debug)]
struct Selection {
    /// Any of these maps; each map: every test.
    any_of: Vec<Vec<FieldTest>>,
}

impl Selection {
    fn compile(value: &Yaml, fields: &dyn FieldMap) -> Result<Self, String> {
        let maps: Vec<&Yaml> = match value {
            Yaml::Mapping(_) => vec![value],
            Yaml::Sequence(items) if items.iter().all(|i| matches!(i, Yaml::Mapping(_))) => {
                items.iter().collect()
            }
            _ => {
                return Err(
                    "keyword searches are not supported: use `field: value` maps".to_owned(),
                );
            }
        };
        let mut any_of = Vec::new();
        for map in maps {
            let Yaml::Mapping(map) = map else { continue };
            let mut tests = Vec::new();
            for (key, values) in map {
                let key = key.as_str().ok_or("a field name is not a string")?;
                tests.push(FieldTest::compile(key, values, fields)?);
            }
            any_of.push(tests);
        }
        Ok(Self { any_of })
    }

    fn matches(&self, body: &Value) -> bool {
        self.any_of
            .iter()
            .any(|tests| tests.iter().all(|t| t.matches(body)))
    }

    fn required(&self, path: &str) -> Option<Vec<String>> {
        let mut all = Vec::new();
        for tests in &self.any_of {
            let values = tests.iter().find_map(|t| t.exact_values(path))?;
            all.extend(values);
        }
        Some(all)
    }
}

#[derive(Debug)]
struct FieldTest {
    paths: Vec<FieldPath>,
    test: Test,
}

#[derive(Debug)]
enum Test {
    Exists(bool),
    /// `fieldref`: equal (ignoring ASCII case) to a value of another field.
    FieldRef(Vec<FieldPath>),
    Values {
        all: bool,
        patterns: Vec<Pattern>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StrMod {
    Plain,
    Contains,
    StartsWith,
    EndsWith,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmp {
    Gt,
    Gte,
    Lt,
    Lte,
}

impl FieldTest {
    fn compile(key: &str, values: &Yaml, fields: &dyn FieldMap) -> Result<Self, String> {
        let mut parts = key.split('|');
        let field = parts.next().unwrap_or_default();
        let mut str_mod = StrMod::Plain;
        let (mut all, mut re, mut cased, mut exists, mut cidr, mut fieldref) =
            (false, false, false, false, false, false);
        let mut cmp = None;
        for modifier in parts {
            match modifier {
                "contains" => str_mod = StrMod::Contains,
                "startswith" => str_mod = StrMod::StartsWith,
                "endswith" => str_mod = StrMod::EndsWith,
                "all" => all = true,
                "re" => re = true,
                "cased" => cased = true,
                "exists" => exists = true,
                "cidr" => cidr = true,
                "fieldref" => fieldref = true,
                "gt" => cmp = Some(Cmp::Gt),
                "gte" => cmp = Some(Cmp::Gte),
                "lt" => cmp = Some(Cmp::Lt),
                "lte" => cmp = Some(Cmp::Lte),
                other => return Err(format!("modifier `{other}` is not supported")),
            }
        }
        let paths = fields
            .paths(field)
            .unwrap_or_else(|| vec![field.to_owned()])
            .iter()
            .map(|p| FieldPath::parse(p).map_err(|e| e.to_string()))
            .collect::<Result<Vec<_>, _>>()?;
        let items: Vec<&Yaml> = match values {
            Yaml::Sequence(items) => items.iter().collect(),
            single => vec![single],
        };
        if items.is_empty() {
            return Err(format!("field `{key}` has an empty list of values"));
        }
        if exists {
            let [Yaml::Bool(want)] = items.as_slice() else {
                return Err(format!("`{key}` takes `true` or `false`"));
            };
            return Ok(Self {
                paths,
                test: Test::Exists(*want),
            });
        }
        if fieldref {
            if str_mod != StrMod::Plain || all || re || cidr || cmp.is_some() {
                return Err(format!("`{key}`: `fieldref` takes no other modifier"));
            }
            let mut others = Vec::new();
            for item in items {
                let name = item
                    .as_str()
                    .ok_or_else(|| format!("`{key}`: `fieldref` names a field"))?;
                for path in fields.paths(name).unwrap_or_else(|| vec![name.to_owned()]) {
                    others.push(FieldPath::parse(&path).map_err(|e| e.to_string())?);
                }
            }
            return Ok(Self {
                paths,
                test: Test::FieldRef(others),
            });
        }
        let patterns = items
            .into_iter()
            .map(|item| {
                if re {
                    let text = item
                        .as_str()
                        .ok_or_else(|| format!("`{key}`: a regex must be a string"))?;
                    return Regex::new(text)
                        .map(Pattern::Regex)
                        .map_err(|e| format!("`{key}`: regex `{text}`: {e}"));
                }
                if cidr {
                    let text = item
                        .as_str()
                        .ok_or_else(|| format!("`{key}`: a cidr must be a string"))?;
                    return Cidr::parse(text)
                        .map(Pattern::Cidr)
                        .ok_or_else(|| format!("`{key}`: `{text}` is not a CIDR block"));
                }
                if let Some(op) = cmp {
                    let n = yaml_number(item)
                        .ok_or_else(|| format!("`{key}`: a comparison takes a number"))?;
                    return Ok(Pattern::Cmp(op, n));
                }
                match item {
                    Yaml::Null => Ok(Pattern::Null),
                    Yaml::Bool(b) if str_mod == StrMod::Plain => Ok(Pattern::Bool(*b)),
                    Yaml::Number(_) if str_mod == StrMod::Plain => {
                        Ok(Pattern::Num(yaml_number(item).unwrap_or_default()))
                    }
                    Yaml::String(s) => Ok(Pattern::Str(StrPattern::compile(s, str_mod, cased))),
                    Yaml::Bool(b) => Ok(Pattern::Str(StrPattern::compile(
                        &b.to_string(),
                        str_mod,
                        cased,
                    ))),
                    Yaml::Number(n) => Ok(Pattern::Str(StrPattern::compile(
                        &n.to_string(),
                        str_mod,
                        cased,
                    ))),
                    _ => Err(format!("`{key}`: values must be scalars")),
                }
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(Self {
            paths,
            test: Test::Values { all, patterns },
        })
    }

    /// The lower-case values this test requires `path` to equal, if it is
    /// a plain equality test on that one path.
    fn exact_values(&self, path: &str) -> Option<Vec<String>> {
        let [only] = self.paths.as_slice() else {
            return None;
        };
        let Test::Values {
            all: false,
            patterns,
        } = &self.test
        else {
            return None;
        };
        if only.as_str() != path {
            return None;
        }
        patterns
            .iter()
            .map(|p| match p {
                Pattern::Str(StrPattern {
                    kind: StrKind::Exact(text),
                    cased: false,
                }) => Some(text.clone()),
                _ => None,
            })
            .collect()
    }

    fn reached(&self, body: &Value, pattern: &Pattern) -> bool {
        self.paths
            .iter()
            .any(|p| p.any(body, &mut |v| pattern.matches(v)))
    }

    fn present(&self, body: &Value) -> bool {
        self.paths
            .iter()
            .any(|p| p.any(body, &mut |v| !v.is_null()))
    }

    fn matches(&self, body: &Value) -> bool {
        match &self.test {
            Test::Exists(want) => self.present(body) == *want,
            Test::FieldRef(others) => {
                let text = |v: &Value| match v {
                    Value::String(s) => Some(s.clone()),
                    Value::Number(_) | Value::Bool(_) => Some(v.to_string()),
                    _ => None,
                };
                let theirs: Vec<String> = others
                    .iter()
                    .flat_map(|p| p.values(body))
                    .filter_map(text)
                    .collect();
                self.paths.iter().any(|p| {
                    p.any(body, &mut |v| {
                        text(v).is_some_and(|mine| {
                            theirs.iter().any(|t| t.eq_ignore_ascii_case(&mine))
                        })
                    })
                })
            }
            Test::Values {
                all: false,
                patterns,
            } => {
                let hit = self
                    .paths
                    .iter()
                    .any(|p| p.any(body, &mut |v| patterns.iter().any(|pat| pat.matches(v))));
                hit || (patterns.iter().any(|p| matches!(p, Pattern::Null)) && !self.present(body))
            }
            Test::Values {
                all: true,
                patterns,
            } => patterns.iter().all(|pattern| match pattern {
                Pattern::Null => !self.present(body),
                _ => self.reached(body, pattern),
            }),
        }
    }
}

fn yaml_number(value: &Yaml) -> Option<f64> {
    match value {
        Yaml::Number(n) => n.as_f64(),
        Yaml::String(s) => s.parse().ok(),
        _ => None,
    }
}

#[derive(Debug)]
enum Pattern {
    Null,
    Bool(bool),
    Num(f64),
    Str(StrPattern),
    Regex(Regex),
    Cidr(Cidr),
    Cmp(Cmp, f64),
}

impl Pattern {
    fn matches(&self, value: &Value) -> bool {
        match (self, value) {
            (Self::Null, v) => v.is_null(),
            (_, Value::Null | Value::Array(_) | Value::Object(_)) => false,
            (Self::Bool(b), Value::Bool(v)) => b == v,
            (Self::Bool(b), Value::String(s)) => {
                s.eq_ignore_ascii_case(if *b { "true" } else { "false" })
            }
            (Self::Bool(_), _) => false,
            (Self::Num(n), v) => number(v).is_some_and(|v| v == *n),
            (Self::Cmp(op, n), v) => number(v).is_some_and(|v| match op {
                Cmp::Gt => v > *n,
                Cmp::Gte => v >= *n,
                Cmp::Lt => v < *n,
                Cmp::Lte => v <= *n,
            }),
            (Self::Str(p), Value::String(s)) => p.matches(s),
            (Self::Str(p), v) => p.matches(&v.to_string()),
            (Self::Regex(r), Value::String(s)) => r.is_match(s),
            (Self::Regex(r), v) => r.is_match(&v.to_string()),
            (Self::Cidr(c), Value::String(s)) => c.contains(s),
            (Self::Cidr(_), _) => false,
        }
    }
}

fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

#[derive(Debug)]
struct Cidr {
    net: IpAddr,
    bits: u32,
}

impl Cidr {
    fn parse(text: &str) -> Option<Self> {
        let (addr, bits) = text.split_once('/')?;
        let net: IpAddr = addr.parse().ok()?;
        let bits: u32 = bits.parse().ok()?;
        let max = if net.is_ipv4() { 32 } else { 128 };
        (bits <= max).then_some(Self { net, bits })
    }

    fn contains(&self, text: &str) -> bool {
        let Ok(addr) = text.parse::<IpAddr>() else {
            return false;
        };
        match (self.net, addr) {
            (IpAddr::V4(net), IpAddr::V4(a)) => {
                let mask = u32::MAX.checked_shl(32 - self.bits).unwrap_or(0);
                u32::from(net) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(a)) => {
                let mask = u128::MAX.checked_shl(128 - self.bits).unwrap_or(0);
                u128::from(net) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Lit(String),
    Star,
    One,
}

#[derive(Debug)]
enum StrKind {
    Any,
    Exact(String),
    Prefix(String),
    Suffix(String),
    Contains(String),
    Glob(Vec<Tok>),
}

#[derive(Debug)]
struct StrPattern {
    kind: StrKind,
    cased: bool,
}

impl StrPattern {
    fn compile(text: &str, modifier: StrMod, cased: bool) -> Self {
        let mut toks = Vec::new();
        if matches!(modifier, StrMod::Contains | StrMod::EndsWith) {
            toks.push(Tok::Star);
        }
        let mut lit = String::new();
        let mut chars = text.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some(next @ ('*' | '?' | '\\')) => lit.push(next),
                    Some(next) => {
                        lit.push('\\');
                        lit.push(next);
                    }
                    None => lit.push('\\'),
                },
                '*' | '?' => {
                    if !lit.is_empty() {
                        toks.push(Tok::Lit(std::mem::take(&mut lit)));
                    }
                    toks.push(if c == '*' { Tok::Star } else { Tok::One });
                }
                c => lit.push(c),
            }
        }
        if !lit.is_empty() {
            toks.push(Tok::Lit(lit));
        }
        if matches!(modifier, StrMod::Contains | StrMod::StartsWith) {
            toks.push(Tok::Star);
        }
        toks.dedup_by(|a, b| *a == Tok::Star && *b == Tok::Star);
        let fold = |s: &String| if cased { s.clone() } else { s.to_lowercase() };
        let kind = match toks.as_slice() {
            [] => StrKind::Exact(String::new()),
            [Tok::Star] => StrKind::Any,
            [Tok::Lit(s)] => StrKind::Exact(fold(s)),
            [Tok::Lit(s), Tok::Star] => StrKind::Prefix(fold(s)),
            [Tok::Star, Tok::Lit(s)] => StrKind::Suffix(fold(s)),
            [Tok::Star, Tok::Lit(s), Tok::Star] => StrKind::Contains(fold(s)),
            _ => StrKind::Glob(
                toks.iter()
                    .map(|t| match t {
                        Tok::Lit(s) => Tok::Lit(fold(s)),
                        other => other.clone(),
                    })
                    .collect(),
            ),
        };
        Self { kind, cased }
    }

    fn matches(&self, hay: &str) -> bool {
        let eq = |a: &[u8], b: &[u8]| {
            if self.cased {
                a == b
            } else {
                a.eq_ignore_ascii_case(b)
            }
        };
        let h = hay.as_bytes();
        match &self.kind {
            StrKind::Any => true,
            StrKind::Exact(p) => eq(h, p.as_bytes()),
            StrKind::Prefix(p) => h.get(..p.len()).is_some_and(|head| eq(head, p.as_bytes())),
            StrKind::Suffix(p) => h
                .len()
                .checked_sub(p.len())
                .and_then(|start| h.get(start..))
                .is_some_and(|tail| eq(tail, p.as_bytes())),
            StrKind::Contains(p) => find(h, p.as_bytes(), self.cased).is_some(),
            StrKind::Glob(toks) => glob(h, toks, self.cased),
        }
    }
}

/// The first position of `needle` in `hay`.
fn find(hay: &[u8], needle: &[u8], cased: bool) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    let first = *needle.first()?;
    let last_start = hay.len().checked_sub(needle.len())?;
    (0..=last_start).find(|&i| {
        hay.get(i).is_some_and(|b| {
            if cased {
                *b == first
            } else {
                b.eq_ignore_ascii_case(&first)
            }
        }) && hay.get(i..i + needle.len()).is_some_and(|w| {
            if cased {
                w == needle
            } else {
                w.eq_ignore_ascii_case(needle)
            }
        })
    })
}

/// Glob matching over bytes: `*` any run, `?` one byte.
fn glob(hay: &[u8], toks: &[Tok], cased: bool) -> bool {
    match toks.split_first() {
        None => hay.is_empty(),
        Some((Tok::Star, rest)) => {
            (0..=hay.len()).any(|i| hay.get(i..).is_some_and(|h| glob(h, rest, cased)))
        }
        Some((Tok::One, rest)) => hay.get(1..).is_some_and(|h| glob(h, rest, cased)),
        Some((Tok::Lit(lit), rest)) => {
            let l = lit.as_bytes();
            hay.get(..l.len()).is_some_and(|head| {
                if cased {
                    head == l
                } else {
                    head.eq_ignore_ascii_case(l)
                }
            }) && hay.get(l.len()..).is_some_and(|h| glob(h, rest, cased))
        }
    }
}

#[derive(Debug)]
enum Cond {
    Sel(usize),
    And(Vec<Cond>),
    Or(Vec<Cond>),
    Not(Box<Cond>),
}

impl Cond {
    fn required(&self, selections: &[Selection], path: &str) -> Option<Vec<String>> {
        match self {
            Self::Sel(i) => selections.get(*i)?.required(path),
            Self::And(items) => items.iter().find_map(|c| c.required(selections, path)),
            Self::Or(items) => {
                let mut all = Vec::new();
                for item in items {
                    all.extend(item.required(selections, path)?);
                }
                Some(all)
            }
            Self::Not(_) => None,
        }
    }

    fn eval(&self, selections: &[Selection], body: &Value) -> bool {
        match self {
            Self::Sel(i) => selections.get(*i).is_some_and(|s| s.matches(body)),
            Self::And(items) => items.iter().all(|c| c.eval(selections, body)),
            Self::Or(items) => items.iter().any(|c| c.eval(selections, body)),
            Self::Not(inner) => !inner.eval(selections, body),
        }
    }
}

fn parse_condition(text: &str, names: &[String]) -> Result<Cond, String> {
    let spaced = text.replace('(', " ( ").replace(')', " ) ");
    let toks: Vec<&str> = spaced.split_whitespace().collect();
    let mut parser = CondParser { toks, at: 0, names };
    let cond = parser.or()?;
    match parser.peek() {
        None => Ok(cond),
        Some(tok) => Err(format!("unexpected `{tok}`")),
    }
}

struct CondParser<'a> {
    toks: Vec<&'a str>,
    at: usize,
    names: &'a [String],
}

impl<'a> CondParser<'a> {
    fn peek(&self) -> Option<&str> {
        self.toks.get(self.at).copied()
    }

    fn next(&mut self) -> Option<&'a str> {
        let tok = self.toks.get(self.at).copied();
        self.at += 1;
        tok
    }

    fn or(&mut self) -> Result<Cond, String> {
        let mut items = vec![self.and()?];
        while self.peek() == Some("or") {
            self.at += 1;
            items.push(self.and()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Cond::Or(items)
        })
    }

    fn and(&mut self) -> Result<Cond, String> {
        let mut items = vec![self.not()?];
        while self.peek() == Some("and") {
            self.at += 1;
            items.push(self.not()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Cond::And(items)
        })
    }

    fn not(&mut self) -> Result<Cond, String> {
        if self.peek() == Some("not") {
            self.at += 1;
            return Ok(Cond::Not(Box::new(self.not()?)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Cond, String> {
        let names = self.names;
        match self.next() {
            None => Err("ends too early".to_owned()),
            Some("(") => {
                let inner = self.or()?;
                match self.next() {
                    Some(")") => Ok(inner),
                    _ => Err("missing `)`".to_owned()),
                }
            }
            Some(quant @ ("1" | "any" | "all")) => {
                let all = quant == "all";
                if self.next() != Some("of") {
                    return Err(format!("expected `of` after `{quant}`"));
                }
                let target = self.next().ok_or("expected a name after `of`")?;
                let picked: Vec<Cond> = names
                    .iter()
                    .enumerate()
                    .filter(|(_, name)| match target {
                        "them" => !name.starts_with('_'),
                        pattern => match pattern.strip_suffix('*') {
                            Some(prefix) => name.starts_with(prefix),
                            None => name.as_str() == pattern,
                        },
                    })
                    .map(|(i, _)| Cond::Sel(i))
                    .collect();
                if picked.is_empty() {
                    return Err(format!("`{target}` names no selection"));
                }
                Ok(if all {
                    Cond::And(picked)
                } else {
                    Cond::Or(picked)
                })
            }
            Some(tok @ (")" | "and" | "or" | "of")) => Err(format!("unexpected `{tok}`")),
            Some(name) => names
                .iter()
                .position(|n| n == name)
                .map(Cond::Sel)
                .ok_or_else(|| format!("`{name}` names no selection")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    struct NoMap;
    impl FieldMap for NoMap {
        fn paths(&self, field: &str) -> Option<Vec<String>> {
            (field == "image").then(|| {
                vec![
                    "spec.containers[].image".to_owned(),
                    "spec.initContainers[].image".to_owned(),
                ]
            })
        }
    }

    fn detection(yaml: &str) -> Detection {
        let value: Yaml = serde_yaml_ng::from_str(yaml).unwrap_or(Yaml::Null);
        match Detection::compile("test", &value, &NoMap) {
            Ok(d) => d,
            Err(e) => unreachable!("{e}"),
        }
    }

    #[test]
    fn modifiers_wildcards_and_case() {
        let body = json!({"verb": "Create", "userAgent": "kube-hunter/1.0 (linux)",
            "spec": {"containers": [{"image": "docker.io/library/nginx:1"}],
                     "initContainers": [{"image": "xmrig/xmrig:latest"}]},
            "sourceIPs": ["10.1.2.3"], "code": 201});
        assert!(detection("s: {verb: create}\ncondition: s").matches(&body));
        assert!(!detection("s: {verb|cased: create}\ncondition: s").matches(&body));
        assert!(detection("s: {userAgent|startswith: KUBE-hunter}\ncondition: s").matches(&body));
        assert!(
            detection("s: {userAgent|contains: [nope, '(linux)']}\ncondition: s").matches(&body)
        );
        assert!(
            !detection("s: {userAgent|contains|all: [nope, linux]}\ncondition: s").matches(&body)
        );
        assert!(detection("s: {userAgent: 'kube-*/1.?*'}\ncondition: s").matches(&body));
        assert!(
            detection("s: {image|contains: xmrig}\ncondition: s").matches(&body),
            "any member, any mapped path"
        );
        assert!(
            detection("s: {image|endswith|all: [':1', ':latest']}\ncondition: s").matches(&body)
        );
        assert!(detection("s: {userAgent|re: '^kube-h.*\\d'}\ncondition: s").matches(&body));
        assert!(detection("s: {sourceIPs|cidr: 10.0.0.0/8}\ncondition: s").matches(&body));
        assert!(!detection("s: {sourceIPs|cidr: 192.168.0.0/16}\ncondition: s").matches(&body));
        assert!(detection("s: {code|gte: 200, code|lt: 300}\ncondition: s").matches(&body));
        assert!(detection("s: {code: 201}\ncondition: s").matches(&body));
        assert!(detection("s: {objectRef.namespace: null}\ncondition: s").matches(&body));
        assert!(
            detection("s: {verb|exists: true, nothing|exists: false}\ncondition: s").matches(&body)
        );
    }

    #[test]
    fn fieldref_compares_two_fields() {
        let own = json!({"userIdentity": {"userName": "Alice"}, "requestParameters": {"userName": "alice"}});
        let other = json!({"userIdentity": {"userName": "mallory"}, "requestParameters": {"userName": "alice"}});
        let role = json!({"userIdentity": {"type": "AssumedRole"}, "requestParameters": {"userName": "alice"}});
        let same = detection(
            "s: {requestParameters.userName|fieldref: userIdentity.userName}\ncondition: s",
        );
        assert!(same.matches(&own));
        assert!(!same.matches(&other));
        assert!(!same.matches(&role), "an absent field equals nothing");
        let value: Yaml = serde_yaml_ng::from_str("s: {a|fieldref|contains: b}\ncondition: s")
            .unwrap_or(Yaml::Null);
        assert!(Detection::compile("test", &value, &NoMap).is_err());
    }

    #[test]
    fn conditions() {
        let body = json!({"a": "1", "b": "2"});
        let sel = detection(
            "s1: {verb: [Create, get]}\ns2: [{verb: list, x: 1}, {verb: watch}]\nf: {y: 1}\ncondition: (s1 or s2) and not f",
        );
        assert_eq!(
            sel.required_values("verb"),
            Some(vec![
                "create".to_owned(),
                "get".to_owned(),
                "list".to_owned(),
                "watch".to_owned()
            ])
        );
        assert_eq!(sel.required_values("x"), None);
        assert_eq!(
            detection("s: {verb|contains: c}\ncondition: s").required_values("verb"),
            None
        );
        assert_eq!(
            detection("s: {verb: c}\ncondition: not s").required_values("verb"),
            None
        );
        let d = |cond: &str| {
            detection(&format!(
                "sel_a: {{a: '1'}}\nsel_b: {{b: '2'}}\nfilter_x: {{a: 'x'}}\ncondition: {cond}"
            ))
            .matches(&body)
        };
        assert!(d("sel_a and sel_b"));
        assert!(d("all of sel_*"));
        assert!(d("1 of filter_* or sel_a"));
        assert!(!d("all of them"));
        assert!(d("sel_a and not 1 of filter_*"));
        assert!(!d("not (sel_a or filter_x)"));
        assert!(d("(sel_a and (sel_b)) and not filter_x"));
        let value: Yaml =
            serde_yaml_ng::from_str("s: {a: 1}\ncondition: s and").unwrap_or(Yaml::Null);
        assert!(Detection::compile("t", &value, &NoMap).is_err());
        let value: Yaml =
            serde_yaml_ng::from_str("s: {a|base64: 1}\ncondition: s").unwrap_or(Yaml::Null);
        assert!(
            Detection::compile("t", &value, &NoMap).is_err(),
            "unknown modifiers are refused"
        );
        let value: Yaml =
            serde_yaml_ng::from_str("s: [foo, bar]\ncondition: s").unwrap_or(Yaml::Null);
        assert!(
            Detection::compile("t", &value, &NoMap).is_err(),
            "keywords are refused"
        );
    }

    #[test]
    fn list_of_maps_is_or() {
        let d = detection("s:\n  - {a: '1', b: 'no'}\n  - {b: '2'}\ncondition: s");
        assert!(d.matches(&json!({"a": "1", "b": "2"})));
        assert!(!d.matches(&json!({"a": "1", "b": "3"})));
    }
}

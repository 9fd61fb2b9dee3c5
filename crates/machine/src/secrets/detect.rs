//! Recognising secrets in one file's text. Every secret is fingerprinted
//! where it lies (a slice of the zeroizing file buffer) or, when it must be
//! transformed first (unquoted, unescaped), in a zeroizing buffer.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::sync::LazyLock;

use base64::Engine as _;
use regex_lite::Regex;
use serde_json::Value;
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, Zeroizing};

use super::FileClass;
use super::rules::{Matcher, RULES};

/// A file's bytes, wiped when dropped; `Debug` never shows them.
pub(crate) struct Content {
    bytes: Zeroizing<Vec<u8>>,
    lossy: Option<Zeroizing<String>>,
    binary: bool,
}

impl std::fmt::Debug for Content {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Content(<{} bytes redacted>)", self.bytes.len())
    }
}

impl Content {
    pub(crate) fn new(bytes: Vec<u8>) -> Self {
        let bytes = Zeroizing::new(bytes);
        let head = bytes.get(..8192).unwrap_or(&bytes);
        let binary = head.contains(&0);
        let lossy = (!binary && std::str::from_utf8(&bytes).is_err())
            .then(|| Zeroizing::new(String::from_utf8_lossy(&bytes).into_owned()));
        Self {
            bytes,
            lossy,
            binary,
        }
    }

    /// The raw bytes.
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The text, or `None` for a binary file.
    pub(crate) fn text(&self) -> Option<&str> {
        if self.binary {
            return None;
        }
        match &self.lossy {
            Some(text) => Some(text.as_str()),
            None => std::str::from_utf8(&self.bytes).ok(),
        }
    }
}

/// `sha256:<hex>` of a secret value.
pub(crate) fn fingerprint(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256:");
    for byte in digest.iter() {
        let _ = write!(out, "{byte:02x}");
    }
    out
}

/// The line-pattern rules, compiled once (index-aligned with [`RULES`];
/// `None` for parser rules).
static PATTERNS: LazyLock<Vec<Option<Regex>>> = LazyLock::new(|| {
    RULES
        .iter()
        .map(|rule| match rule.matcher {
            Matcher::Pattern(p) => Regex::new(p).ok(),
            Matcher::Parser(_) => None,
        })
        .collect()
});

fn pattern(kind: &str) -> impl Iterator<Item = &'static Regex> {
    RULES
        .iter()
        .zip(PATTERNS.iter())
        .filter(move |(rule, _)| rule.kind == kind)
        .filter_map(|(_, re)| re.as_ref())
}

/// The findings of one file: (kind, fingerprint), each fingerprint once.
struct Found {
    out: Vec<(&'static str, String)>,
    seen: BTreeSet<String>,
}

impl Found {
    fn push(&mut self, kind: &'static str, secret: &str) {
        if is_placeholder(secret) {
            return;
        }
        let fp = fingerprint(secret);
        if self.seen.insert(fp.clone()) {
            self.out.push((kind, fp));
        }
    }
}

/// Scans one file's text as `class`. An error names what could not be
/// parsed, never content.
pub(crate) fn scan_text(
    text: &str,
    class: FileClass,
) -> Result<Vec<(&'static str, String)>, String> {
    let mut found = Found {
        out: Vec::new(),
        seen: BTreeSet::new(),
    };
    let json = matches!(
        class,
        FileClass::Docker | FileClass::Gcloud | FileClass::Azure
    );
    if !json {
        private_keys(text, &mut found);
    }
    match class {
        FileClass::Docker | FileClass::Gcloud | FileClass::Azure => {
            json_file(text, class, &mut found)?
        }
        FileClass::GitCredentials => git_credentials(text, &mut found),
        FileClass::Netrc => netrc(text, &mut found),
        FileClass::Pgpass => pgpass(text, &mut found),
        FileClass::MyCnf => my_cnf(text, &mut found),
        FileClass::Kubeconfig => kubeconfig(text, &mut found),
        FileClass::Npmrc => npmrc(text, &mut found),
        FileClass::Key
        | FileClass::Text
        | FileClass::History
        | FileClass::Env
        | FileClass::GcloudDb => {}
    }
    line_patterns(text, &mut found);
    match class {
        FileClass::History => history(text, &mut found),
        FileClass::Env => env_file(text, &mut found),
        _ => {}
    }
    Ok(found.out)
}

fn is_comment(line: &str) -> bool {
    let t = line.trim_start();
    t.starts_with('#') || t.starts_with(';') || t.starts_with("//")
}

/// Values that are obviously not real secrets: empty, variable references,
/// template markers, documentation examples, masks. Works on the value in
/// place: no copy of it is made.
pub(crate) fn is_placeholder(value: &str) -> bool {
    let t = value.trim().trim_matches(['"', '\'']);
    if t.is_empty() {
        return true;
    }
    if t.starts_with('$') || t.starts_with("%(") || t.starts_with("{{") || t.starts_with('<') {
        return true;
    }
    const WORDS: [&str; 12] = [
        "example",
        "changeme",
        "change_me",
        "change-me",
        "placeholder",
        "your_",
        "your-",
        "yourpassword",
        "redacted",
        "xxxx",
        "****",
        "...",
    ];
    if WORDS.iter().any(|w| contains_ignore_ascii_case(t, w)) {
        return true;
    }
    const BARE: [&str; 11] = [
        "password", "passwd", "pass", "secret", "token", "none", "null", "nil", "true", "false",
        "empty",
    ];
    if BARE.iter().any(|w| t.eq_ignore_ascii_case(w)) {
        return true;
    }
    // One repeated character, or three or fewer in a longer value (`abab…`).
    let head = t
        .char_indices()
        .nth(256)
        .map_or(t, |(i, _)| t.get(..i).unwrap_or(t));
    let mut distinct = 0;
    for (i, c) in head.char_indices() {
        if !head.get(..i).is_some_and(|before| before.contains(c)) {
            distinct += 1;
            if distinct > 3 {
                return false;
            }
        }
    }
    distinct <= 1 || t.len() >= 8
}

fn contains_ignore_ascii_case(haystack: &str, needle: &str) -> bool {
    haystack
        .as_bytes()
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// PEM and OpenSSH private key blocks; the fingerprint is the SHA-256 of
/// the base64 body without whitespace.
fn private_keys(text: &str, found: &mut Found) {
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let t = line.trim();
        let Some(label) = t
            .strip_prefix("-----BEGIN ")
            .and_then(|rest| rest.strip_suffix("-----"))
        else {
            continue;
        };
        if !label.ends_with("PRIVATE KEY") {
            continue;
        }
        let end = format!("-----END {label}-----");
        // Sized up front so the body is never reallocated (a reallocation
        // would free an unwiped copy).
        let mut body = Zeroizing::new(String::with_capacity(text.len()));
        let mut proc_encrypted = false;
        let mut closed = false;
        for inner in lines.by_ref() {
            let inner = inner.trim();
            if inner == end {
                closed = true;
                break;
            }
            if let Some((key, value)) = inner.split_once(':') {
                if key.eq_ignore_ascii_case("Proc-Type") && value.contains("ENCRYPTED") {
                    proc_encrypted = true;
                }
                continue;
            }
            body.push_str(inner);
        }
        if !closed || body.len() < 32 || is_placeholder(&body) {
            continue;
        }
        let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(body.as_bytes()) else {
            continue;
        };
        let decoded = Zeroizing::new(decoded);
        if decoded.len() < 32 {
            continue;
        }
        let encrypted = label.contains("ENCRYPTED")
            || proc_encrypted
            || (label == "OPENSSH PRIVATE KEY"
                && openssh_cipher(&decoded) != Some(b"none".as_slice()));
        found.push(
            if encrypted {
                "encrypted-private-key"
            } else {
                "private-key"
            },
            &body,
        );
    }
}

/// The cipher name of an `openssh-key-v1` blob.
fn openssh_cipher(decoded: &[u8]) -> Option<&[u8]> {
    let rest = decoded.strip_prefix(b"openssh-key-v1\0")?;
    let len: [u8; 4] = rest.get(..4)?.try_into().ok()?;
    let len = usize::try_from(u32::from_be_bytes(len)).ok()?;
    rest.get(4..4usize.checked_add(len)?)
}

/// The line-pattern rules (AWS keys, database and URL passwords, tokens).
/// AWS access key ids count only in a file that also holds a secret key.
fn line_patterns(text: &str, found: &mut Found) {
    let mut aws_ids: Vec<&str> = Vec::new();
    let mut aws_secrets: Vec<&str> = Vec::new();
    for line in text.lines().filter(|l| !is_comment(l)) {
        for re in pattern("aws-secret-key") {
            aws_secrets.extend(
                re.captures_iter(line)
                    .filter_map(|c| c.get(1))
                    .map(|m| m.as_str()),
            );
        }
        for re in pattern("aws-access-key") {
            aws_ids.extend(
                re.captures_iter(line)
                    .filter_map(|c| c.get(1))
                    .map(|m| m.as_str()),
            );
        }
    }
    aws_secrets.retain(|s| !is_placeholder(s));
    if !aws_secrets.is_empty() {
        for secret in aws_secrets {
            found.push("aws-secret-key", secret);
        }
        for id in aws_ids {
            found.push("aws-access-key", id);
        }
    }
    for (rule, re) in RULES.iter().zip(PATTERNS.iter()) {
        let Some(re) = re else { continue };
        if matches!(rule.kind, "aws-secret-key" | "aws-access-key") {
            continue;
        }
        for line in text.lines().filter(|l| !is_comment(l)) {
            for m in re.captures_iter(line).filter_map(|c| c.get(1)) {
                found.push(rule.kind, m.as_str());
            }
        }
    }
}

/// `https://user:token@host` lines of `~/.git-credentials`.
fn git_credentials(text: &str, found: &mut Found) {
    for line in text.lines().filter(|l| !is_comment(l)) {
        if let Some(password) = url_password(line.trim()) {
            found.push("git-credential", password);
        }
    }
}

/// The password of a `scheme://user:password@host…` URL.
fn url_password(url: &str) -> Option<&str> {
    let (_, rest) = url.split_once("://")?;
    let authority = rest.split('/').next()?;
    let (userinfo, _) = authority.rsplit_once('@')?;
    let (_, password) = userinfo.split_once(':')?;
    Some(password)
}

/// `password <secret>` tokens of `.netrc`.
fn netrc(text: &str, found: &mut Found) {
    let mut tokens = text
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .flat_map(str::split_whitespace);
    while let Some(token) = tokens.next() {
        if token == "password"
            && let Some(password) = tokens.next()
        {
            found.push("netrc-password", password);
        }
    }
}

/// `hostname:port:database:username:password` lines of `.pgpass`
/// (`\:` and `\\` escaped).
fn pgpass(text: &str, found: &mut Found) {
    for line in text.lines().filter(|l| !l.trim_start().starts_with('#')) {
        let field = || Zeroizing::new(String::with_capacity(line.len()));
        let mut fields: Vec<Zeroizing<String>> = vec![field()];
        let mut chars = line.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => {
                    if let (Some(next), Some(field)) = (chars.next(), fields.last_mut()) {
                        field.push(next);
                    }
                }
                ':' if fields.len() < 5 => fields.push(field()),
                c => {
                    if let Some(field) = fields.last_mut() {
                        field.push(c);
                    }
                }
            }
        }
        if fields.len() == 5
            && let Some(password) = fields.last()
        {
            found.push("database-password", password);
        }
    }
}

/// `password=` options of a MySQL option file.
fn my_cnf(text: &str, found: &mut Found) {
    for line in text.lines().filter(|l| !is_comment(l)) {
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        if matches!(
            key.trim().to_ascii_lowercase().as_str(),
            "password" | "pass"
        ) {
            found.push("database-password", unquote(value));
        }
    }
}

/// Credentials of a kubeconfig's users: `client-key-data` (a base64 PEM
/// private key), `token`, `password`.
fn kubeconfig(text: &str, found: &mut Found) {
    for line in text.lines().filter(|l| !is_comment(l)) {
        let Some((key, value)) = line.trim().trim_start_matches("- ").split_once(':') else {
            continue;
        };
        if matches!(key.trim(), "client-key-data" | "token" | "password") {
            found.push("kubeconfig-credential", unquote(value));
        }
    }
}

/// npm registry credentials: `_authToken=`, `_auth=`, `_password=`
/// (optionally scoped to a registry, `//registry.npmjs.org/:_authToken=`).
fn npmrc(text: &str, found: &mut Found) {
    // `//registry/:_authToken=` lines start like comments elsewhere do.
    for line in text
        .lines()
        .filter(|l| !l.trim_start().starts_with(['#', ';']))
    {
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let key = key.trim();
        let name = key.rsplit_once(':').map_or(key, |(_, name)| name);
        if matches!(name, "_authToken" | "_auth" | "_password") {
            found.push("npm-token", unquote(value));
        }
    }
}

fn unquote(value: &str) -> &str {
    let t = value.trim();
    for q in ['"', '\''] {
        if let Some(inner) = t.strip_prefix(q).and_then(|r| r.strip_suffix(q)) {
            return inner;
        }
    }
    t
}

/// Google Cloud, Azure CLI and Docker credential JSON. Every string of the
/// parsed document is wiped before it is dropped.
fn json_file(text: &str, class: FileClass, found: &mut Found) -> Result<(), String> {
    let mut doc: Value = serde_json::from_str(text)
        .map_err(|e| format!("invalid JSON at line {} column {}", e.line(), e.column()))?;
    match class {
        FileClass::Gcloud => {
            let kind = doc.get("type").and_then(Value::as_str);
            if kind == Some("service_account")
                && let Some(key) = doc.get("private_key").and_then(Value::as_str)
            {
                found.push("gcp-service-account-key", key);
            }
            if kind == Some("authorized_user")
                && let Some(token) = doc.get("refresh_token").and_then(Value::as_str)
            {
                found.push("gcp-user-refresh-token", token);
            }
        }
        FileClass::Docker => {
            if let Some(auths) = doc.get("auths").and_then(Value::as_object) {
                for entry in auths.values() {
                    for field in ["auth", "identitytoken"] {
                        if let Some(secret) = entry.get(field).and_then(Value::as_str) {
                            found.push("docker-registry-auth", secret);
                        }
                    }
                }
            }
        }
        _ => azure(&doc, false, found),
    }
    scrub(&mut doc);
    Ok(())
}

fn azure(value: &Value, in_refresh_tokens: bool, found: &mut Found) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                match (key.as_str(), child) {
                    ("client_secret", Value::String(s)) => {
                        found.push("azure-service-principal-secret", s)
                    }
                    ("refreshToken", Value::String(s)) => found.push("azure-cli-token", s),
                    // MSAL nests `RefreshToken` → `<id>` → `secret`.
                    ("secret", Value::String(s)) if in_refresh_tokens => {
                        found.push("azure-cli-token", s)
                    }
                    _ => {}
                }
                azure(child, in_refresh_tokens || key == "RefreshToken", found);
            }
        }
        Value::Array(items) => {
            for item in items {
                azure(item, in_refresh_tokens, found);
            }
        }
        _ => {}
    }
}

/// Wipes every string value of a parsed JSON document.
fn scrub(value: &mut Value) {
    match value {
        Value::String(s) => s.zeroize(),
        Value::Array(items) => items.iter_mut().for_each(scrub),
        Value::Object(map) => map.values_mut().for_each(scrub),
        _ => {}
    }
}

/// The Google Cloud CLI's `credentials.db` (SQLite: `credentials
/// (account_id, value)`, each value a credential JSON document). Opened in
/// memory from the bytes read, never written to disk; each value is read in
/// place from SQLite's memory and scanned as a gcloud credential.
pub(crate) fn gcloud_credentials_db(bytes: &[u8]) -> Result<Vec<(&'static str, String)>, String> {
    use rusqlite::types::ValueRef;
    if !bytes.starts_with(b"SQLite format 3\0") {
        return Err("not an SQLite database".to_owned());
    }
    let mut image = Zeroizing::new(bytes.to_vec());
    // SQLite's in-memory databases have no write-ahead log: read a WAL-mode
    // file as a rollback-journal one (header bytes 18 and 19).
    if let Some(versions) = image.get_mut(18..20)
        && versions == [2, 2]
    {
        versions.copy_from_slice(&[1, 1]);
    }
    let mut conn =
        rusqlite::Connection::open_in_memory().map_err(|e| format!("cannot open SQLite: {e}"))?;
    conn.deserialize_read_exact(rusqlite::MAIN_DB, image.as_slice(), image.len(), true)
        .map_err(|_| "not an SQLite database".to_owned())?;
    drop(image);
    let mut stmt = conn
        .prepare("SELECT value FROM credentials")
        .map_err(|_| "no gcloud `credentials` table".to_owned())?;
    let mut rows = stmt
        .query([])
        .map_err(|_| "cannot read `credentials`".to_owned())?;
    let mut out = Vec::new();
    let mut index = 0;
    while let Some(row) = rows
        .next()
        .map_err(|_| "cannot read `credentials`".to_owned())?
    {
        index += 1;
        let value = row
            .get_ref(0)
            .map_err(|_| "cannot read `credentials`".to_owned())?;
        let text = match value {
            ValueRef::Text(b) | ValueRef::Blob(b) => std::str::from_utf8(b).ok(),
            _ => None,
        };
        let Some(text) = text else {
            return Err(format!("credential {index} is not text"));
        };
        let found =
            scan_text(text, FileClass::Gcloud).map_err(|e| format!("credential {index}: {e}"))?;
        out.extend(found);
    }
    Ok(out)
}

static HISTORY_PATTERNS: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    [
        // mysql -psecret (a bare `-p` prompts instead)
        r#"(?:^|[\s;|&(])(?:mysql|mysqldump|mysqladmin|mysqlimport|mariadb|mariadb-dump)\b.*?\s-p([^\s'"-][^\s'"]*|'[^']+'|"[^"]+")"#,
        // --password=secret
        r#"\s--password=([^\s'"]+|'[^']+'|"[^"]+")"#,
        // sshpass -p secret
        r#"\bsshpass\s+-p\s*([^\s'"]+|'[^']+'|"[^"]+")"#,
        // docker login -p secret / --password secret
        r#"\bdocker\s+login\b.*?\s(?:-p|--password)\s+([^\s'"]+|'[^']+'|"[^"]+")"#,
        // curl -u user:secret
        r#"\bcurl\b.*?\s(?:-u|--user)\s*['"]?[^:\s'"]+:([^\s'"]+)"#,
        // SQL in .mysql_history / .psql_history: IDENTIFIED BY 'secret', PASSWORD 'secret'
        r#"(?i)\bIDENTIFIED\s+(?:WITH\s+\S+\s+)?BY\s+('[^']+'|"[^"]+")"#,
        r#"(?i)\b(?:CREATE|ALTER)\s+(?:USER|ROLE)\b.*?\bPASSWORD\s+('[^']+')"#,
        // PGPASSWORD=secret, export DB_PASSWORD=secret, API_TOKEN=secret
        r#"(?:^|[\s;&(])(?:export\s+)?[A-Za-z_][A-Za-z0-9_]*(?:PASSWORD|PASSWD|_PWD|SECRET|TOKEN)[A-Za-z0-9_]*=([^\s'"]+|'[^']+'|"[^"]+")"#,
    ]
    .iter()
    .filter_map(|p| Regex::new(p).ok())
    .collect()
});

/// Passwords typed on command lines in shell and client histories.
fn history(text: &str, found: &mut Found) {
    for line in text.lines() {
        // The MySQL client writes spaces as `\040`.
        let unescaped = line.contains("\\040").then(|| {
            let mut out = Zeroizing::new(String::with_capacity(line.len()));
            for (i, part) in line.split("\\040").enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                out.push_str(part);
            }
            out
        });
        let line = unescaped.as_ref().map_or(line, |l| l.as_str());
        // zsh's extended history: `: <start>:<elapsed>;<command>`.
        let command = match line.strip_prefix(": ").and_then(|r| r.split_once(';')) {
            Some((_, command)) => command,
            None => line,
        };
        if command.trim_start().starts_with('#') {
            continue;
        }
        for re in HISTORY_PATTERNS.iter() {
            for m in re.captures_iter(command).filter_map(|c| c.get(1)) {
                found.push("generic-password-in-history", unquote(m.as_str()));
            }
        }
    }
}

/// Secret-named variables of `KEY=value` files.
fn env_file(text: &str, found: &mut Found) {
    const SECRET_WORDS: [&str; 8] = [
        "PASSWORD",
        "PASSWD",
        "SECRET",
        "TOKEN",
        "API_KEY",
        "APIKEY",
        "PRIVATE_KEY",
        "ACCESS_KEY",
    ];
    const NOT_SECRET_SUFFIXES: [&str; 8] = [
        "_ID", "_URL", "_FILE", "_PATH", "_LENGTH", "_TTL", "_EXPIRY", "_NAME",
    ];
    for line in text.lines().filter(|l| !is_comment(l)) {
        let line = line.trim_start();
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((name, value)) = line.split_once('=') else {
            continue;
        };
        let name = name.trim().to_ascii_uppercase();
        if !SECRET_WORDS.iter().any(|w| name.contains(w))
            || NOT_SECRET_SUFFIXES.iter().any(|s| name.ends_with(s))
        {
            continue;
        }
        let value = value.trim();
        // An unquoted value ends at an inline comment.
        let value = if value.starts_with(['"', '\'']) {
            unquote(value)
        } else {
            value.split(" #").next().unwrap_or(value).trim()
        };
        // Numbers are settings (`TOKEN_TTL_SECONDS=3600`), not secrets.
        if value.chars().all(|c| c.is_ascii_digit()) {
            continue;
        }
        found.push("env-secret", value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pattern_compiles() {
        for (rule, re) in RULES.iter().zip(PATTERNS.iter()) {
            if let Matcher::Pattern(p) = rule.matcher {
                assert!(re.is_some(), "{}: {p}", rule.kind);
            }
        }
        assert_eq!(HISTORY_PATTERNS.len(), 8);
    }

    #[test]
    fn fingerprints_are_sha256_hex() {
        assert_eq!(
            fingerprint("abc"),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn placeholders() {
        for p in [
            "",
            "  ",
            "$PW",
            "${DB_PASSWORD}",
            "<password>",
            "xxxxxxxx",
            "********",
            "changeme",
            "password",
            "AKIAIOSFODNN7EXAMPLE",
            "{{ secret }}",
        ] {
            assert!(is_placeholder(p), "{p}");
        }
        for real in [
            "s3cr3t-Pa55",
            "hunter2",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzzzzzzzzzz",
        ] {
            assert!(!is_placeholder(real), "{real}");
        }
    }

    #[test]
    fn content_debug_is_redacted() {
        let c = Content::new(b"password=hunter2".to_vec());
        assert!(!format!("{c:?}").contains("hunter2"));
        assert_eq!(c.text(), Some("password=hunter2"));
        assert_eq!(Content::new(b"a\0b".to_vec()).text(), None);
    }
}

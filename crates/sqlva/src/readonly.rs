//! The read-only check applied to every rule query.

/// Words that may change state (or reach outside the instance) and so never
/// appear in a query outside comments, string literals and quoted names.
const FORBIDDEN: [&str; 31] = [
    "INSERT",
    "UPDATE",
    "DELETE",
    "MERGE",
    "ALTER",
    "CREATE",
    "DROP",
    "GRANT",
    "REVOKE",
    "DENY",
    "TRUNCATE",
    "INTO",
    "SET",
    "RECONFIGURE",
    "SHUTDOWN",
    "KILL",
    "BACKUP",
    "RESTORE",
    "DBCC",
    "USE",
    "BULK",
    "OPENROWSET",
    "OPENQUERY",
    "OPENDATASOURCE",
    "WRITETEXT",
    "UPDATETEXT",
    "SP_CONFIGURE",
    "SP_EXECUTESQL",
    "SP_OACREATE",
    "XP_CMDSHELL",
    "XP_REGWRITE",
];

/// Procedures a query may `EXEC`: read-only ones only.
const EXEC_ALLOWED: [&str; 1] = ["MASTER.DBO.XP_LOGINCONFIG"];

/// Checks that a T-SQL text only reads: no data or schema change, no
/// configuration change, no permission change, no dynamic SQL, and `EXEC`
/// only of allow-listed read-only procedures. Comments, string literals and
/// quoted identifiers are ignored. Returns what is wrong.
pub fn check_read_only(query: &str) -> Result<(), String> {
    let tokens = tokens(query)?;
    let mut iter = tokens.iter().peekable();
    while let Some(token) = iter.next() {
        let upper = token.to_ascii_uppercase();
        if upper == "EXEC" || upper == "EXECUTE" {
            let target = iter
                .next()
                .map(|t| t.to_ascii_uppercase())
                .unwrap_or_default();
            if !EXEC_ALLOWED.contains(&target.as_str()) {
                return Err(format!(
                    "`EXEC` of `{target}` is not an allowed read-only procedure"
                ));
            }
            continue;
        }
        for part in upper.split('.') {
            if FORBIDDEN.contains(&part) {
                return Err(format!("query uses `{part}` outside comments and literals"));
            }
        }
    }
    Ok(())
}

/// Word tokens of the text outside comments, literals and quoted names.
fn tokens(query: &str) -> Result<Vec<String>, String> {
    let chars: Vec<char> = query.chars().collect();
    let mut out = Vec::new();
    let mut word = String::new();
    let mut i = 0;
    let at = |k: usize| chars.get(k).copied();
    let flush = |word: &mut String, out: &mut Vec<String>| {
        if !word.is_empty() {
            out.push(std::mem::take(word));
        }
    };
    while let Some(c) = at(i) {
        match c {
            '-' if at(i + 1) == Some('-') => {
                flush(&mut word, &mut out);
                while let Some(c) = at(i) {
                    if c == '\n' {
                        break;
                    }
                    i += 1;
                }
            }
            '/' if at(i + 1) == Some('*') => {
                flush(&mut word, &mut out);
                let mut depth = 0usize;
                loop {
                    match (at(i), at(i + 1)) {
                        (Some('/'), Some('*')) => {
                            depth += 1;
                            i += 2;
                        }
                        (Some('*'), Some('/')) => {
                            depth = depth.saturating_sub(1);
                            i += 2;
                            if depth == 0 {
                                break;
                            }
                        }
                        (Some(_), _) => i += 1,
                        (None, _) => return Err("unterminated comment".to_owned()),
                    }
                }
            }
            '\'' | '[' | '"' => {
                // `N'...'`: the N prefix is part of the literal.
                if word.eq_ignore_ascii_case("N") && c == '\'' {
                    word.clear();
                }
                flush(&mut word, &mut out);
                let close = if c == '[' { ']' } else { c };
                i += 1;
                loop {
                    match at(i) {
                        None => return Err("unterminated literal or quoted name".to_owned()),
                        Some(x) if x == close && at(i + 1) == Some(close) => i += 2,
                        Some(x) if x == close => break,
                        Some(_) => i += 1,
                    }
                }
                i += 1;
            }
            c if c.is_alphanumeric() || matches!(c, '_' | '@' | '#' | '$' | '.') => {
                word.push(c);
                i += 1;
            }
            _ => {
                flush(&mut word, &mut out);
                i += 1;
            }
        }
    }
    flush(&mut word, &mut out);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::check_read_only;

    #[test]
    fn reads_pass() {
        assert!(
            check_read_only("SELECT name FROM sys.configurations WHERE name = N'xp_cmdshell';")
                .is_ok()
        );
        assert!(check_read_only("EXEC master.dbo.xp_loginconfig 'audit level';").is_ok());
        assert!(check_read_only("-- DROP TABLE x\nSELECT 1 /* ALTER LOGIN */;").is_ok());
        assert!(check_read_only("SELECT [update] FROM t;").is_ok());
    }

    #[test]
    fn writes_fail() {
        for query in [
            "UPDATE t SET a = 1;",
            "SELECT * INTO x FROM y;",
            "EXEC sp_configure 'xp_cmdshell', 1;",
            "EXECUTE sys.sp_configure;",
            "RECONFIGURE;",
            "ALTER LOGIN [sa] DISABLE;",
            "GRANT CONNECT TO guest;",
            "SELECT 1; DROP TABLE t;",
            "EXEC xp_cmdshell 'dir';",
            "SELECT 1 /* unterminated",
            "DELETE FROM dbo.t",
            "exec('select 1')",
        ] {
            assert!(check_read_only(query).is_err(), "{query} passed");
        }
    }
}

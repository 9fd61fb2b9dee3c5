//! Rule metadata consistency, the read-only guarantee and the rendered script.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests: a failure ends the test"
)]

use std::collections::{BTreeMap, BTreeSet};

use rampart_sqlva::{
    Category, DATABASE_LIST_QUERY, PERMISSIONS_QUERY, Scope, ScriptOptions, builtin_rules,
    check_read_only, render_script,
};

#[test]
fn rule_metadata_is_consistent() -> Result<(), Box<dyn std::error::Error>> {
    let rules = builtin_rules()?;
    assert!(rules.len() >= 28, "{} rules", rules.len());
    let ids: BTreeSet<&str> = rules.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids.len(), rules.len(), "duplicate ids");
    let mut per_category: BTreeMap<Category, usize> = BTreeMap::new();
    for rule in &rules {
        *per_category.entry(rule.category).or_default() += 1;
        assert!(!rule.title.trim().is_empty(), "{}", rule.id);
        assert!(!rule.description.trim().is_empty(), "{}", rule.id);
        assert!(!rule.remediation.trim().is_empty(), "{}", rule.id);
        assert!(!rule.judged_as.trim().is_empty(), "{}", rule.id);
        for reference in &rule.references {
            assert!(
                reference.starts_with("https://learn.microsoft.com/"),
                "{}: {reference}",
                rule.id
            );
        }
        if let Some(defender) = &rule.defender_id {
            assert!(
                defender.starts_with("VA") && defender.len() == 6,
                "{}: {defender}",
                rule.id
            );
        }
        if rule.scope == Scope::Server {
            // Server rules run in master: they must not depend on the current database.
            assert!(
                !rule.query.contains("DB_ID()") && !rule.query.contains("DB_NAME()"),
                "{}",
                rule.id
            );
        }
    }
    for category in Category::ALL {
        let count = per_category.get(&category).copied().unwrap_or_default();
        assert!(count >= 5, "{category:?} has {count} rules");
    }
    Ok(())
}

#[test]
fn issue_examples_are_covered() -> Result<(), Box<dyn std::error::Error>> {
    let rules = builtin_rules()?;
    let all_queries: String = rules
        .iter()
        .map(|r| r.query.to_lowercase())
        .collect::<Vec<_>>()
        .join("\n");
    for needle in [
        "n'xp_cmdshell'",
        "n'sa'",
        "n'guest'",
        "cross db ownership chaining",
        "n'clr enabled'",
        "n'ole automation procedures'",
        "remote admin connections",
        "xp_loginconfig 'audit level'",
        "is_policy_checked = 0",
        "is_expiration_checked = 0",
        "sys.dm_database_encryption_keys",
        "sp.sid is null",
        "serverproperty('productversion')",
        "sys.server_audit_specification_details",
    ] {
        assert!(
            all_queries.contains(needle),
            "no rule query contains `{needle}`"
        );
    }
    Ok(())
}

#[test]
fn every_rule_query_is_read_only() -> Result<(), Box<dyn std::error::Error>> {
    for rule in builtin_rules()? {
        if let Err(problem) = check_read_only(&rule.query) {
            panic!("{}: {problem}", rule.id);
        }
    }
    check_read_only(PERMISSIONS_QUERY)?;
    check_read_only(DATABASE_LIST_QUERY)?;
    Ok(())
}

#[test]
fn a_writing_rule_is_rejected() -> Result<(), Box<dyn std::error::Error>> {
    let mut rules = builtin_rules()?;
    let Some(first) = rules.first_mut() else {
        return Err("no rules".into());
    };
    first.query = "EXEC sp_configure 'xp_cmdshell', 1; RECONFIGURE;".to_owned();
    assert!(render_script(&rules, &ScriptOptions::default()).is_err());
    Ok(())
}

#[test]
fn rendered_script_snapshot() -> Result<(), Box<dyn std::error::Error>> {
    let rules = builtin_rules()?;
    let script = render_script(&rules, &ScriptOptions::default())?;
    for rule in &rules {
        assert!(
            script.contains(&format!("Id = '{}'", rule.id)),
            "{} missing",
            rule.id
        );
    }
    // Nothing in the script outside the rule queries changes the server.
    for forbidden in [
        "sp_configure",
        "RECONFIGURE",
        "ALTER ",
        "INSERT ",
        "UPDATE ",
        "DELETE ",
        "GRANT ",
        "DROP ",
    ] {
        assert!(!script.contains(forbidden), "script contains `{forbidden}`");
    }
    assert!(script.contains("$Budget = 23000"));
    insta::assert_snapshot!("script_default_instance", script);
    Ok(())
}

#[test]
fn named_instance_and_database_subset() -> Result<(), Box<dyn std::error::Error>> {
    let rules: Vec<_> = builtin_rules()?
        .into_iter()
        .filter(|r| r.id == "RVA1004")
        .collect();
    let options = ScriptOptions {
        instance: Some("SQLEXPRESS".to_owned()),
        databases: Some(vec!["app".to_owned(), "o'brien".to_owned()]),
        ..ScriptOptions::default()
    };
    let script = render_script(&rules, &options)?;
    assert!(script.contains("$DataSource = '.\\SQLEXPRESS'"));
    assert!(script.contains("$OnlyDatabases = @('app', 'o''brien')"));
    assert!(script.contains("$RuleIds = '\"RVA1004\"'"));
    for bad in ["SQL'; rm", "", "A_VERY_LONG_INSTANCE_NAME", "..\\x"] {
        let options = ScriptOptions {
            instance: Some(bad.to_owned()),
            ..ScriptOptions::default()
        };
        assert!(render_script(&rules, &options).is_err(), "{bad} accepted");
    }
    let too_big = ScriptOptions {
        output_budget: 24_000,
        ..ScriptOptions::default()
    };
    assert!(render_script(&rules, &too_big).is_err());
    Ok(())
}

/// A structural check of the PowerShell (no PowerShell is available to the
/// tests): outside here-strings, quoted strings and comments, brackets
/// balance, and every here-string closes.
#[test]
fn rendered_script_brackets_balance() -> Result<(), Box<dyn std::error::Error>> {
    let script = render_script(&builtin_rules()?, &ScriptOptions::default())?;
    let mut stack = Vec::new();
    let mut in_here_string = false;
    for (number, line) in script.lines().enumerate() {
        let mut rest = line;
        if in_here_string {
            let Some(after) = rest.strip_prefix("'@") else {
                continue;
            };
            in_here_string = false;
            rest = after;
        }
        let chars: Vec<char> = rest.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            match c {
                '#' => break,
                '@' if chars.get(i + 1) == Some(&'\'') && i + 2 == chars.len() => {
                    in_here_string = true;
                    break;
                }
                '\'' | '"' => {
                    i += 1;
                    while i < chars.len() && chars[i] != c {
                        i += 1;
                    }
                    assert!(
                        i < chars.len(),
                        "line {}: unterminated string: {line}",
                        number + 1
                    );
                }
                '(' | '{' | '[' => stack.push((c, number + 1)),
                ')' | '}' | ']' => {
                    let open = stack.pop().map(|(o, _)| o);
                    let expected = match c {
                        ')' => '(',
                        '}' => '{',
                        _ => '[',
                    };
                    assert_eq!(open, Some(expected), "line {}: {line}", number + 1);
                }
                _ => {}
            }
            i += 1;
        }
    }
    assert!(!in_here_string, "unterminated here-string");
    assert!(stack.is_empty(), "unclosed: {stack:?}");
    Ok(())
}

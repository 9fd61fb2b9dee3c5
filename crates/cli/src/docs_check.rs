//! The docs match the binary: every `rampart …` command line in the code
//! blocks of README.md and docs/*.md parses with the real flag definitions,
//! the ids they name exist, and the exemption examples name real
//! recommendations.

use std::path::{Path, PathBuf};

use clap::Parser;
use rampart_catalog::exemptions::Exemptions;

use crate::args::{Cli, Command};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// README.md and every docs/*.md, with their text.
fn documents() -> Vec<(String, String)> {
    let mut files = vec![repo().join("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(repo().join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    docs.sort();
    files.extend(docs);
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            (p.display().to_string(), text)
        })
        .collect()
}

/// Code blocks: (info string, lines joined where they end in `\`).
fn code_blocks(text: &str) -> Vec<(String, Vec<String>)> {
    let mut blocks = Vec::new();
    let mut current: Option<(String, Vec<String>)> = None;
    for line in text.lines() {
        let trimmed = line.trim_start();
        if let Some(info) = trimmed.strip_prefix("```") {
            match current.take() {
                Some(block) => blocks.push(block),
                None => current = Some((info.trim().to_owned(), Vec::new())),
            }
            continue;
        }
        if let Some((_, lines)) = &mut current {
            match lines.last_mut() {
                Some(last) if last.ends_with('\\') => {
                    last.pop();
                    last.push(' ');
                    last.push_str(trimmed);
                }
                _ => lines.push(line.to_owned()),
            }
        }
    }
    blocks
}

/// Shell words of one command: quotes removed, stopping at a comment, a
/// pipe, a redirection or a command separator.
fn words(command: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    for c in command.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => word.push(c),
            None => match c {
                '\'' | '"' => {
                    quote = Some(c);
                    in_word = true;
                }
                ' ' | '\t' => {
                    if in_word {
                        out.push(std::mem::take(&mut word));
                        in_word = false;
                    }
                }
                '#' if !in_word => break,
                '|' | '>' | ';' | '&' | '<' | ')' => break,
                _ => {
                    word.push(c);
                    in_word = true;
                }
            },
        }
    }
    if in_word {
        out.push(word);
    }
    out
}

/// Every `rampart …` command in code blocks: (file, line text, words).
fn commands() -> Vec<(String, String, Vec<String>)> {
    let mut found = Vec::new();
    for (file, text) in documents() {
        for (info, lines) in code_blocks(&text) {
            if !matches!(
                info.as_str(),
                "" | "sh" | "bash" | "console" | "shell" | "text"
            ) {
                continue;
            }
            for line in lines {
                // A command may follow `$ `, `T=$(`, `export X=$(` and the like.
                for (at, _) in line.match_indices("rampart ") {
                    let before = line.get(..at).unwrap_or_default();
                    let starts_command = before.trim().is_empty()
                        || before.ends_with("release/")
                        || before.ends_with("$(")
                        || before.trim_end().ends_with('$')
                        || before.trim_end().ends_with("&&");
                    if !starts_command {
                        continue;
                    }
                    let rest = line.get(at..).unwrap_or_default();
                    let argv = words(rest);
                    // `rampart (crates/cli) ──` in a diagram is not a command.
                    let is_command = argv.get(1).is_some_and(|w| {
                        w.starts_with(|c: char| c.is_ascii_lowercase() || c == '-')
                    });
                    if is_command {
                        found.push((file.clone(), line.clone(), argv));
                    }
                }
            }
        }
    }
    found
}

#[test]
fn every_documented_command_parses_and_names_real_ids() {
    let catalog = rampart_catalog::Catalog::builtin().unwrap();
    let standards = rampart_catalog::standards::builtin_standards().unwrap();
    let types = crate::commands::inventory::resource_types();
    let found = commands();
    assert!(found.len() > 20, "too few commands found: {}", found.len());
    let mut failures = Vec::new();
    for (file, line, argv) in &found {
        let cli = match Cli::try_parse_from(argv) {
            Ok(cli) => cli,
            Err(e) => {
                let first = e.to_string().lines().next().unwrap_or_default().to_owned();
                failures.push(format!("{file}: `{line}`: {first}"));
                continue;
            }
        };
        match &cli.command {
            Command::Compliance(a) => {
                if let Some(id) = &a.standard
                    && !standards.iter().any(|s| s.id == id)
                    && !id.contains(char::is_uppercase)
                {
                    failures.push(format!("{file}: `{line}`: unknown standard `{id}`"));
                }
            }
            Command::Inventory(a) => {
                if let Some(t) = &a.resource_type
                    && !types.contains(&t.as_str())
                    && t != "TYPE"
                {
                    failures.push(format!("{file}: `{line}`: unknown resource type `{t}`"));
                }
            }
            Command::Scan(a) => {
                for s in a.services.iter().flatten() {
                    if rampart_aws::collectors::by_service(s).is_none() && s != "SERVICE" {
                        failures.push(format!("{file}: `{line}`: unknown service `{s}`"));
                    }
                }
            }
            _ => {}
        }
        let _ = &catalog;
    }
    assert!(
        failures.is_empty(),
        "docs disagree with the binary:\n{}",
        failures.join("\n")
    );
}

#[test]
fn exemption_examples_name_real_recommendations() {
    let catalog = rampart_catalog::Catalog::builtin().unwrap();
    let mut checked = 0;
    for (file, text) in documents() {
        for (info, lines) in code_blocks(&text) {
            let body = lines.join("\n");
            if !info.starts_with("yaml") || !body.contains("exemptions:") {
                continue;
            }
            let exemptions = Exemptions::from_yaml(&body)
                .unwrap_or_else(|e| panic!("{file}: exemption example does not parse: {e}"));
            exemptions
                .check_recommendations(&catalog)
                .unwrap_or_else(|e| panic!("{file}: {e}"));
            checked += 1;
        }
    }
    assert!(checked > 0, "no exemption example found");
}

#[test]
fn docs_stay_inside_the_repository() {
    for (file, text) in documents() {
        for (i, line) in text.lines().enumerate() {
            assert!(
                !line.contains("../shared")
                    && !line.contains("shared/contracts")
                    && !line.contains("shared/reference")
                    && !line.contains("/work/"),
                "{file}:{}: refers to a file outside the repository: {line}",
                i + 1
            );
        }
    }
}

#[test]
fn help_lists_exactly_the_services_the_binary_accepts() {
    let help = crate::args::services_help();
    for c in rampart_aws::collectors::COLLECTORS {
        assert!(help.contains(c.meta().service), "{help}");
    }
    let listed = help
        .split_once('(')
        .and_then(|(_, rest)| rest.split_once(')'))
        .map(|(list, _)| list.split(", ").count());
    assert_eq!(
        listed,
        Some(rampart_aws::collectors::COLLECTORS.len()),
        "{help}"
    );
}

#[test]
fn readme_lists_exactly_the_services_the_binary_accepts() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let list = readme
        .split_once("only these collectors (`")
        .and_then(|(_, rest)| rest.split_once('`'))
        .map(|(list, _)| list.split_whitespace().collect::<Vec<_>>())
        .unwrap();
    let registry: Vec<&str> = rampart_aws::collectors::COLLECTORS
        .iter()
        .map(|c| c.meta().service)
        .collect();
    assert_eq!(list, registry);
}

#[test]
fn shell_words() {
    assert_eq!(
        words("rampart scan --profile 'my p' --regions a,b # every region"),
        ["rampart", "scan", "--profile", "my p", "--regions", "a,b"]
    );
    assert_eq!(
        words("rampart findings --format sarif > x.sarif"),
        ["rampart", "findings", "--format", "sarif"]
    );
    assert_eq!(
        words("rampart token create --role reader)"),
        ["rampart", "token", "create", "--role", "reader"]
    );
}

//! Language packages from lock files in application directories and homes:
//! npm (`package-lock.json`, `npm-shrinkwrap.json`, `yarn.lock`), PyPI
//! (`Pipfile.lock`, `poetry.lock`, pinned `requirements.txt`), crates.io
//! (`Cargo.lock`), Packagist (`composer.lock`) and RubyGems
//! (`Gemfile.lock`). Ecosystem names are OSV's.

use std::ops::ControlFlow;

use serde::Serialize;
use serde_json::Value;

use crate::secrets::APP_DIRS;
use crate::walk::{Stop, walk};
use crate::{InspectOptions, MachineError};

/// One package pinned by a lock file.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct LanguagePackage {
    /// The OSV ecosystem (`npm`, `PyPI`, `crates.io`, `Packagist`,
    /// `RubyGems`).
    pub ecosystem: String,
    /// The package's name in its registry.
    pub name: String,
    /// The locked version.
    pub version: String,
    /// The lock file it was read from.
    pub lock_file: String,
}

/// What the lock-file walk found.
#[derive(Debug, Default)]
pub struct FoundLanguagePackages {
    /// Packages, sorted and deduplicated.
    pub packages: Vec<LanguagePackage>,
    /// How many lock files were read.
    pub lock_files: usize,
    /// Lock files that could not be read or parsed; budgets that ran out.
    pub errors: Vec<MachineError>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LockFormat {
    NpmLock,
    Yarn,
    CargoLock,
    PoetryLock,
    Pipfile,
    Requirements,
    Composer,
    Gemfile,
}

fn lock_format(name: &str) -> Option<LockFormat> {
    Some(match name {
        "package-lock.json" | "npm-shrinkwrap.json" => LockFormat::NpmLock,
        "yarn.lock" => LockFormat::Yarn,
        "Cargo.lock" => LockFormat::CargoLock,
        "poetry.lock" => LockFormat::PoetryLock,
        "Pipfile.lock" => LockFormat::Pipfile,
        "requirements.txt" => LockFormat::Requirements,
        "composer.lock" => LockFormat::Composer,
        "Gemfile.lock" => LockFormat::Gemfile,
        _ => return None,
    })
}

/// Finds lock files under the application directories, `/root` and
/// `/home`, within the walk budgets, and reads their packages.
pub fn language_packages(
    tree: &dyn rampart_disk::FileTree,
    options: &InspectOptions,
) -> FoundLanguagePackages {
    let mut found = FoundLanguagePackages::default();
    let mut files: Vec<(String, LockFormat)> = Vec::new();
    let mut dirs_left = options.max_app_dirs;
    let roots = APP_DIRS.iter().copied().chain(["/root", "/home"]);
    for root in roots {
        let walked = walk(
            tree,
            root,
            options.max_app_depth,
            &mut dirs_left,
            &mut found.errors,
            &mut |path, entry| {
                if let Some(format) = lock_format(&entry.name) {
                    files.push((path.to_owned(), format));
                }
                ControlFlow::Continue(())
            },
        );
        if let Err(Stop::Budget(at)) = walked {
            found.errors.push(MachineError::Budget {
                scan: "lock file scan",
                detail: format!(
                    "listed {} directories looking for lock files; `{at}` and the rest were not walked",
                    options.max_app_dirs
                ),
            });
            break;
        }
    }
    if files.len() > options.max_lock_files {
        found.errors.push(MachineError::Budget {
            scan: "lock file scan",
            detail: format!(
                "found {} lock files; only the first {} were read",
                files.len(),
                options.max_lock_files
            ),
        });
        files.truncate(options.max_lock_files);
    }
    for (path, format) in files {
        let bytes = match tree.read_file(&path, options.max_lock_file_bytes) {
            Ok(Some(bytes)) => bytes,
            Ok(None) => continue,
            Err(e) => {
                found.errors.push(MachineError::read(&path, e));
                continue;
            }
        };
        found.lock_files += 1;
        let text = String::from_utf8_lossy(&bytes);
        match parse_lock(&text, format) {
            Ok(pairs) => {
                found
                    .packages
                    .extend(
                        pairs
                            .into_iter()
                            .map(|(ecosystem, name, version)| LanguagePackage {
                                ecosystem: ecosystem.to_owned(),
                                name,
                                version,
                                lock_file: path.clone(),
                            }),
                    )
            }
            Err(detail) => found.errors.push(MachineError::parse(&path, detail)),
        }
    }
    found.packages.sort();
    found.packages.dedup();
    found
}

type Pins = Vec<(&'static str, String, String)>;

fn parse_lock(text: &str, format: LockFormat) -> Result<Pins, String> {
    match format {
        LockFormat::NpmLock => npm_lock(text),
        LockFormat::Yarn => Ok(yarn_lock(text)),
        LockFormat::CargoLock => toml_packages(text, "crates.io", true),
        LockFormat::PoetryLock => toml_packages(text, "PyPI", false),
        LockFormat::Pipfile => pipfile_lock(text),
        LockFormat::Requirements => Ok(requirements(text)),
        LockFormat::Composer => composer_lock(text),
        LockFormat::Gemfile => Ok(gemfile_lock(text)),
    }
}

fn json(text: &str) -> Result<Value, String> {
    serde_json::from_str(text)
        .map_err(|e| format!("invalid JSON at line {} column {}", e.line(), e.column()))
}

/// `package-lock.json` v2/v3 (`packages`, keyed by `node_modules/` path) or
/// v1 (nested `dependencies`).
fn npm_lock(text: &str) -> Result<Pins, String> {
    let doc = json(text)?;
    let mut out = Vec::new();
    if let Some(packages) = doc.get("packages").and_then(Value::as_object) {
        for (key, entry) in packages {
            if key.is_empty() || entry.get("link").and_then(Value::as_bool) == Some(true) {
                continue;
            }
            let Some((_, tail)) = key.rsplit_once("node_modules/") else {
                continue;
            };
            let name = entry.get("name").and_then(Value::as_str).unwrap_or(tail);
            if let Some(version) = entry.get("version").and_then(Value::as_str) {
                out.push(("npm", name.to_owned(), version.to_owned()));
            }
        }
    } else if let Some(deps) = doc.get("dependencies") {
        npm_v1(deps, &mut out, 0);
    }
    Ok(out)
}

fn npm_v1(deps: &Value, out: &mut Pins, depth: usize) {
    let Some(map) = deps.as_object() else { return };
    if depth > 64 {
        return;
    }
    for (name, entry) in map {
        if let Some(version) = entry.get("version").and_then(Value::as_str) {
            out.push(("npm", name.clone(), version.to_owned()));
        }
        if let Some(nested) = entry.get("dependencies") {
            npm_v1(nested, out, depth + 1);
        }
    }
}

/// `yarn.lock`, classic (`version "1.2.3"`) and Berry (`version: 1.2.3`).
fn yarn_lock(text: &str) -> Pins {
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        if !line.starts_with(' ') {
            current = line
                .trim_end_matches(':')
                .split(',')
                .next()
                .map(|spec| spec.trim().trim_matches('"'))
                .and_then(yarn_name)
                .map(str::to_owned);
            continue;
        }
        let trimmed = line.trim();
        let version = trimmed
            .strip_prefix("version ")
            .or_else(|| trimmed.strip_prefix("version:"))
            .map(|v| v.trim().trim_matches('"'));
        if let (Some(version), Some(name)) = (version, current.take())
            && !version.contains("use.local")
        {
            out.push(("npm", name, version.to_owned()));
        }
    }
    out
}

/// `lodash@^4.17.21`, `@babel/core@npm:^7.0.0` → the package name.
fn yarn_name(spec: &str) -> Option<&str> {
    if spec == "__metadata" {
        return None;
    }
    let at = spec.get(1..)?.find('@')? + 1;
    spec.get(..at).filter(|n| !n.is_empty())
}

/// `[[package]]` tables with `name` and `version` (Cargo.lock, poetry.lock).
/// Cargo packages without a `source` are the project's own crates.
fn toml_packages(text: &str, ecosystem: &'static str, needs_source: bool) -> Result<Pins, String> {
    let doc: toml::Table =
        toml::from_str(text).map_err(|e| format!("invalid TOML: {}", e.message()))?;
    let mut out = Vec::new();
    for package in doc
        .get("package")
        .and_then(toml::Value::as_array)
        .into_iter()
        .flatten()
    {
        let field = |k: &str| package.get(k).and_then(toml::Value::as_str);
        if needs_source && field("source").is_none() {
            continue;
        }
        if let (Some(name), Some(version)) = (field("name"), field("version")) {
            out.push((ecosystem, name.to_owned(), version.to_owned()));
        }
    }
    Ok(out)
}

/// `Pipfile.lock`: `default` and `develop`, versions `==1.2.3`.
fn pipfile_lock(text: &str) -> Result<Pins, String> {
    let doc = json(text)?;
    let mut out = Vec::new();
    for section in ["default", "develop"] {
        for (name, entry) in doc
            .get(section)
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            if let Some(version) = entry
                .get("version")
                .and_then(Value::as_str)
                .and_then(|v| v.strip_prefix("=="))
            {
                out.push(("PyPI", name.clone(), version.to_owned()));
            }
        }
    }
    Ok(out)
}

/// Exact pins (`name==1.2.3`, extras and markers allowed) of a
/// `requirements.txt`; ranges and options are not pins.
fn requirements(text: &str) -> Pins {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or_default();
        let line = line.split(';').next().unwrap_or_default().trim();
        let Some((name, version)) = line.split_once("==") else {
            continue;
        };
        let name = name.split('[').next().unwrap_or_default().trim();
        let version = version.split_whitespace().next().unwrap_or_default();
        if name.is_empty()
            || name.starts_with('-')
            || version.is_empty()
            || version.contains(['*', ',', '='])
        {
            continue;
        }
        out.push(("PyPI", name.to_owned(), version.to_owned()));
    }
    out
}

/// `composer.lock`: `packages` and `packages-dev`.
fn composer_lock(text: &str) -> Result<Pins, String> {
    let doc = json(text)?;
    let mut out = Vec::new();
    for section in ["packages", "packages-dev"] {
        for entry in doc
            .get(section)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let field = |k: &str| entry.get(k).and_then(Value::as_str);
            if let (Some(name), Some(version)) = (field("name"), field("version")) {
                let version = version.strip_prefix('v').unwrap_or(version);
                out.push(("Packagist", name.to_owned(), version.to_owned()));
            }
        }
    }
    Ok(out)
}

/// `Gemfile.lock`: the `specs:` of `GEM` sections, `    name (version)`.
fn gemfile_lock(text: &str) -> Pins {
    let mut out = Vec::new();
    let mut in_gem = false;
    for line in text.lines() {
        if !line.starts_with(' ') {
            in_gem = line.trim() == "GEM";
            continue;
        }
        if !in_gem || !line.starts_with("    ") || line.starts_with("     ") {
            continue;
        }
        if let Some((name, rest)) = line.trim().split_once(" (") {
            let version = rest.trim_end_matches(')');
            out.push(("RubyGems", name.to_owned(), version.to_owned()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(pins: &Pins) -> Vec<String> {
        pins.iter()
            .map(|(e, n, v)| format!("{e}:{n}@{v}"))
            .collect()
    }

    #[test]
    fn npm_v3_and_v1() -> Result<(), String> {
        let v3 = r#"{"lockfileVersion":3,"packages":{"":{"name":"app","version":"1.0.0"},
            "node_modules/lodash":{"version":"4.17.21"},
            "node_modules/a/node_modules/@babel/core":{"version":"7.23.0"},
            "node_modules/local":{"link":true,"resolved":"packages/local"}}}"#;
        assert_eq!(
            names(&npm_lock(v3)?),
            ["npm:@babel/core@7.23.0", "npm:lodash@4.17.21"]
        );
        let v1 = r#"{"lockfileVersion":1,"dependencies":{"express":{"version":"4.18.2","dependencies":{"qs":{"version":"6.11.0"}}}}}"#;
        assert_eq!(
            names(&npm_lock(v1)?),
            ["npm:express@4.18.2", "npm:qs@6.11.0"]
        );
        Ok(())
    }

    #[test]
    fn yarn_classic_and_berry() {
        let classic = "# yarn lockfile v1\n\n\"@babel/code-frame@^7.0.0\", \"@babel/code-frame@^7.22.13\":\n  version \"7.22.13\"\n  resolved \"https://x\"\n\nlodash@^4.17.21:\n  version \"4.17.21\"\n";
        assert_eq!(
            names(&yarn_lock(classic)),
            ["npm:@babel/code-frame@7.22.13", "npm:lodash@4.17.21"]
        );
        let berry = "__metadata:\n  version: 6\n\n\"lodash@npm:^4.17.21\":\n  version: 4.17.21\n  resolution: \"lodash@npm:4.17.21\"\n\n\"app@workspace:.\":\n  version: 0.0.0-use.local\n";
        assert_eq!(names(&yarn_lock(berry)), ["npm:lodash@4.17.21"]);
    }

    #[test]
    fn cargo_poetry_pipfile_requirements_composer_gemfile() -> Result<(), String> {
        let cargo = "version = 3\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\n\n[[package]]\nname = \"serde\"\nversion = \"1.0.190\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n";
        assert_eq!(
            names(&toml_packages(cargo, "crates.io", true)?),
            ["crates.io:serde@1.0.190"]
        );
        let poetry = "[[package]]\nname = \"requests\"\nversion = \"2.31.0\"\n";
        assert_eq!(
            names(&toml_packages(poetry, "PyPI", false)?),
            ["PyPI:requests@2.31.0"]
        );
        let pipfile = r#"{"default":{"django":{"version":"==4.2.7"},"git-dep":{"git":"x"}},"develop":{"pytest":{"version":"==7.4.3"}}}"#;
        assert_eq!(
            names(&pipfile_lock(pipfile)?),
            ["PyPI:django@4.2.7", "PyPI:pytest@7.4.3"]
        );
        let reqs = "# pins\nflask==3.0.0\nrequests[socks]==2.31.0 ; python_version >= '3.8'\nnumpy>=1.26\n-r other.txt\nurllib3==2.*\n";
        assert_eq!(
            names(&requirements(reqs)),
            ["PyPI:flask@3.0.0", "PyPI:requests@2.31.0"]
        );
        let composer = r#"{"packages":[{"name":"monolog/monolog","version":"3.5.0"}],"packages-dev":[{"name":"phpunit/phpunit","version":"v10.4.2"}]}"#;
        assert_eq!(
            names(&composer_lock(composer)?),
            [
                "Packagist:monolog/monolog@3.5.0",
                "Packagist:phpunit/phpunit@10.4.2"
            ]
        );
        let gemfile = "GEM\n  remote: https://rubygems.org/\n  specs:\n    actionpack (7.1.2)\n      rack (>= 2.2.4)\n    rack (3.0.8)\n\nPLATFORMS\n  ruby\n\nDEPENDENCIES\n  rails (~> 7.1)\n";
        assert_eq!(
            names(&gemfile_lock(gemfile)),
            ["RubyGems:actionpack@7.1.2", "RubyGems:rack@3.0.8"]
        );
        assert!(npm_lock("{not json").is_err());
        assert!(toml_packages("[[package]\n", "PyPI", false).is_err());
        Ok(())
    }
}

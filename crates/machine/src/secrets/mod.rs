//! Secrets left on a machine: private keys, cloud and database credentials,
//! tokens and passwords in well-known files and shell histories.
//!
//! Reported by path, kind and fingerprint (`sha256:<hex>` of the secret
//! value only). File contents are held in zeroizing buffers and wiped once
//! scanned; secret values are never copied out of them except into
//! zeroizing buffers, never logged and never put into errors or `Debug`
//! output.

use std::collections::BTreeSet;
use std::ops::ControlFlow;

use rampart_disk::{DirEntry, EntryKind, FileTree};
use rampart_model::machine::SecretFinding;

use crate::walk::{Stop, walk};
use crate::{InspectOptions, MachineError};

mod detect;
mod rules;

pub use rules::{Matcher, RULES, SecretRule, rules_markdown};

/// What a secret scan found.
#[derive(Debug, Default)]
pub struct SecretScan {
    /// Secrets found, sorted.
    pub findings: Vec<SecretFinding>,
    /// How many files were scanned.
    pub files_scanned: u64,
    /// Files that could not be read, and budgets that ran out.
    pub errors: Vec<MachineError>,
}

/// Which parsers a candidate file gets (besides the line patterns every
/// text file gets).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FileClass {
    /// A private-key candidate (`~/.ssh/*`, `*.pem`, `*.key`).
    Key,
    /// Files only the line patterns read (`~/.aws/credentials`,
    /// `~/.config/gh/hosts.yml`).
    Text,
    /// `~/.kube/config`.
    Kubeconfig,
    /// `~/.npmrc`.
    Npmrc,
    /// `~/.docker/config.json`.
    Docker,
    /// `~/.git-credentials`.
    GitCredentials,
    /// `~/.netrc`.
    Netrc,
    /// `~/.pgpass`.
    Pgpass,
    /// `~/.my.cnf`.
    MyCnf,
    /// A shell or client history.
    History,
    /// Google Cloud credential JSON.
    Gcloud,
    /// The Google Cloud CLI's SQLite `credentials.db`.
    GcloudDb,
    /// Azure CLI token caches.
    Azure,
    /// `KEY=value` environment files.
    Env,
}

const HISTORIES: [&str; 6] = [
    ".bash_history",
    ".zsh_history",
    ".ash_history",
    ".python_history",
    ".mysql_history",
    ".psql_history",
];

const HOME_FILES: [(&str, FileClass); 14] = [
    (".aws/credentials", FileClass::Text),
    (".aws/config", FileClass::Text),
    (".kube/config", FileClass::Kubeconfig),
    (".npmrc", FileClass::Npmrc),
    (".config/gh/hosts.yml", FileClass::Text),
    (".docker/config.json", FileClass::Docker),
    (".git-credentials", FileClass::GitCredentials),
    (".netrc", FileClass::Netrc),
    (".pgpass", FileClass::Pgpass),
    (".my.cnf", FileClass::MyCnf),
    (
        ".config/gcloud/application_default_credentials.json",
        FileClass::Gcloud,
    ),
    (".azure/accessTokens.json", FileClass::Azure),
    (".azure/msal_token_cache.json", FileClass::Azure),
    (".azure/service_principal_entries.json", FileClass::Azure),
];

/// Where applications live (also walked for lock files).
pub(crate) const APP_DIRS: [&str; 5] = ["/var/www", "/opt", "/srv", "/app", "/usr/src/app"];

/// Finds secrets in the machine's well-known places.
pub fn find_secrets(tree: &dyn FileTree, options: &InspectOptions) -> SecretScan {
    let mut scanner = Scanner {
        tree,
        options,
        scan: SecretScan::default(),
        stopped: false,
        seen: BTreeSet::new(),
    };
    scanner.run();
    let mut scan = scanner.scan;
    scan.findings.sort();
    scan.findings.dedup();
    scan
}

struct Scanner<'a> {
    tree: &'a dyn FileTree,
    options: &'a InspectOptions,
    scan: SecretScan,
    stopped: bool,
    seen: BTreeSet<String>,
}

impl Scanner<'_> {
    fn run(&mut self) {
        let mut homes = vec!["/root".to_owned()];
        if let Some(entries) = self.list("/home") {
            homes.extend(
                entries
                    .iter()
                    .filter(|e| matches!(e.kind, EntryKind::Dir | EntryKind::Symlink))
                    .map(|e| format!("/home/{}", e.name)),
            );
        }
        for home in &homes {
            self.home(home);
        }
        self.file("/etc/environment", FileClass::Env);
        if self.options.report_host_keys
            && let Some(entries) = self.list("/etc/ssh")
        {
            for entry in entries {
                if entry.name.starts_with("ssh_host_") && entry.name.ends_with("_key") {
                    self.file(&format!("/etc/ssh/{}", entry.name), FileClass::Key);
                }
            }
        }
        // `.env` files, keys and credential JSON in application directories.
        let mut dirs_left = self.options.max_app_dirs;
        for dir in APP_DIRS {
            let mut files = Vec::new();
            let mut errors = Vec::new();
            let walked = walk(
                self.tree,
                dir,
                self.options.max_app_depth,
                &mut dirs_left,
                &mut errors,
                &mut |path, entry| {
                    if let Some(class) = app_file_class(&entry.name) {
                        files.push((path.to_owned(), class));
                    }
                    ControlFlow::Continue(())
                },
            );
            self.scan.errors.extend(errors);
            for (path, class) in files {
                self.file(&path, class);
            }
            if let Err(Stop::Budget(at)) = walked {
                self.stop(format!(
                    "listed {} directories under the application directories; `{at}` and the rest were not walked",
                    self.options.max_app_dirs
                ));
                return;
            }
        }
    }

    fn home(&mut self, home: &str) {
        if let Some(entries) = self.list(&format!("{home}/.ssh")) {
            for entry in entries {
                if is_ssh_key_candidate(&entry) {
                    self.file(&format!("{home}/.ssh/{}", entry.name), FileClass::Key);
                }
            }
        }
        for (rel, class) in HOME_FILES {
            self.file(&format!("{home}/{rel}"), class);
        }
        for history in HISTORIES {
            self.file(&format!("{home}/{history}"), FileClass::History);
        }
        self.file(&format!("{home}/.env"), FileClass::Env);
        self.file(
            &format!("{home}/.config/gcloud/credentials.db"),
            FileClass::GcloudDb,
        );
        let legacy = format!("{home}/.config/gcloud/legacy_credentials");
        if let Some(accounts) = self.list(&legacy) {
            for account in accounts.iter().filter(|e| e.kind == EntryKind::Dir) {
                self.file(
                    &format!("{legacy}/{}/adc.json", account.name),
                    FileClass::Gcloud,
                );
            }
        }
    }

    fn list(&mut self, path: &str) -> Option<Vec<DirEntry>> {
        match self.tree.read_dir(path) {
            Ok(entries) => entries,
            Err(e) => {
                self.scan.errors.push(MachineError::read(path, e));
                None
            }
        }
    }

    fn stop(&mut self, detail: String) {
        if !self.stopped {
            self.stopped = true;
            self.scan.errors.push(MachineError::Budget {
                scan: "secret scan",
                detail,
            });
        }
    }

    /// Scans one candidate file (missing files are skipped quietly).
    fn file(&mut self, path: &str, class: FileClass) {
        if self.stopped || !self.seen.insert(path.to_owned()) {
            return;
        }
        if self.scan.files_scanned
            >= u64::try_from(self.options.max_secret_files).unwrap_or(u64::MAX)
        {
            self.stop(format!(
                "scanned {} files; `{path}` and the rest were not scanned",
                self.options.max_secret_files
            ));
            return;
        }
        let content = match self
            .tree
            .read_file(path, self.options.max_secret_file_bytes)
        {
            Ok(Some(bytes)) => detect::Content::new(bytes),
            Ok(None) => return,
            Err(e) => {
                self.scan.errors.push(MachineError::read(path, e));
                return;
            }
        };
        self.scan.files_scanned += 1;
        let scanned = if class == FileClass::GcloudDb {
            detect::gcloud_credentials_db(content.bytes())
        } else {
            let Some(text) = content.text() else {
                // Binary files hold nothing these rules read.
                return;
            };
            detect::scan_text(text, class)
        };
        match scanned {
            Ok(found) => {
                for (kind, fingerprint) in found {
                    self.scan.findings.push(SecretFinding {
                        path: path.to_owned(),
                        kind: kind.to_owned(),
                        fingerprint,
                    });
                }
            }
            Err(detail) => self.scan.errors.push(MachineError::parse(path, detail)),
        }
    }
}

/// `~/.ssh` entries that may be private keys: not public keys, not the
/// client's configuration and host lists.
fn is_ssh_key_candidate(entry: &DirEntry) -> bool {
    let name = entry.name.as_str();
    matches!(entry.kind, EntryKind::File | EntryKind::Symlink)
        && !name.ends_with(".pub")
        && !name.ends_with("-cert.pub")
        && !name.starts_with("authorized_keys")
        && !name.starts_with("known_hosts")
        && !matches!(name, "config" | "environment" | "rc")
}

/// What an application-directory file is scanned as, if at all.
fn app_file_class(name: &str) -> Option<FileClass> {
    let lower = name.to_ascii_lowercase();
    if lower == ".env" {
        return Some(FileClass::Env);
    }
    if let Some(suffix) = lower.strip_prefix(".env.") {
        return (!matches!(
            suffix,
            "example" | "sample" | "dist" | "template" | "defaults" | "default"
        ))
        .then_some(FileClass::Env);
    }
    if lower.ends_with(".pem")
        || lower.ends_with(".key")
        || matches!(
            lower.as_str(),
            "id_rsa" | "id_dsa" | "id_ecdsa" | "id_ed25519"
        )
    {
        return Some(FileClass::Key);
    }
    if lower.ends_with(".json")
        && (lower.contains("credential")
            || lower.contains("service-account")
            || lower.contains("service_account")
            || lower == "key.json"
            || lower.ends_with("-key.json"))
    {
        return Some(FileClass::Gcloud);
    }
    match lower.as_str() {
        ".git-credentials" => Some(FileClass::GitCredentials),
        ".netrc" => Some(FileClass::Netrc),
        ".pgpass" => Some(FileClass::Pgpass),
        ".my.cnf" => Some(FileClass::MyCnf),
        _ => None,
    }
}

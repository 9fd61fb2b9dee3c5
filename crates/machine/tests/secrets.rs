//! Secret rules against planted secrets and their benign look-alikes.

#![allow(clippy::indexing_slicing, reason = "test assertions")]

mod common;

use std::collections::BTreeSet;

use common::{TestResult, fixture, view};
use rampart_disk::HostDir;
use rampart_machine::{InspectOptions, RULES, find_secrets, inspect, rules_markdown};

/// Every secret value planted in `fixtures/secrets` that must fire (and
/// must never appear in any output).
const PLANTED: &[&str] = &[
    "AKIAUJZDEGXDNCF32EPF",
    "2HPcHyGcFRl1SPnXNYvMIHa+2o76umfXfKm+r5kJ",
    "ghp_HgaKwVJ7faC9qEwjky40UVsWmflzdE1F8Res",
    "xoxb-104974650752-9170342366712-cZjR4I0b3jRtaWr4Y9OJFLJO",
    "RootDbPw_81",
    "PgHistPw_42",
    "CurlPw_99",
    "SshPassPw_7",
    // Docker's `auth` is base64 of `user:password`; the whole value is the secret.
    "Y2ktYm90OkRvY2tlckh1YlB3XzM=",
    "GitCredPw_5",
    "NetrcPw_6",
    "Pg:PassPw_4",
    "MyCnfPw_8",
    "ZshPw_9x",
    "EnvFilePw_12",
    "DbUrlPw_55",
    "RedisPw_56",
    "SessSecret_57",
    "MySqlHistPw_21",
    "PsqlHistPw_22",
    "1//0gCredDbToken_31-kQ7dVw9yTzLmNcR4sXa2BfH8jEu6",
    "KubeTok_nA1hEDCM4PmBxdUcl1MhOoSfAqFdpR",
    "npm_aj71FtQUwOgSBEkxGZG2SYE9B2rANN76DeYt",
    "gho_ZaEkoMxrRVFTVA9aw7HIPtGADdzfLrjMcgMu",
];

fn sha256(value: &str) -> String {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(value.as_bytes());
    format!(
        "sha256:{}",
        digest
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    )
}

fn found(options: &InspectOptions) -> Vec<(String, String, String)> {
    find_secrets(&HostDir::new(fixture("secrets")), options)
        .findings
        .into_iter()
        .map(|f| (f.path, f.kind, f.fingerprint))
        .collect()
}

#[test]
fn planted_secrets_fire_with_the_right_kind_and_fingerprint() -> TestResult {
    let scan = find_secrets(
        &HostDir::new(fixture("secrets")),
        &InspectOptions::default(),
    );
    assert!(scan.errors.is_empty(), "{:?}", scan.errors);
    let got: BTreeSet<(String, String)> = scan
        .findings
        .iter()
        .map(|f| (f.path.clone(), f.kind.clone()))
        .collect();
    let expected: BTreeSet<(String, String)> = [
        ("/root/.ssh/id_ed25519", "private-key"),
        ("/root/.ssh/id_rsa_deploy", "encrypted-private-key"),
        ("/root/.bash_history", "generic-password-in-history"),
        ("/root/.bash_history", "github-token"),
        ("/root/.mysql_history", "generic-password-in-history"),
        ("/root/.psql_history", "generic-password-in-history"),
        ("/home/admin/.aws/credentials", "aws-access-key"),
        ("/home/admin/.aws/credentials", "aws-secret-key"),
        ("/home/admin/.docker/config.json", "docker-registry-auth"),
        ("/home/admin/.git-credentials", "git-credential"),
        ("/home/admin/.netrc", "netrc-password"),
        ("/home/admin/.pgpass", "database-password"),
        ("/home/admin/.my.cnf", "database-password"),
        ("/home/admin/.kube/config", "kubeconfig-credential"),
        ("/home/admin/.npmrc", "npm-token"),
        ("/home/admin/.config/gh/hosts.yml", "github-token"),
        ("/home/admin/.zsh_history", "generic-password-in-history"),
        (
            "/home/admin/.config/gcloud/application_default_credentials.json",
            "gcp-user-refresh-token",
        ),
        (
            "/home/admin/.config/gcloud/credentials.db",
            "gcp-user-refresh-token",
        ),
        (
            "/home/admin/.config/gcloud/legacy_credentials/admin@example.com/adc.json",
            "gcp-service-account-key",
        ),
        (
            "/home/admin/.azure/service_principal_entries.json",
            "azure-service-principal-secret",
        ),
        (
            "/home/admin/.azure/msal_token_cache.json",
            "azure-cli-token",
        ),
        ("/etc/environment", "env-secret"),
        ("/var/www/app/.env", "database-password"),
        ("/var/www/app/.env", "slack-token"),
        ("/var/www/app/.env", "env-secret"),
        ("/opt/service/certs/server.key", "private-key"),
        ("/opt/service/certs/legacy.key", "encrypted-private-key"),
        ("/opt/service/certs/pkcs8-enc.pem", "encrypted-private-key"),
    ]
    .into_iter()
    .map(|(p, k)| (p.to_owned(), k.to_owned()))
    .collect();
    assert_eq!(got, expected);

    // Counts per file: each planted value once, look-alikes never.
    let count = |path: &str| scan.findings.iter().filter(|f| f.path == path).count();
    // mysql -p…, PGPASSWORD=…, curl -u, sshpass -p; the token in the URL is a github-token.
    assert_eq!(count("/root/.bash_history"), 5);
    // One key pair; the documentation's EXAMPLE pair stays quiet.
    assert_eq!(count("/home/admin/.aws/credentials"), 2);
    // DATABASE_URL and REDIS_URL passwords, the Slack token, SESSION_SECRET;
    // APP_SECRET=changeme, an empty MAIL_PASSWORD and TOKEN_TTL_SECONDS=3600 stay quiet.
    assert_eq!(count("/var/www/app/.env"), 4);
    // The refresh token only, not the access token.
    assert_eq!(count("/home/admin/.azure/msal_token_cache.json"), 1);
    // A client key and a token; an exec plugin and an empty token stay quiet.
    assert_eq!(count("/home/admin/.kube/config"), 2);
    // One registry token; a `${NPM_TOKEN}` reference stays quiet.
    assert_eq!(count("/home/admin/.npmrc"), 1);
    // One service principal's secret; a certificate-based one with an empty secret stays quiet.
    assert_eq!(
        count("/home/admin/.azure/service_principal_entries.json"),
        1
    );
    // DB_PASSWORD only: the key id alone, an empty API_TOKEN and a comment stay quiet.
    assert_eq!(count("/etc/environment"), 1);

    // Fingerprints are SHA-256 of exactly the secret value.
    let fps: BTreeSet<&str> = scan
        .findings
        .iter()
        .map(|f| f.fingerprint.as_str())
        .collect();
    for value in PLANTED {
        assert!(
            fps.contains(sha256(value).as_str()),
            "no finding fingerprints `{value}`"
        );
    }
    Ok(())
}

#[test]
fn every_rule_kind_has_a_firing_fixture() {
    let kinds: BTreeSet<String> = found(&InspectOptions::default())
        .into_iter()
        .map(|(_, k, _)| k)
        .collect();
    for rule in RULES {
        // `url-password` fires in its own test below (an http URL password
        // in history is already the history rule's).
        if rule.kind == "url-password" {
            continue;
        }
        assert!(
            kinds.contains(rule.kind),
            "no fixture fires `{}`",
            rule.kind
        );
    }
}

#[test]
fn url_passwords_fire_and_placeholders_stay_quiet() -> TestResult {
    let dir = tempfile::tempdir()?;
    std::fs::create_dir_all(dir.path().join("opt/app"))?;
    std::fs::write(
        dir.path().join("opt/app/.env"),
        "UPSTREAM=https://deploy:UrlPw_77@artifacts.internal/repo\nDOCS=https://user:${PASSWORD}@example.com\nPLAIN=https://example.com/a@b\n",
    )?;
    let scan = find_secrets(&HostDir::new(dir.path()), &InspectOptions::default());
    let got: Vec<_> = scan
        .findings
        .iter()
        .map(|f| (f.kind.as_str(), f.fingerprint.clone()))
        .collect();
    assert_eq!(got, [("url-password", sha256("UrlPw_77"))]);
    Ok(())
}

#[test]
fn benign_look_alikes_stay_quiet() -> TestResult {
    let findings = found(&InspectOptions::default());
    let paths: BTreeSet<&str> = findings.iter().map(|(p, _, _)| p.as_str()).collect();
    for quiet in [
        "/root/.ssh/id_ed25519.pub",
        "/root/.ssh/authorized_keys",
        "/root/.ssh/known_hosts",
        "/root/.ssh/config",
        "/home/admin/.aws/config",
        "/home/dev/.ssh/id_rsa.pub",
        "/home/dev/.bash_history",
        "/etc/ssh/ssh_host_ed25519_key",
        "/var/www/app/.env.example",
        "/var/www/app/node_modules/pkg/.env",
        "/opt/service/certs/server.pem",
        "/opt/service/certs/placeholder.key",
        "/opt/service/config/service-account.json",
        "/srv/a/b/c/d/e/.env",
    ] {
        assert!(!paths.contains(quiet), "`{quiet}` fired");
    }
    // Look-alike values planted next to real ones never fire anywhere.
    let fps: BTreeSet<String> = findings.into_iter().map(|(_, _, f)| f).collect();
    for value in [
        "AKIAIOSFODNN7EXAMPLE",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "CommentedPw_11",
        "$SECRET_FROM_VAULT",
        "ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        "CommentedNetrc",
        "CommentedPg",
        "OldPw_0",
        "OldCommented_1",
        "Commented_13",
        "changeme",
        "ExampleLooksReal_1",
        "VendoredPw_2",
        "TooDeepPw_3",
        "3600",
        "<password>",
        "xoxb-your-token-here",
        "${NPM_TOKEN}",
        "",
    ] {
        assert!(!fps.contains(&sha256(value)), "`{value}` fired");
    }
    Ok(())
}

#[test]
fn host_keys_are_reported_only_when_asked() {
    let options = InspectOptions {
        report_host_keys: true,
        ..InspectOptions::default()
    };
    let with = found(&options);
    assert!(
        with.iter()
            .any(|(p, k, _)| p == "/etc/ssh/ssh_host_ed25519_key" && k == "private-key")
    );
    assert!(
        !with
            .iter()
            .any(|(p, _, _)| p == "/etc/ssh/ssh_host_ed25519_key.pub")
    );
}

#[test]
fn budgets_are_errors_not_silence() {
    let options = InspectOptions {
        max_secret_files: 3,
        ..InspectOptions::default()
    };
    let scan = find_secrets(&HostDir::new(fixture("secrets")), &options);
    assert_eq!(scan.files_scanned, 3);
    assert_eq!(scan.errors.len(), 1);
    assert!(
        scan.errors[0]
            .to_string()
            .starts_with("secret scan stopped early: scanned 3 files;")
    );
    let options = InspectOptions {
        max_app_dirs: 2,
        ..InspectOptions::default()
    };
    let inventory = inspect(&HostDir::new(fixture("secrets")), &options);
    let messages = inventory.error_messages();
    assert!(
        messages.iter().any(|m| m.starts_with(
            "secret scan stopped early: listed 2 directories under the application directories;"
        )),
        "{messages:?}"
    );
    assert!(
        messages.iter().any(|m| m.starts_with(
            "lock file scan stopped early: listed 2 directories looking for lock files;"
        )),
        "{messages:?}"
    );
    let options = InspectOptions {
        max_secret_file_bytes: 64,
        ..InspectOptions::default()
    };
    let scan = find_secrets(&HostDir::new(fixture("secrets")), &options);
    assert!(scan.errors.iter().any(|e| e.to_string()
        == "cannot read `/root/.ssh/id_ed25519`: `/root/.ssh/id_ed25519` is larger than 64 bytes"));
}

#[test]
fn no_secret_value_reaches_any_output() -> TestResult {
    let options = InspectOptions {
        report_host_keys: true,
        ..InspectOptions::default()
    };
    let inventory = inspect(&HostDir::new(fixture("secrets")), &options);
    assert!(!inventory.secrets.is_empty());
    let debug = format!("{inventory:?} {:?}", inventory.secrets);
    let json = serde_json::to_string(&view(&inventory))?;
    // A broken JSON credential file: its error names the place, not the content.
    let dir = tempfile::tempdir()?;
    std::fs::create_dir_all(dir.path().join("root/.docker"))?;
    std::fs::write(
        dir.path().join("root/.docker/config.json"),
        "{\"auths\": {\"x\": {\"auth\": \"RootDbPw_81\"",
    )?;
    std::fs::create_dir_all(dir.path().join("root/.config/gcloud"))?;
    std::fs::write(
        dir.path().join("root/.config/gcloud/credentials.db"),
        "RootDbPw_81 is not SQLite",
    )?;
    let broken = inspect(&HostDir::new(dir.path()), &options);
    let errors = broken.error_messages().join("\n");
    assert!(
        errors.contains("cannot parse `/root/.docker/config.json`: invalid JSON"),
        "{errors}"
    );
    assert!(
        errors
            .contains("cannot parse `/root/.config/gcloud/credentials.db`: not an SQLite database"),
        "{errors}"
    );
    for value in PLANTED {
        assert!(!debug.contains(value), "`{value}` in Debug output");
        assert!(!json.contains(value), "`{value}` in JSON output");
        assert!(!errors.contains(value), "`{value}` in an error");
    }
    Ok(())
}

#[test]
fn secrets_snapshot() {
    let inventory = inspect(
        &HostDir::new(fixture("secrets")),
        &InspectOptions::default(),
    );
    insta::assert_json_snapshot!("secrets", view(&inventory));
}

#[test]
fn the_readme_rules_table_is_the_rules_data() -> TestResult {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");
    let readme = std::fs::read_to_string(path)?;
    let (head, rest) = readme
        .split_once("<!-- rules:start -->\n")
        .ok_or("no rules:start marker")?;
    let (table, tail) = rest
        .split_once("<!-- rules:end -->")
        .ok_or("no rules:end marker")?;
    let want = rules_markdown();
    if std::env::var_os("RAMPART_UPDATE_README").is_some() {
        std::fs::write(
            path,
            format!("{head}<!-- rules:start -->\n{want}<!-- rules:end -->{tail}"),
        )?;
        return Ok(());
    }
    assert_eq!(
        table, want,
        "README.md's rules table is stale: run with RAMPART_UPDATE_README=1"
    );
    Ok(())
}

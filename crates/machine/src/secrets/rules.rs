//! The secret rules, as data: each kind of secret, what it looks like and
//! where it is looked for. Token-shaped rules carry their pattern here;
//! rules for structured files (`.pgpass`, Docker's `config.json`, …) name
//! the file format their parser reads. The README's table is generated from
//! this list (and a test keeps the two equal).

/// How a rule recognises its secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Matcher {
    /// A regular expression over each non-comment line; capture group 1 is
    /// the secret.
    Pattern(&'static str),
    /// A parser for a file format (named for the README).
    Parser(&'static str),
}

/// One secret rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecretRule {
    /// The finding's `kind`.
    pub kind: &'static str,
    /// What the secret is and what stays quiet.
    pub description: &'static str,
    /// Where the rule looks.
    pub scope: &'static str,
    /// How it recognises the secret.
    pub matcher: Matcher,
}

/// Where the line-pattern rules apply.
const EVERY_FILE: &str = "every scanned file";

/// Every rule, in the order they run (specific before generic: a secret
/// already reported in a file by an earlier rule is not reported again).
pub static RULES: &[SecretRule] = &[
    SecretRule {
        kind: "private-key",
        description: "an unencrypted PEM or OpenSSH private key (`-----BEGIN … PRIVATE KEY-----`); public keys, certificates and placeholder bodies stay quiet",
        scope: "`~/.ssh/*` (not `*.pub`, `authorized_keys`, `known_hosts`, `config`), key files in application directories, every scanned text file",
        matcher: Matcher::Parser("PEM / OpenSSH key block"),
    },
    SecretRule {
        kind: "encrypted-private-key",
        description: "a passphrase-protected private key (`ENCRYPTED PRIVATE KEY`, `Proc-Type: 4,ENCRYPTED`, OpenSSH cipher other than `none`)",
        scope: "as `private-key`",
        matcher: Matcher::Parser("PEM / OpenSSH key block"),
    },
    SecretRule {
        kind: "aws-secret-key",
        description: "an AWS secret access key assigned to `aws_secret_access_key` / `AWS_SECRET_ACCESS_KEY` / `SecretAccessKey` (40 characters); values containing `EXAMPLE` stay quiet",
        scope: EVERY_FILE,
        matcher: Matcher::Pattern(
            r#"(?i)(?:aws_secret_access_key|aws_secret_key|secret_access_key|secretaccesskey)["']?\s*[:=]\s*["']?([A-Za-z0-9/+=]{40})(?:[^A-Za-z0-9/+=]|$)"#,
        ),
    },
    SecretRule {
        kind: "aws-access-key",
        description: "an AWS access key id (`AKIA…`, `ASIA…`) in a file that also holds an AWS secret access key (an id alone is not a credential); ids containing `EXAMPLE` stay quiet",
        scope: EVERY_FILE,
        matcher: Matcher::Pattern(r"(?:^|[^A-Z0-9])((?:AKIA|ASIA)[A-Z2-7]{16})(?:[^A-Z0-9]|$)"),
    },
    SecretRule {
        kind: "gcp-service-account-key",
        description: "a Google Cloud service account key (JSON with `\"type\": \"service_account\"` and a `private_key`)",
        scope: "`~/.config/gcloud/application_default_credentials.json`, `legacy_credentials/*/adc.json`, `credentials.db` (SQLite, opened in memory), credential-named JSON files in application directories",
        matcher: Matcher::Parser("JSON"),
    },
    SecretRule {
        kind: "gcp-user-refresh-token",
        description: "a Google Cloud user's refresh token (`\"type\": \"authorized_user\"` with a `refresh_token`)",
        scope: "as `gcp-service-account-key`",
        matcher: Matcher::Parser("JSON"),
    },
    SecretRule {
        kind: "azure-service-principal-secret",
        description: "an Azure service principal's `client_secret` kept by the Azure CLI",
        scope: "`~/.azure/service_principal_entries.json`",
        matcher: Matcher::Parser("JSON"),
    },
    SecretRule {
        kind: "azure-cli-token",
        description: "an Azure CLI refresh token (`refreshToken`, or a `RefreshToken` entry's `secret` in the MSAL cache)",
        scope: "`~/.azure/accessTokens.json`, `~/.azure/msal_token_cache.json`",
        matcher: Matcher::Parser("JSON"),
    },
    SecretRule {
        kind: "docker-registry-auth",
        description: "a registry login in Docker's `config.json` (`auths.*.auth` or `identitytoken`); entries without one (a credential store is used) stay quiet",
        scope: "`~/.docker/config.json`",
        matcher: Matcher::Parser("JSON"),
    },
    SecretRule {
        kind: "git-credential",
        description: "a password or token in a `~/.git-credentials` URL (`https://user:token@host`)",
        scope: "`~/.git-credentials`",
        matcher: Matcher::Parser("one URL a line"),
    },
    SecretRule {
        kind: "netrc-password",
        description: "a `password` token in `.netrc`",
        scope: "`~/.netrc`",
        matcher: Matcher::Parser("netrc tokens"),
    },
    SecretRule {
        kind: "kubeconfig-credential",
        description: "a Kubernetes user credential in a kubeconfig: `client-key-data` (a private key), `token`, `password`; empty and placeholder values stay quiet",
        scope: "`~/.kube/config`",
        matcher: Matcher::Parser("kubeconfig lines"),
    },
    SecretRule {
        kind: "npm-token",
        description: "an npm registry credential (`_authToken`, `_auth`, `_password`, optionally registry-scoped); `${NPM_TOKEN}` references stay quiet",
        scope: "`~/.npmrc`",
        matcher: Matcher::Parser("npmrc lines"),
    },
    SecretRule {
        kind: "github-token",
        description: "a GitHub token (`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_` and 36 characters), e.g. the GitHub CLI's `~/.config/gh/hosts.yml`",
        scope: EVERY_FILE,
        matcher: Matcher::Pattern(r"\b(gh[pousr]_[A-Za-z0-9]{36})\b"),
    },
    SecretRule {
        kind: "github-token",
        description: "a fine-grained GitHub token (`github_pat_…`)",
        scope: EVERY_FILE,
        matcher: Matcher::Pattern(r"\b(github_pat_[A-Za-z0-9_]{82})\b"),
    },
    SecretRule {
        kind: "slack-token",
        description: "a Slack token (`xoxb-`, `xoxp-`, `xoxa-`, `xoxo-`, `xoxr-`, `xoxs-`)",
        scope: EVERY_FILE,
        matcher: Matcher::Pattern(r"\b(xox[baposr]-[A-Za-z0-9-]{10,})\b"),
    },
    SecretRule {
        kind: "database-password",
        description: "a PostgreSQL `.pgpass` password, a MySQL option file `password=`, or a password in a database URL (`postgres://user:pass@host`, `mysql://`, `mongodb://`, `redis://`, `amqp://`); empty and placeholder passwords stay quiet",
        scope: "`~/.pgpass`, `~/.my.cnf`; URLs in every scanned file",
        matcher: Matcher::Pattern(
            r"(?i)\b(?:postgres|postgresql|mysql|mariadb|mongodb|mongodb\+srv|redis|rediss|amqp|amqps)://[^:@/\s'\x22]*:([^@/\s'\x22]+)@",
        ),
    },
    SecretRule {
        kind: "url-password",
        description: "a password in an `http(s)://user:pass@host` URL",
        scope: EVERY_FILE,
        matcher: Matcher::Pattern(r"(?i)\bhttps?://[^:@/\s'\x22]*:([^@/\s'\x22]+)@"),
    },
    SecretRule {
        kind: "generic-password-in-history",
        description: "a password typed on a command line: `mysql -p<pw>`, `--password=<pw>`, `sshpass -p <pw>`, `curl -u user:<pw>`, `PGPASSWORD=` / `MYSQL_PWD=` / `*_PASSWORD=` / `*_TOKEN=` / `*_SECRET=` assignments, SQL `IDENTIFIED BY '<pw>'` and `CREATE/ALTER USER … PASSWORD '<pw>'`; a bare `-p` (prompt), variables (`$PW`) and empty values stay quiet",
        scope: "shell and client histories (`.bash_history`, `.zsh_history`, `.ash_history`, `.python_history`, `.mysql_history`, `.psql_history`)",
        matcher: Matcher::Parser("history command lines"),
    },
    SecretRule {
        kind: "env-secret",
        description: "a value assigned to a `*PASSWORD*`, `*PASSWD*`, `*SECRET*`, `*TOKEN*`, `*API_KEY*` or `*PRIVATE_KEY*` variable; placeholders and variable references stay quiet",
        scope: "`/etc/environment`, `.env` files (not `.env.example`, `.env.sample`, `.env.dist`, `.env.template`) in homes and application directories",
        matcher: Matcher::Parser("KEY=value lines"),
    },
];

/// The rules as a Markdown table (the README's).
pub fn rules_markdown() -> String {
    let mut out = String::from("| kind | what | where | how |\n| --- | --- | --- | --- |\n");
    for rule in RULES {
        let how = match rule.matcher {
            Matcher::Pattern(p) => format!("pattern `{}`", p.replace('|', "\\|")),
            Matcher::Parser(p) => p.to_owned(),
        };
        out.push_str(&format!(
            "| `{}` | {} | {} | {} |\n",
            rule.kind, rule.description, rule.scope, how
        ));
    }
    out
}

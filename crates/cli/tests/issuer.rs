//! `rampart issuer` end to end: init, show, export, rotate, thumbprint.

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test code: a failure should stop the test"
)]

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Output;

use rampart_testkit::{describe, rampart_command, stdout_json};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_rampart");
const URL: &str = "https://id.example.test/rampart";

fn run(db: &Path, args: &[&str]) -> Output {
    rampart_command(BIN)
        .env_remove("RAMPART_KEYS_DIR")
        .args(args)
        .arg("--db")
        .arg(db)
        .arg("-vv")
        .output()
        .unwrap()
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// Base64 lines of every private key file in `keys`.
fn private_key_lines(keys: &Path) -> Vec<String> {
    std::fs::read_dir(keys)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "pem"))
        .flat_map(|p| {
            std::fs::read_to_string(p)
                .unwrap()
                .lines()
                .filter(|l| !l.starts_with("-----"))
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn init_show_export_rotate() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("rampart.db");
    let keys = tmp.path().join("keys");
    let mut outputs = Vec::new();

    let out = run(&db, &["issuer", "show"]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("rampart issuer init"));

    let out = run(
        &db,
        &["issuer", "init", "--issuer-url", "http://id.example.test"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("must use https"));
    assert!(!keys.join("issuer.json").exists());

    let out = run(&db, &["issuer", "init", "--issuer-url", &format!("{URL}/")]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    outputs.push(out);
    assert_eq!(mode(&keys), 0o700);
    let pems: Vec<_> = std::fs::read_dir(&keys)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "pem"))
        .collect();
    assert_eq!(pems.len(), 1);
    assert_eq!(mode(&pems[0]), 0o600);

    let out = run(&db, &["issuer", "init", "--issuer-url", URL]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--force"));

    let out = run(&db, &["issuer", "show", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let shown = stdout_json(&out);
    outputs.push(out);
    assert_eq!(shown["issuer_url"], URL);
    assert_eq!(shown["jwks_uri"], format!("{URL}/.well-known/jwks.json"));
    assert_eq!(shown["keys"].as_array().unwrap().len(), 1);
    assert_eq!(shown["keys"][0]["signing"], true);
    let first_kid = shown["keys"][0]["kid"].as_str().unwrap().to_owned();

    let out = run(&db, &["issuer", "show"]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(text.contains(URL) && text.contains(&first_kid), "{text}");
    outputs.push(out);

    let site = tmp.path().join("site");
    let out = run(&db, &["issuer", "export", "--dir", site.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    outputs.push(out);
    let discovery = read_json(&site.join(".well-known/openid-configuration"));
    assert_eq!(discovery["issuer"], URL);
    let jwks = read_json(&site.join(".well-known/jwks.json"));
    assert_eq!(jwks["keys"][0]["kid"], first_kid.as_str());

    let out = run(&db, &["issuer", "rotate"]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains(&first_kid));
    outputs.push(out);
    let out = run(&db, &["issuer", "export", "--dir", site.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    outputs.push(out);
    let jwks = read_json(&site.join(".well-known/jwks.json"));
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert_eq!(kids.len(), 2);
    assert_eq!(kids[0], first_kid);
    let out = run(&db, &["issuer", "show", "--format", "json"]);
    let shown = stdout_json(&out);
    outputs.push(out);
    assert_eq!(shown["keys"][0]["signing"], false);
    assert!(shown["keys"][0]["published_until"].is_string());
    assert_eq!(shown["keys"][1]["kid"], kids[1]);

    // Nothing a command printed (stdout, or stderr at -vv) holds key material.
    let secret_lines = private_key_lines(&keys);
    assert!(secret_lines.len() > 20);
    for out in &outputs {
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!all.contains("PRIVATE KEY"), "{all}");
        for line in &secret_lines {
            assert!(!all.contains(line.as_str()), "{all}");
        }
    }

    let out = run(&db, &["issuer", "init", "--issuer-url", URL, "--force"]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let out = run(&db, &["issuer", "show", "--format", "json"]);
    let shown = stdout_json(&out);
    assert_eq!(shown["keys"].as_array().unwrap().len(), 1);
    assert_ne!(shown["keys"][0]["kid"], first_kid.as_str());
}

#[test]
fn thumbprint_of_an_unreachable_host_is_a_usage_error() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("rampart.db");
    let url = format!("https://127.0.0.1:{}", rampart_testkit::free_port());
    let out = run(&db, &["issuer", "thumbprint", "--url", &url]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("cannot read the TLS certificate chain"),
        "{}",
        describe(&out)
    );
}

#[test]
fn the_issuer_moves_into_the_store_and_stays_there() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("rampart.db");
    let keys = tmp.path().join("keys");
    let out = run(&db, &["issuer", "init", "--issuer-url", URL]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let out = run(&db, &["issuer", "rotate"]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let before = stdout_json(&run(&db, &["issuer", "show", "--format", "json"]));
    assert_eq!(before["kept_in"], "keys_dir");
    let secret_lines = private_key_lines(&keys);
    assert!(secret_lines.len() > 40);

    let out = run(&db, &["issuer", "move-to-store"]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        text.contains("2 keys") && text.contains("classic.key"),
        "{text}"
    );
    // The keys directory keeps only the sealing key; the store holds no
    // private key in the clear.
    let names: Vec<String> = std::fs::read_dir(&keys)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, vec!["classic.key".to_owned()]);
    assert_eq!(mode(&keys.join("classic.key")), 0o600);
    // SQLite keeps recent writes in its write-ahead log beside the file.
    let mut bytes = std::fs::read(&db).unwrap();
    bytes.extend(std::fs::read(db.with_extension("db-wal")).unwrap_or_default());
    let stored = String::from_utf8_lossy(&bytes).into_owned();
    assert!(stored.contains("issuer_keys"));
    for line in &secret_lines {
        assert!(!stored.contains(line.as_str()));
    }

    let after = stdout_json(&run(&db, &["issuer", "show", "--format", "json"]));
    assert_eq!(after["kept_in"], "store");
    assert_eq!(after["issuer_url"], URL);
    assert_eq!(after["keys"], before["keys"]);
    let text = String::from_utf8_lossy(&run(&db, &["issuer", "show"]).stdout).into_owned();
    assert!(text.contains("kept in    the store"), "{text}");

    // Rotation and export work on the store's issuer.
    let out = run(&db, &["issuer", "rotate"]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let site = tmp.path().join("site");
    let out = run(&db, &["issuer", "export", "--dir", site.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let jwks = read_json(&site.join(".well-known/jwks.json"));
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 3);
    assert!(!keys.join("issuer.json").exists());

    // A second issuer beside it is refused, in either place.
    let out = run(&db, &["issuer", "init", "--issuer-url", URL]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--in-store --force"));
    let out = run(&db, &["issuer", "init", "--in-store", "--issuer-url", URL]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists in the store"));
    let out = run(&db, &["issuer", "move-to-store"]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    // Replacing it in the store starts over with one key.
    let out = run(
        &db,
        &[
            "issuer",
            "init",
            "--in-store",
            "--force",
            "--issuer-url",
            URL,
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("in the store"));
    let shown = stdout_json(&run(&db, &["issuer", "show", "--format", "json"]));
    assert_eq!(shown["keys"].as_array().unwrap().len(), 1);
}

//! moto's request recorder: what Rampart actually sent.
//!
//! Start moto with [`Moto::start_recording_to`], then wrap the calls to
//! watch in [`Moto::recorded`]; it returns every request moto received
//! meanwhile, with headers and (decoded) body.

use std::path::{Path, PathBuf};

use base64::Engine;
use serde_json::Value;

use crate::Moto;

/// One request moto's recorder saw.
#[derive(Debug, Clone)]
pub struct Request {
    /// The request's headers (a JSON object).
    pub headers: Value,
    /// The request's body, as text.
    pub body: String,
}

impl Request {
    /// A header's value (names compared case-insensitively).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .as_object()?
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| v.as_str())
    }

    /// A form field of the body (query-protocol calls such as STS'),
    /// percent-decoded.
    pub fn form(&self, key: &str) -> Option<String> {
        self.body.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            (k == key).then(|| decode(v))
        })
    }

    /// Whether this is a query-protocol call of `action`.
    pub fn is_action(&self, action: &str) -> bool {
        self.form("Action").as_deref() == Some(action)
    }
}

/// Percent-decodes a form value (`+` is a space).
pub fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'%' => {
                let byte = bytes
                    .get(i + 1..i + 3)
                    .and_then(|hex| std::str::from_utf8(hex).ok())
                    .and_then(|hex| u8::from_str_radix(hex, 16).ok())
                    .unwrap_or_else(|| panic!("bad percent escape in {text:?}"));
                out.push(byte);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).expect("form value is UTF-8")
}

impl Moto {
    /// Starts moto with its recorder writing to `file` (recording starts
    /// with [`Moto::recorded`]).
    pub fn start_recording_to(file: &Path) -> Self {
        let path = file.to_str().expect("recording path is UTF-8");
        let mut moto = Self::start_with_env(&[("MOTO_RECORDER_FILEPATH", path)]);
        moto.recording = Some(file.to_path_buf());
        moto
    }

    /// Runs `during` with moto's recorder on; returns the requests moto
    /// received meanwhile, oldest first.
    pub fn recorded(&self, during: impl FnOnce()) -> Vec<Request> {
        let file: PathBuf = self
            .recording
            .clone()
            .expect("moto was not started with `Moto::start_recording_to`");
        let _ = std::fs::remove_file(&file);
        self.moto_api("/moto-api/recorder/start-recording");
        during();
        self.moto_api("/moto-api/recorder/stop-recording");
        std::fs::read_to_string(&file)
            .unwrap_or_default()
            .lines()
            .map(|line| {
                let entry: Value = serde_json::from_str(line).expect("recorder line is JSON");
                let body = entry
                    .get("body")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let body = if entry.get("body_encoded").and_then(Value::as_bool) == Some(true) {
                    let bytes = base64::engine::general_purpose::STANDARD
                        .decode(body)
                        .expect("recorded body is base64");
                    String::from_utf8_lossy(&bytes).into_owned()
                } else {
                    body.to_owned()
                };
                Request {
                    headers: entry.get("headers").cloned().unwrap_or_default(),
                    body,
                }
            })
            .collect()
    }

    /// POSTs to moto's own API (`/moto-api/...`); panics unless it answers 200.
    pub fn moto_api(&self, path: &str) {
        let response = self
            .request("POST", path)
            .unwrap_or_else(|| panic!("moto did not answer {path}"));
        assert!(
            response.starts_with("HTTP/1.1 200") || response.starts_with("HTTP/1.0 200"),
            "{path}: {response}"
        );
    }
}

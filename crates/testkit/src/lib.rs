//! Test support for Rampart's integration tests: a private moto server on a
//! free loopback port (stopped by its PID when dropped), seeding scripts, and
//! a helper to run the `rampart` binary against it.
//!
//! The moto install comes from `scripts/tools-env.sh` (a venv under
//! `~/.cache/rampart/tools` or `$RAMPART_TOOLS_DIR`); `RAMPART_MOTO_SERVER`
//! and `RAMPART_PYTHON` override the paths.

#![expect(
    clippy::panic,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "test support fails loudly"
)]

pub mod alerts;
pub mod cloudtrail;
pub mod disk;
pub mod estate;
pub mod http;
pub mod machines;
pub mod osv;
pub mod postgres;
pub mod recorder;
pub mod ssm;
pub mod synthetic;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The workspace root.
///
/// Read from the test's own `CARGO_MANIFEST_DIR` at run time when cargo sets
/// it (`cargo test` does), so a build reused from another checkout of the
/// same target directory still finds this checkout's scripts.
pub fn workspace_root() -> PathBuf {
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .filter(|dir| dir.join("Cargo.toml").exists())
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    manifest_dir
        .ancestors()
        .nth(2)
        .map(Path::to_path_buf)
        .expect("workspace root")
}

fn tools_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("RAMPART_TOOLS_DIR") {
        return PathBuf::from(dir);
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/root"));
    home.join(".cache").join("rampart").join("tools")
}

fn tool(env: &str, name: &str) -> PathBuf {
    if let Some(path) = std::env::var_os(env) {
        return PathBuf::from(path);
    }
    let path = tools_dir().join("venv").join("bin").join(name);
    assert!(
        path.exists(),
        "`{}` not found: run `scripts/tools-env.sh` first (or set {env})",
        path.display()
    );
    path
}

/// The venv's Python (with boto3).
pub fn python() -> PathBuf {
    tool("RAMPART_PYTHON", "python")
}

/// `scripts/moto-watched.py SCRIPT` under the tools' Python: moto's server
/// script (`moto_server`, `RAMPART_MOTO_SERVER`) or a wrapper script,
/// exiting when its stdin closes.
fn watched(script: &Path) -> Command {
    let mut cmd = Command::new(python());
    cmd.arg(workspace_root().join("scripts").join("moto-watched.py"))
        .arg(script);
    cmd
}

/// A moto server on 127.0.0.1, stopped when dropped, and gone with the
/// test process even when never dropped (a `static`): it runs under
/// `scripts/moto-watched.py`, which exits when its stdin, held here,
/// closes.
#[derive(Debug)]
pub struct Moto {
    child: Child,
    /// The watched server's stdin: closed when the test process ends.
    _lifeline: Option<ChildStdin>,
    port: u16,
    /// The recorder's file ([`Moto::start_recording_to`]).
    recording: Option<PathBuf>,
}

impl Moto {
    /// Starts moto on a free port with the settings Rampart's tests need.
    pub fn start() -> Self {
        Self::start_with_env(&[])
    }

    /// Starts moto with extra environment variables.
    pub fn start_with_env(extra: &[(&str, &str)]) -> Self {
        let server = tool("RAMPART_MOTO_SERVER", "moto_server");
        Self::spawn(|| watched(&server), extra)
    }

    /// Starts moto behind the SSM emulator (`scripts/moto-ssm.py`): the
    /// Systems Manager operations moto lacks (managed instances, patch
    /// states, compliance summaries, inventory, associations) answer in the
    /// real wire protocol on the same endpoint; everything else is moto's.
    /// Seed what an SSM Agent would report with [`Moto::ssm_seed`] and
    /// friends.
    pub fn start_with_ssm_emulator() -> Self {
        let script = workspace_root().join("scripts").join("moto-ssm.py");
        Self::spawn(|| watched(&script), &[])
    }

    fn spawn(command: impl Fn() -> Command, extra: &[(&str, &str)]) -> Self {
        for _ in 0..5 {
            let port = free_port();
            let mut cmd = command();
            cmd.args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .env("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
                .env(
                    "MOTO_AMIS_PATH",
                    workspace_root().join("scripts").join("moto-amis.json"),
                )
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            for (k, v) in extra {
                cmd.env(k, v);
            }
            let mut child = cmd.spawn().expect("spawn moto_server");
            let lifeline = child.stdin.take();
            let mut moto = Self {
                child,
                _lifeline: lifeline,
                port,
                recording: None,
            };
            if moto.wait_ready(Duration::from_secs(30)) {
                return moto;
            }
        }
        panic!("moto_server did not start");
    }

    fn wait_ready(&mut self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            if self
                .request("GET", "/moto-api/")
                .is_some_and(|r| r.starts_with("HTTP/1.1 200") || r.starts_with("HTTP/1.0 200"))
            {
                return true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    }

    /// The endpoint URL (`http://127.0.0.1:PORT`).
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The server's PID.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Wipes all state (`POST /moto-api/reset`).
    pub fn reset(&self) {
        let response = self.request("POST", "/moto-api/reset").expect("reset moto");
        assert!(response.contains(" 200 "), "moto reset failed: {response}");
    }

    fn request(&self, method: &str, path: &str) -> Option<String> {
        self.request_with_body(method, path, "")
    }

    fn request_with_body(&self, method: &str, path: &str, body: &str) -> Option<String> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .ok()?;
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n{}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.port,
            if body.is_empty() { "" } else { "Content-Type: application/json\r\n" },
            body.len()
        )
        .ok()?;
        let mut response = String::new();
        stream.read_to_string(&mut response).ok()?;
        Some(response)
    }

    /// Runs a Python seeding script from `scripts/` against this server.
    pub fn seed(&self, script: &str, args: &[&str]) -> Output {
        let output = Command::new(python())
            .arg(workspace_root().join("scripts").join(script))
            .arg("--endpoint")
            .arg(self.url())
            .args(args)
            .envs(aws_env())
            .output()
            .expect("run seed script");
        assert!(
            output.status.success(),
            "{script} failed:\n{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        output
    }

    /// Seeds the demo account (`scripts/seed-demo.py`).
    pub fn seed_demo(&self) {
        self.seed("seed-demo.py", &[]);
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Dummy credentials and region for moto.
pub fn aws_env() -> Vec<(&'static str, &'static str)> {
    vec![
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_SESSION_TOKEN", "testing"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
    ]
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind(("127.0.0.1", 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// Runs the `rampart` binary with moto's credentials and a clean AWS
/// environment (no profile, no endpoint from the caller's shell).
pub fn rampart(bin: &str, args: &[&str]) -> Output {
    rampart_command(bin)
        .args(args)
        .output()
        .expect("run rampart")
}

/// The `rampart` command, prepared like [`rampart`] but not started.
pub fn rampart_command(bin: &str) -> Command {
    let mut cmd = Command::new(bin);
    for var in [
        "AWS_PROFILE",
        "AWS_ENDPOINT_URL",
        "RAMPART_DB",
        "AWS_CONFIG_FILE",
        "AWS_SHARED_CREDENTIALS_FILE",
    ] {
        cmd.env_remove(var);
    }
    // moto is not AWS: no per-account cap on calls (its own tests set one).
    cmd.envs(aws_env())
        .env("RAMPART_ACCOUNT_RATE", "0")
        .stdin(Stdio::null());
    cmd
}

/// Output as text, for assertion messages.
pub fn describe(output: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}\n--- stderr\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Parses a command's stdout as JSON.
pub fn stdout_json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", describe(output)))
}

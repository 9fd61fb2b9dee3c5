//! A moto server that a test never drops (a `static`, as every test binary
//! keeps its fixture) still ends with the test process.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a failure should stop the test"
)]

use std::process::Command;
use std::time::{Duration, Instant};

use rampart_testkit::Moto;

/// Set in the child test process that starts moto and never stops it.
const CHILD: &str = "RAMPART_TEST_MOTO_LIFELINE_CHILD";

/// Whether process `pid` is still running (a zombie waiting for its
/// reaper counts as gone).
fn running(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        let state = stat.rsplit(')').next().unwrap_or_default().trim_start();
        !state.starts_with('Z')
    })
}

#[test]
fn moto_ends_with_the_test_process_that_never_dropped_it() {
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--ignored", "--exact", "leaves_moto_running", "--nocapture"])
        .env(CHILD, "1")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let pid: u32 = stdout
        .lines()
        .find_map(|l| l.strip_prefix("moto pid "))
        .expect("the child printed moto's pid")
        .trim()
        .parse()
        .unwrap();
    // The child test process has exited; its moto follows within seconds.
    let deadline = Instant::now() + Duration::from_secs(20);
    while running(pid) {
        assert!(
            Instant::now() < deadline,
            "moto ({pid}) outlived the test process that started it"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Run by the test above in a child process: starts moto, checks it
/// answers, and forgets it, as a `static` fixture does.
#[test]
#[ignore = "run by moto_ends_with_the_test_process_that_never_dropped_it"]
fn leaves_moto_running() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    let moto = Moto::start();
    assert!(running(moto.pid()));
    println!("moto pid {}", moto.pid());
    std::mem::forget(moto);
}

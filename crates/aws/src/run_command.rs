//! SSM Run Command: send one document to one managed instance and wait for
//! its result (`SendCommand`, then `GetCommandInvocation` until the
//! invocation ends). Used by the SQL plan's vulnerability assessment, which
//! runs a read-only PowerShell script on the SQL Server's host.
//!
//! Right after `SendCommand`, `GetCommandInvocation` may answer
//! `InvocationDoesNotExist` for a moment: that is waited out like
//! `Pending`/`InProgress`. The wait is bounded by the caller's timeout; the
//! output is whatever SSM returns (at most 24,000 characters of standard
//! output: callers must size their output to it).

use std::time::{Duration, Instant};

use aws_sdk_ssm::types::CommandInvocationStatus;

use crate::AwsAccess;
use crate::collectors::Operation;
use crate::error::{CallFailure, classify};
use crate::op;

/// The calls this module makes.
pub const OPERATIONS: &[Operation] = &[
    op!("ssm", "SendCommand"),
    op!("ssm", "GetCommandInvocation"),
];

/// What to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandRequest {
    /// The managed instance (`i-…`).
    pub instance_id: String,
    /// The SSM document (`AWS-RunPowerShellScript`, `AWS-RunShellScript`).
    pub document: String,
    /// The document's `commands` parameter.
    pub commands: Vec<String>,
    /// Shown in the SSM console.
    pub comment: String,
    /// How long SSM lets the command run (`TimeoutSeconds`, at least 30).
    pub execution_timeout: Duration,
}

/// How a finished invocation ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandResult {
    /// SSM's command id.
    pub command_id: String,
    /// `Success`, `Failed`, `TimedOut`, `Cancelled`, …
    pub status: String,
    /// The script's exit code (-1 when none).
    pub response_code: i32,
    /// Standard output (SSM keeps the first 24,000 characters).
    pub stdout: String,
    /// Standard error (the first 8,000 characters).
    pub stderr: String,
}

/// Why no result came back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RunCommandError {
    /// `SendCommand` failed (not a managed instance, access denied, …).
    #[error("ssm:SendCommand to `{instance}` failed: {}", .failure.message)]
    Send {
        /// The instance.
        instance: String,
        /// The API failure.
        failure: CallFailure,
    },
    /// `GetCommandInvocation` failed.
    #[error("ssm:GetCommandInvocation `{command_id}` failed: {}", .failure.message)]
    Poll {
        /// The command.
        command_id: String,
        /// The API failure.
        failure: CallFailure,
    },
    /// The invocation did not end in time (it may still run on the host).
    #[error("command `{command_id}` on `{instance}` did not finish within {seconds} s")]
    TimedOut {
        /// The command.
        command_id: String,
        /// The instance.
        instance: String,
        /// The wait, in seconds.
        seconds: u64,
    },
}

fn finished(status: &CommandInvocationStatus) -> bool {
    !matches!(
        status,
        CommandInvocationStatus::Pending
            | CommandInvocationStatus::InProgress
            | CommandInvocationStatus::Delayed
            | CommandInvocationStatus::Cancelling
    )
}

/// Sends `request` in `region` and polls every `poll_every` until the
/// invocation ends or `wait` has passed.
pub async fn run_command(
    access: &AwsAccess,
    region: &str,
    request: &CommandRequest,
    wait: Duration,
    poll_every: Duration,
) -> Result<CommandResult, RunCommandError> {
    let ssm = access.ssm(region);
    let timeout = i32::try_from(request.execution_timeout.as_secs().max(30)).unwrap_or(i32::MAX);
    let sent = ssm
        .send_command()
        .document_name(&request.document)
        .instance_ids(&request.instance_id)
        .parameters("commands", request.commands.clone())
        .parameters("executionTimeout", vec![timeout.to_string()])
        .timeout_seconds(timeout.max(30))
        .comment(&request.comment)
        .send()
        .await
        .map_err(|e| RunCommandError::Send {
            instance: request.instance_id.clone(),
            failure: classify(&e),
        })?;
    let command_id = sent
        .command()
        .and_then(|c| c.command_id())
        .unwrap_or_default()
        .to_owned();
    let started = Instant::now();
    loop {
        tokio::time::sleep(poll_every).await;
        match ssm
            .get_command_invocation()
            .command_id(&command_id)
            .instance_id(&request.instance_id)
            .send()
            .await
        {
            Ok(out) => {
                if let Some(status) = out.status()
                    && finished(status)
                {
                    return Ok(CommandResult {
                        command_id,
                        status: status.as_str().to_owned(),
                        response_code: out.response_code(),
                        stdout: out.standard_output_content().unwrap_or_default().to_owned(),
                        stderr: out.standard_error_content().unwrap_or_default().to_owned(),
                    });
                }
            }
            Err(e) => {
                let failure = classify(&e);
                // Just sent: SSM may not know the invocation yet.
                if !failure.is_code("InvocationDoesNotExist") {
                    return Err(RunCommandError::Poll {
                        command_id,
                        failure,
                    });
                }
            }
        }
        if started.elapsed() >= wait {
            return Err(RunCommandError::TimedOut {
                command_id,
                instance: request.instance_id.clone(),
                seconds: wait.as_secs(),
            });
        }
    }
}

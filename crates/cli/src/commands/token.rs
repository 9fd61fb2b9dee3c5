//! `rampart token`: API tokens for `rampart serve`.

use std::io::Write;

use rampart_store::TokenRole;

use crate::args::{ListFormat, RoleArg, TokenArgs, TokenCommand};
use crate::commands::{open_existing_store, open_store};
use crate::exit::{CliError, Exit};
use crate::output::{rfc3339, table};

/// Creates, lists or revokes tokens.
pub fn run(args: &TokenArgs, out: &mut dyn Write) -> Result<Exit, CliError> {
    let text = match &args.command {
        TokenCommand::Create { store, role, name } => {
            let store = open_store(store)?;
            let role = match role {
                RoleArg::Reader => TokenRole::Reader,
                RoleArg::Admin => TokenRole::Admin,
            };
            let token = rampart_server::auth::create_token(&store, name, role)
                .map_err(|e| CliError::failure(format!("cannot create a token: {e}")))?;
            // The token alone on stdout (`T=$(rampart token create …)`);
            // what it is on stderr.
            let mut stderr = std::io::stderr().lock();
            let _ = writeln!(
                stderr,
                "Created {} token `{}` (id {}); it is shown once, below, and stored hashed.",
                role.as_str(),
                token.record.name,
                token.record.id,
            );
            format!("{}\n", token.secret)
        }
        TokenCommand::List { store, format } => {
            let tokens = open_existing_store(store)?.tokens()?;
            match format {
                ListFormat::Json => {
                    serde_json::to_string_pretty(&tokens).map_err(CliError::failure)? + "\n"
                }
                ListFormat::Table => {
                    let rows: Vec<Vec<String>> = tokens
                        .iter()
                        .map(|t| {
                            vec![
                                t.id.clone(),
                                t.name.clone(),
                                t.role.as_str().to_owned(),
                                rfc3339(t.created_at),
                                t.last_used.map_or_else(|| "never".to_owned(), rfc3339),
                            ]
                        })
                        .collect();
                    table(&["ID", "NAME", "ROLE", "CREATED", "LAST USED"], &rows)
                }
            }
        }
        TokenCommand::Revoke { store, id } => {
            if !open_existing_store(store)?.revoke_token(id)? {
                return Err(CliError::usage(format!(
                    "no token `{id}` (see `rampart token list`)"
                )));
            }
            format!("Revoked token {id}.\n")
        }
    };
    out.write_all(text.as_bytes()).map_err(CliError::failure)?;
    Ok(Exit::Ok)
}

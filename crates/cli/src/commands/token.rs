//! `rampart token`: API tokens for `rampart serve`.

use std::io::Write;

use rampart_store::TokenRole;

use crate::args::{ListFormat, RoleArg, TokenArgs, TokenCommand};
use crate::commands::open_store;
use crate::exit::{CliError, Exit};
use crate::output::table;

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
            format!(
                "Created {} token `{}` (id {}). It is shown once and stored hashed:\n{}\n",
                role.as_str(),
                token.record.name,
                token.record.id,
                token.secret
            )
        }
        TokenCommand::List { store, format } => {
            let tokens = open_store(store)?.tokens()?;
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
            if !open_store(store)?.revoke_token(id)? {
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

fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

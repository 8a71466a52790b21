//! The API token as the command line takes it: `--token-file`, else
//! `WOLKVOX_TOKEN`; never a plain value on the command line. The checks of
//! what either holds are [`Token`]'s.

use std::path::Path;
use wolkvox_import::crm::Token;
use wolkvox_import::tr;

/// The token: `--token-file`, else `WOLKVOX_TOKEN`.
pub fn token(token_file: Option<&Path>) -> Result<Token, String> {
    let from_env = Token::from_env();
    match token_file {
        Some(path) => {
            // Whatever the variable holds, it is not used: say so.
            if !matches!(from_env, Ok(None)) {
                tracing::warn!("{}", tr!("token-both", path = path.display().to_string()));
            }
            Token::from_file(path)
        }
        None => from_env?.ok_or_else(|| tr!("no-token")),
    }
}

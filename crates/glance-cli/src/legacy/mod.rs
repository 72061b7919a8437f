//! The seeds' commands (Diablo's `glance`), on the v1 API through `glance-client`.

pub mod format;
mod images;

pub(crate) use images::stdin_data;
mod listing;
mod members;

use std::io::{BufRead, Write};

use glance_client::{ClientError, GlanceClient};

use crate::options::Options;

pub const SUCCESS: i32 = 0;
pub const FAILURE: i32 = 1;

/// What every command works with: the options, the client and the terminal.
pub struct Session {
    pub options: Options,
    pub client: GlanceClient,
}

impl Session {
    pub fn say(&self, text: &str) {
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
    }

    pub fn line(&self, text: &str) {
        self.say(&format!("{text}\n"));
    }

    /// Python's `user_confirm`: `prompt [Y/n] ` or `[y/N] `; an empty answer is the
    /// default, `y` or `yes` is yes, anything else (end of input too) is no.
    pub fn confirm(&self, prompt: &str, default: bool) -> bool {
        self.say(&format!(
            "{prompt} {} ",
            if default { "[Y/n]" } else { "[y/N]" }
        ));
        let mut answer = String::new();
        match std::io::stdin().lock().read_line(&mut answer) {
            Ok(0) | Err(_) => false,
            Ok(_) => match answer.trim().to_ascii_lowercase().as_str() {
                "" => default,
                "y" | "yes" => true,
                _ => false,
            },
        }
    }

    /// The lines the seeds print for an error after "Got error:".
    pub fn error_lines(&self, e: &ClientError) -> String {
        match e {
            ClientError::Connection { reason, .. } => {
                format!("Unable to connect to server. Got error: {reason}")
            }
            ClientError::Http { message, .. } => message.clone(),
            other => other.to_string(),
        }
    }

    /// `catch_error(action)`: the seeds' report of a failed listing or member call.
    pub fn failed(&self, action: &str, e: &ClientError) -> i32 {
        if matches!(e.status(), Some(401 | 403)) {
            self.line(
                "Not authorized to make this request. Check your credentials (OS_AUTH_USER, OS_AUTH_KEY, ...).",
            );
        } else {
            self.line(&format!("Failed to {action}. Got error:"));
            self.line(&self.error_lines(e));
        }
        FAILURE
    }
}

/// Runs a seeds' command; None when `name` is not one.
pub async fn run(session: &Session, name: &str, args: Vec<String>) -> Option<i32> {
    Some(match name {
        "add" => images::add(session, args).await,
        "update" => images::update(session, args).await,
        "delete" => images::delete(session, args).await,
        "show" => images::show(session, args).await,
        "clear" => images::clear(session).await,
        "index" => listing::index(session, args).await,
        "details" => listing::details(session, args).await,
        "image-members" => members::image_members(session, args).await,
        "member-images" => members::member_images(session, args).await,
        "member-add" => members::member_add(session, args).await,
        "member-delete" => members::member_delete(session, args).await,
        "members-replace" => members::members_replace(session, args).await,
        _ => return None,
    })
}

/// `field=value` arguments: keys lower-cased with `-` as `_`; an argument that is not
/// exactly one `field=value` pair is refused with the seeds' message.
pub fn fields_from_args(args: &[String]) -> Result<Vec<(String, String)>, String> {
    let mut fields: Vec<(String, String)> = Vec::new();
    for arg in args {
        let pieces: Vec<&str> = arg.trim_matches(',').split('=').collect();
        if pieces.len() != 2 {
            return Err(format!(
                "Arguments should be in the form of field=value. You specified {arg}."
            ));
        }
        let key = pieces[0].to_lowercase().replace('-', "_");
        fields.retain(|(k, _)| *k != key);
        fields.push((key, pieces[1].to_string()));
    }
    Ok(fields)
}

/// The seeds' `bool_from_string`: only `true`, `on` and `1` are true.
pub fn seeds_bool(value: &str) -> bool {
    matches!(value.trim().to_lowercase().as_str(), "true" | "on" | "1")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_arguments_follow_the_seeds() {
        let args: Vec<String> = ["Name=x", "Disk-Format=raw,", "name=y"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            fields_from_args(&args).unwrap(),
            [
                ("disk_format".to_string(), "raw".to_string()),
                ("name".to_string(), "y".to_string())
            ]
        );
        let bad = vec!["a=b=c".to_string()];
        assert_eq!(
            fields_from_args(&bad).unwrap_err(),
            "Arguments should be in the form of field=value. You specified a=b=c."
        );
        assert!(seeds_bool(" True ") && seeds_bool("on") && !seeds_bool("yes"));
    }
}
